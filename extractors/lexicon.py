"""Schemas for the lexicon data files and their loaders.

Every file in ``lexicons/`` is checked against its schema when loaded; a malformed
row raises :class:`common.errors.LexiconError` naming the file and the row, so a
bad edit to the data fails loudly at start-up rather than silently matching less.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from common.errors import LexiconError
from common.vocabulary import check_therapy_class

PACKAGE = "lexicons"
KnownClass = Annotated[str, AfterValidator(check_therapy_class)]


class Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DrugRow(Row):
    ingredient: str = Field(min_length=2)
    therapy_class: KnownClass
    targets: list[str] = []
    supports: list[Literal["conditioning", "mobilization", "lymphodepletion"]] = []
    brands: list[str] = []
    synonyms: list[str] = []
    case_sensitive: list[str] = []
    rxnorm: str | None = None
    rxnorm_verified: bool = False
    atc: str | None = None
    role: Literal["systemic", "lymphodepletion"] = "systemic"
    maintenance_letters: list[str] = []
    misspellings: list[str] = []
    source: str = Field(min_length=2)


class CarTProduct(Row):
    ingredient: str
    brands: list[str]
    synonyms: list[str] = []
    trials: list[str] = []
    target: str
    hcpcs: str | None = None
    atc: str | None = None
    source: str = Field(min_length=2)


class CarTGeneric(Row):
    ingredient: str
    phrases: list[str]
    case_sensitive: list[str] = []
    # kinds of therapy CAR-T is one of ("cellular therapy"): denied, they deny CAR-T too;
    # said in any other way they say nothing of a CAR-T ("the cellular therapy team")
    wider_phrases: list[str] = []
    source: str = Field(min_length=2)


class RegimenRow(Row):
    names: list[str] = Field(min_length=1)
    components: list[str] = Field(min_length=1)
    verified: bool
    ambiguous: list[str] = []
    phase: str | None = None
    source: str = Field(min_length=2)


class ProcedureRow(Row):
    ingredient: str
    therapy_class: KnownClass
    phrases: list[str] = []
    case_sensitive: list[str] = []
    phase: str | None = None
    # the class's own name ("stem cell transplant", "BMT"): it says a transplant was had,
    # not which; a line holding an autologous or allogeneic one already holds it
    generic: bool = False
    source: str = Field(min_length=2)


class PhaseRow(Row):
    phase: str
    phrases: list[str]
    case_sensitive: list[str] = []
    joins_line: bool = False
    source: str = Field(min_length=2)


class DiagnosisRow(Row):
    concept: str
    is_target: bool
    phrases: list[str] = []
    case_sensitive: list[str] = []
    icd10: list[str] = []
    icd10_prefixes: list[str] = []
    implies_status: dict[str, str] = {}
    source: str = Field(min_length=2)


class StatusRow(Row):
    status: Literal[
        "relapsed", "refractory", "relapsed_refractory", "progressive", "remission", "response", "stable"
    ]
    phrases: list[str] = []
    case_sensitive: list[str] = []
    source: str = Field(min_length=2)


class ContextRuleRow(Row):
    literal: str = Field(min_length=1)
    category: Literal[
        "HYPOTHETICAL",
        "PLANNED",
        "REQUESTED",
        "RECOMMENDED",
        "DISCUSSED",
        "ELIGIBILITY",
        "COLLECTED_NOT_GIVEN",
        "LIMITED_SCOPE",
        "NEGATED_EXISTENCE",
        "FAMILY",
        "POSSIBLE_EXISTENCE",
        "TERMINATE",
    ]
    # PSEUDO: a longer phrase that holds a trigger ("no response to" holds "no") and
    # modifies nothing, so the shorter trigger does not fire inside it.
    direction: Literal["FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO"]
    max_scope: int | None = None
    # medspaCy's own rule fields: a token pattern (spaCy Matcher syntax) that matches the
    # modifier instead of the literal, and the entity labels it may modify ("allowed_types":
    # a plan's words modify therapies, not diagnoses) or not ("excluded_types").
    pattern: list[dict[str, Any]] | str | None = None
    allowed_types: list[str] | None = None
    excluded_types: list[str] | None = None
    # medspaCy's "terminated_by": the categories whose triggers end this rule's scope, as
    # TERMINATE does for all ("If it is denied, my recommendation would be Vd": the
    # recommendation opens a new statement, the denial does not reach past it).
    terminated_by: list[str] | None = None
    source: str = Field(min_length=2)


class ContextAssertion(Row):
    """A ConText category and the assertion it gives, for the kinds of mention it applies to."""

    category: str
    assertion: str
    kinds: list[Literal["therapy", "diagnosis", "status", "site", "target"]] = Field(min_length=1)
    # the category gives its assertion only beside this one: a denial limited to one place of
    # care ("none given during his care with us") is no denial of the whole history
    together_with: str | None = None


class SectionRow(Row):
    literal: str = Field(min_length=1)
    category: str
    # a token pattern (spaCy Matcher syntax) matched instead of the literal, as medspaCy's
    # SectionRule allows: a lead-in sentence that opens a list ("We discussed the options:")
    pattern: list[dict[str, Any]] | None = None
    source: str = Field(min_length=2)


class SectionAssertion(Row):
    category: str
    assertion: Literal["planned", "recommended", "discussed", "family", "negated", "uncertain"]
    unless_cues: list[str] = []
    applies_to: list[Literal["therapy", "diagnosis", "status"]]
    # Only on the header's own line ("Allergies: daratumumab"): the lines after an inline
    # list are usually something else, and medspaCy runs a section to the next header.
    same_line: bool = False
    inline_line_only: bool = False  # a title with content on its own line covers that line only
    # A lead-in sentence ("The board discussed options for relapse:") covers the list under
    # it: its items and their wrapped lines, not the prose after the list ends.
    list_only: bool = False


class FindingRow(Row):
    key: str
    patterns: list[str] = Field(min_length=1)
    negation: str | None = None
    source: str = Field(min_length=2)


class ClassRow(Row):
    id: str = Field(min_length=2)
    label: str = Field(min_length=2)
    phrases: list[str] = []
    case_sensitive: list[str] = []
    source: str = Field(min_length=2)


class CompositeRow(Row):
    phrases: list[str] = []
    case_sensitive: list[str] = []
    classes: list[str] = Field(min_length=2)
    verified: bool
    source: str = Field(min_length=2)


class SiteRow(Row):
    site: str = Field(min_length=1)
    kind: str = Field(min_length=1)
    phrases: list[str] = Field(min_length=1)
    case_sensitive: list[str] = Field(default_factory=list)
    source: str = Field(min_length=2)


class TargetRow(Row):
    target: str = Field(min_length=1)
    names: list[str] = Field(min_length=1)
    source: str = Field(min_length=2)


class KindWords(Row):
    """Words that name a kind of therapy across its classes ("bispecific antibody": BCMA and
    GPRC5D bispecifics alike); denied, they deny every class they name."""

    phrases: list[str] = Field(min_length=1)
    classes: list[KnownClass] = Field(min_length=1)
    source: str = Field(min_length=2)


class CueList(Row):
    id: str = Field(min_length=1)
    description: str = Field(min_length=1)
    terms: list[str] = []
    patterns: list[str] = []
    source: str = Field(min_length=2)


class Numbers(Row):
    ordinals: dict[str, int]
    cardinals: dict[str, int]
    vague_counts: list[str] = []


RowT = TypeVar("RowT", bound=Row)


def read_json(filename: str) -> dict[str, Any]:
    """Read one data file of the lexicons package; it works installed or from a checkout."""
    try:
        text = resources.files(PACKAGE).joinpath(filename).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError) as exc:
        raise LexiconError(f"lexicons/{filename}: cannot be read ({exc})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LexiconError(f"lexicons/{filename}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("version"), str):
        raise LexiconError(f"lexicons/{filename}: missing the top-level 'version' string")
    return data


def parse_rows(filename: str, rows: Any, model: type[RowT], key: str = "rows") -> list[RowT]:
    if not isinstance(rows, list):
        raise LexiconError(f"lexicons/{filename}: '{key}' must be a list of rows")
    parsed: list[RowT] = []
    for index, raw in enumerate(rows):
        try:
            parsed.append(model.model_validate(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            row = f"{key}[{index}] ({_row_name(raw)})"
            raise LexiconError(f"lexicons/{filename}: {row} is malformed: {where}: {first['msg']}") from exc
    return parsed


def _row_name(raw: Any) -> str:
    if isinstance(raw, dict):
        for field in ("ingredient", "concept", "status", "phase", "literal", "key", "names"):
            if field in raw:
                return f"{field}={raw[field]!r}"
    return "unnamed row"


def load_rows(filename: str, model: type[RowT], key: str = "rows") -> list[RowT]:
    return parse_rows(filename, read_json(filename).get(key), model, key)


class Lexicon(BaseModel):
    """Every data file, validated, in one object."""

    model_config = ConfigDict(frozen=True)

    drugs: list[DrugRow]
    car_t_products: list[CarTProduct]
    car_t_generic: CarTGeneric
    car_t_receipt_cues: list[str]
    car_t_non_receipt_cues: list[str]
    car_t_enrolment_cues: list[str] = []
    car_t_other_event_cues: list[str] = []
    car_t_collection_steps: list[str] = []
    car_t_infusion_objects: list[str] = []
    car_t_dated_infusion: list[str] = []
    car_t_population_cues: list[str]
    regimens: list[RegimenRow]
    procedures: list[ProcedureRow]
    phases: list[PhaseRow]
    diagnoses: list[DiagnosisRow]
    statuses: list[StatusRow]
    status_adjectives: list[str]
    myeloma_next_words: list[str]
    context_rules: list[ContextRuleRow]
    context_assertions: list[ContextAssertion]
    dropped_default_context_rules: list[str]
    sections: list[SectionRow]
    section_assertions: list[SectionAssertion]
    findings: list[FindingRow]
    sites: list[SiteRow] = []
    site_not_about_patient_cues: list[str] = []
    site_answer_labels: dict[str, list[str]] = {}
    site_study_labels: dict[str, list[str]] = {}
    targets: list[TargetRow] = []
    target_templates: list[str] = []
    target_naive_templates: list[str] = []
    target_kind_words: list[KindWords] = []
    cues: dict[str, CueList]
    numbers: Numbers
    therapy_classes: list[ClassRow]
    class_composites: list[CompositeRow]
    versions: dict[str, str]

    def drug(self, ingredient: str) -> DrugRow | None:
        return next((d for d in self.drugs if d.ingredient == ingredient), None)

    @property
    def generic_ingredients(self) -> frozenset[str]:
        """Names of a whole class ("CAR-T cell therapy", "stem cell transplant"): a mention
        of one says a therapy of the class was had, not which."""
        return frozenset(
            {self.car_t_generic.ingredient} | {p.ingredient for p in self.procedures if p.generic}
        )

    def cue(self, cue_id: str) -> CueList:
        try:
            return self.cues[cue_id]
        except KeyError:
            raise LexiconError(f"lexicons/cues.json: no cue list {cue_id!r}") from None


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    files = [
        "drugs.json",
        "car_t.json",
        "regimens.json",
        "procedures.json",
        "phases.json",
        "diagnoses.json",
        "disease_status.json",
        "context_rules.json",
        "sections.json",
        "findings.json",
        "sites.json",
        "targets.json",
        "cues.json",
        "therapy_classes.json",
        # read here for their versions; their own modules validate them (request, labs,
        # events, specialties)
        "request.json",
        "labs.json",
        "events.json",
        "specialties.json",
    ]
    raw = {name: read_json(name) for name in files}
    car_t = raw["car_t.json"]
    try:
        generic = CarTGeneric.model_validate(car_t.get("generic"))
    except ValidationError as exc:
        raise LexiconError(f"lexicons/car_t.json: 'generic' is malformed: {exc.errors()[0]['msg']}") from exc
    lexicon = Lexicon(
        drugs=parse_rows("drugs.json", raw["drugs.json"].get("rows"), DrugRow),
        car_t_products=parse_rows("car_t.json", car_t.get("products"), CarTProduct, "products"),
        car_t_generic=generic,
        car_t_receipt_cues=_string_list("car_t.json", car_t, "receipt_cues"),
        car_t_non_receipt_cues=_string_list("car_t.json", car_t, "non_receipt_cues"),
        car_t_enrolment_cues=_string_list("car_t.json", car_t, "enrolment_cues"),
        car_t_other_event_cues=_string_list("car_t.json", car_t, "other_event_cues"),
        car_t_collection_steps=_string_list("car_t.json", car_t, "collection_step_cues"),
        car_t_infusion_objects=_string_list("car_t.json", car_t, "infusion_objects"),
        car_t_dated_infusion=_string_list("car_t.json", car_t, "dated_infusion_cues"),
        car_t_population_cues=_string_list("car_t.json", car_t, "population_cues"),
        regimens=parse_rows("regimens.json", raw["regimens.json"].get("rows"), RegimenRow),
        procedures=parse_rows("procedures.json", raw["procedures.json"].get("rows"), ProcedureRow),
        phases=parse_rows("phases.json", raw["phases.json"].get("rows"), PhaseRow),
        diagnoses=parse_rows("diagnoses.json", raw["diagnoses.json"].get("rows"), DiagnosisRow),
        statuses=parse_rows("disease_status.json", raw["disease_status.json"].get("rows"), StatusRow),
        status_adjectives=_string_list(
            "disease_status.json", raw["disease_status.json"], "status_adjectives"
        ),
        myeloma_next_words=_string_list(
            "disease_status.json", raw["disease_status.json"], "myeloma_next_words"
        ),
        context_rules=parse_rows("context_rules.json", raw["context_rules.json"].get("rows"), ContextRuleRow),
        context_assertions=parse_rows(
            "context_rules.json", raw["context_rules.json"].get("assertions"), ContextAssertion, "assertions"
        ),
        dropped_default_context_rules=_string_list(
            "context_rules.json", raw["context_rules.json"], "drop_default_rules"
        ),
        sections=parse_rows("sections.json", raw["sections.json"].get("rows"), SectionRow),
        section_assertions=parse_rows(
            "sections.json",
            raw["sections.json"].get("section_assertions"),
            SectionAssertion,
            "section_assertions",
        ),
        findings=parse_rows("findings.json", raw["findings.json"].get("rows"), FindingRow),
        sites=parse_rows("sites.json", raw["sites.json"].get("rows"), SiteRow),
        site_not_about_patient_cues=_string_list("sites.json", raw["sites.json"], "not_about_patient_cues"),
        site_answer_labels=raw["sites.json"].get("answer_labels", {}),
        site_study_labels=raw["sites.json"].get("study_labels", {}),
        targets=parse_rows("targets.json", raw["targets.json"].get("rows"), TargetRow),
        target_templates=_string_list("targets.json", raw["targets.json"], "templates"),
        target_naive_templates=_string_list("targets.json", raw["targets.json"], "naive_templates"),
        target_kind_words=parse_rows(
            "targets.json", raw["targets.json"].get("kind_words"), KindWords, "kind_words"
        ),
        cues=_cue_lists(raw["cues.json"]),
        numbers=_numbers(raw["cues.json"]),
        therapy_classes=parse_rows("therapy_classes.json", raw["therapy_classes.json"].get("rows"), ClassRow),
        class_composites=parse_rows(
            "therapy_classes.json", raw["therapy_classes.json"].get("composites"), CompositeRow, "composites"
        ),
        versions={name: data["version"] for name, data in raw.items()},
    )
    _check_references(lexicon)
    return lexicon


def _cue_lists(data: dict[str, Any]) -> dict[str, CueList]:
    rows = parse_rows("cues.json", data.get("lists"), CueList, "lists")
    out: dict[str, CueList] = {}
    for index, row in enumerate(rows):
        if row.id in out:
            raise LexiconError(f"lexicons/cues.json: lists[{index}] repeats the id {row.id!r}")
        if not row.terms and not row.patterns:
            raise LexiconError(f"lexicons/cues.json: lists[{index}] ({row.id}) has no terms or patterns")
        for pattern in row.patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise LexiconError(
                    f"lexicons/cues.json: lists[{index}] ({row.id}) pattern {pattern!r}: {exc}"
                ) from exc
        out[row.id] = row
    return out


def _numbers(data: dict[str, Any]) -> Numbers:
    try:
        return Numbers.model_validate(data.get("numbers"))
    except ValidationError as exc:
        raise LexiconError(f"lexicons/cues.json: 'numbers' is malformed: {exc.errors()[0]['msg']}") from exc


def _string_list(filename: str, data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LexiconError(f"lexicons/{filename}: '{key}' must be a list of strings")
    return value


def _check_references(lexicon: Lexicon) -> None:
    """Regimen components must name a drug in drugs.json, or the expansion would invent one;
    ConText literals must be unique, as medspaCy keys its rules by literal (a second row
    with the same literal silently replaces the first)."""
    seen: dict[str, int] = {}
    for index, rule in enumerate(lexicon.context_rules):
        key = rule.literal.lower()
        if key in seen:
            raise LexiconError(
                f"lexicons/context_rules.json: rows[{index}] ({rule.literal!r}) repeats rows[{seen[key]}]; "
                "use one row with direction BIDIRECTIONAL"
            )
        seen[key] = index
    for site, studies in lexicon.site_study_labels.items():
        # a study label reads only where an answer label finds the answer
        unknown = sorted(set(studies) - set(lexicon.site_answer_labels.get(site, ())))
        if unknown:
            raise LexiconError(
                f"lexicons/sites.json: study_labels[{site!r}] names {unknown}, which are not among its"
                " answer_labels; add them there first"
            )
    classes = {row.id for row in lexicon.therapy_classes}
    for index, composite in enumerate(lexicon.class_composites):
        unknown = sorted(set(composite.classes) - classes)
        if unknown:
            raise LexiconError(
                f"lexicons/therapy_classes.json: composites[{index}] names unknown classes {unknown}"
            )
    known = {d.ingredient for d in lexicon.drugs}
    for index, regimen in enumerate(lexicon.regimens):
        for component in regimen.components:
            if component not in known:
                raise LexiconError(
                    f"lexicons/regimens.json: rows[{index}] ({regimen.names[0]}) names unknown "
                    f"component {component!r}; add it to drugs.json first"
                )
