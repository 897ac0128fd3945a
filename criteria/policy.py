"""Policy files: a payer's coverage criteria as data, with an effective date.

A policy file (``criteria/policies/*.json``) names the drug, the codes, the
policy sentences it encodes, and for each criterion a rule from the small
vocabulary in :mod:`criteria.rules`.  The next payer or label change is a new
file, not new code.  Every file is validated against these models when it is
loaded; a malformed file raises :class:`PolicyError` naming the file and field.
"""

from __future__ import annotations

import json
import string
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from common.errors import NoPolicyForProduct, PolicyError, PolicyNotFound
from common.vocabulary import (
    check_target,
    check_therapy_class,
    lab_vocabulary,
    site_kinds,
    specialties,
    to_analyte_unit,
)

SCHEMA_VERSION = 2
TherapyClass = Annotated[str, AfterValidator(check_therapy_class)]
Target = Annotated[str, AfterValidator(check_target)]


def _check_analyte(value: str) -> str:
    if lab_vocabulary().analyte(value) is None:
        known = ", ".join(a.analyte for a in lab_vocabulary().analytes)
        raise ValueError(f"unknown lab analyte {value!r}; known: {known}")
    return value


def _check_site(value: str) -> str:
    if value not in site_kinds():
        raise ValueError(f"unknown disease site {value!r}; known: {', '.join(sorted(site_kinds()))}")
    return value


def _check_specialty(value: str) -> str:
    if value not in specialties():
        raise ValueError(f"unknown specialty {value!r}; known: {', '.join(specialties())}")
    return value


Analyte = Annotated[str, AfterValidator(_check_analyte)]
Site = Annotated[str, AfterValidator(_check_site)]
Specialty = Annotated[str, AfterValidator(_check_specialty)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _check_template(template: str, allowed: set[str], field: str) -> None:
    try:
        names = _placeholders(template)
    except ValueError as err:  # unbalanced braces
        raise ValueError(f"{field}: {err}") from None
    unknown = names - allowed
    if unknown:
        raise ValueError(
            f"{field} uses unknown placeholder(s) {sorted(unknown)}; allowed: {sorted(allowed) or 'none'}"
        )


# --------------------------------------------------------------------------- rules
# The rule vocabulary.  Each rule says what the facts must show; its
# semantics (met / not_met / not_documented) live in criteria/rules.py.


class MinAge(_Frozen):
    rule: Literal["min_age"]
    years: int = Field(ge=0, le=130)


class DiagnosisIs(_Frozen):
    """The policy's disease (``Policy.disease``) with a status the policy accepts."""

    rule: Literal["diagnosis_is"]
    status_any: tuple[str, ...] = Field(min_length=1)  # disease statuses that satisfy the policy
    status_label: str = Field(min_length=1)  # "relapsed or refractory", for messages
    icd10_any: tuple[str, ...] = ()  # codes that carry the status themselves (C90.02: in relapse)
    status_request: str = Field(min_length=1)  # asked for when the diagnosis is there but not its status


class MinPriorLines(_Frozen):
    rule: Literal["min_prior_lines"]
    count: int = Field(ge=1, le=20)


class ClassExposure(_Frozen):
    rule: Literal["class_exposure"]
    therapy_class: TherapyClass
    label: str = Field(min_length=1)  # "an immunomodulatory agent"


class NoPriorTherapy(_Frozen):
    """No prior therapy of any of several classes or directed against any of several targets:
    "no prior CAR-T" (class car_t), "no prior anti-BCMA therapy" (target BCMA: an ADC,
    bispecifics and CAR-T alike)."""

    rule: Literal["no_prior_therapy"]
    therapy_classes: tuple[TherapyClass, ...] = ()
    targets: tuple[Target, ...] = ()
    label: str = Field(min_length=1)  # "CAR-T therapy", "anti-BCMA targeted therapy"
    include_trials: bool = True
    # The ingredients that stand for a class as a whole ("car-t cell therapy"): only their
    # denial says "none of the class".  "Has not received Abecma" leaves Carvykti open.
    # A target is denied as a whole by a target statement ("no prior BCMA-directed therapy").
    class_ingredients: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _something(self) -> NoPriorTherapy:
        if not self.therapy_classes and not self.targets:
            raise ValueError("no_prior_therapy needs therapy_classes, targets or both")
        return self


class LinesHaveDates(_Frozen):
    rule: Literal["lines_have_dates"]
    require: Literal["start"] = "start"
    per_line_request: str = Field(min_length=1)
    unlisted_lines_request: str = Field(min_length=1)
    # a drug the documentation names as received but places in no line of therapy
    unplaced_request: str = Field(
        default="The line of therapy and the dates of {drugs}, named as received but in no listed line",
        min_length=1,
    )

    @model_validator(mode="after")
    def _templates(self) -> LinesHaveDates:
        _check_template(self.per_line_request, {"what", "ordinal", "number", "drugs"}, "per_line_request")
        _check_template(self.unlisted_lines_request, {"stated", "listed"}, "unlisted_lines_request")
        _check_template(self.unplaced_request, {"drugs"}, "unplaced_request")
        return self


class LabThreshold(_Frozen):
    """A lab value at or above a threshold, collected within a window before the request."""

    rule: Literal["lab_threshold"]
    analyte: Analyte
    at_least: float = Field(ge=0)
    unit: str = Field(min_length=1)  # the threshold's unit, one the analyte converts from
    within_days: int = Field(ge=1, le=3650)
    label: str = Field(min_length=1)  # "serum M-protein of at least 1 g/dL"

    @model_validator(mode="after")
    def _unit(self) -> LabThreshold:
        if to_analyte_unit(self.analyte, self.at_least, self.unit) is None:
            row = lab_vocabulary().analyte(self.analyte)
            known = ", ".join(row.units) if row else ""
            raise ValueError(f"unit {self.unit!r} is not a unit of {self.analyte} (known: {known or 'none'})")
        return self

    @property
    def threshold(self) -> float:
        """The threshold in the analyte's own unit."""
        value = to_analyte_unit(self.analyte, self.at_least, self.unit)
        assert value is not None  # checked when loaded
        return value


class LabAbnormal(_Frozen):
    """A lab value outside its reference range (the lab's own flag or printed range first),
    collected within a window before the request: "provided the FLC ratio is abnormal"."""

    rule: Literal["lab_abnormal"]
    analyte: Analyte
    within_days: int = Field(ge=1, le=3650)
    label: str = Field(min_length=1)
    # Used when the lab prints neither a flag nor a range; default: the lexicon's range.
    reference_low: float | None = None
    reference_high: float | None = None

    @model_validator(mode="after")
    def _range(self) -> LabAbnormal:
        row = lab_vocabulary().analyte(self.analyte)
        low = self.reference_low if self.reference_low is not None else (row.reference_low if row else None)
        high = (
            self.reference_high if self.reference_high is not None else (row.reference_high if row else None)
        )
        if low is None or high is None:
            raise ValueError(f"{self.analyte} has no reference range in lexicons/labs.json: give one")
        if low >= high:
            raise ValueError("reference_low must be under reference_high")
        return self


class ProgressionAfterLastDose(_Frozen):
    """Progressive disease assessed within a window after the last dose of the last regimen
    (or on it): the IMWG definition of refractory disease."""

    rule: Literal["progression_after_last_dose"]
    within_days: int = Field(ge=1, le=3650)
    label: str = Field(min_length=1)


class SiteAbsent(_Frozen):
    """No disease at a site (lexicons/sites.json), usually stated as a negative."""

    rule: Literal["site_absent"]
    site: Site
    kinds: tuple[str, ...] = Field(min_length=1)  # kinds of finding that count as the site's disease
    # kinds whose denial shows the site free ("no CNS involvement"); a denied seizure alone does not
    negative_kinds: tuple[str, ...] = Field(min_length=1)
    label: str = Field(min_length=1)  # "CNS involvement"

    @model_validator(mode="after")
    def _kinds(self) -> SiteAbsent:
        known = site_kinds().get(self.site, frozenset())
        unknown = sorted((set(self.kinds) | set(self.negative_kinds)) - known)
        if unknown:
            raise ValueError(f"unknown kind(s) {unknown} for site {self.site!r}; known: {sorted(known)}")
        if not set(self.negative_kinds) <= set(self.kinds):
            raise ValueError("negative_kinds must be among kinds")
        return self


class PrescriberSpecialty(_Frozen):
    """Prescribed by, or in consultation with, a physician of one of the specialties."""

    rule: Literal["prescriber_specialty"]
    specialties_any: tuple[Specialty, ...] = Field(min_length=1)
    label: str = Field(min_length=1)  # "an oncologist or a hematologist"
    consultation: bool = True  # "or in consultation with" counts


class AnyOf(_Frozen):
    """Met when any of the rules is met; not met only when every one is not met."""

    rule: Literal["any_of"]
    label: str = Field(min_length=1)
    rules: tuple[Rule, ...] = Field(min_length=2)


class AllOf(_Frozen):
    """Met when every rule is met; not met when any is not met."""

    rule: Literal["all_of"]
    label: str = Field(min_length=1)
    rules: tuple[Rule, ...] = Field(min_length=2)


Rule = Annotated[
    MinAge
    | DiagnosisIs
    | MinPriorLines
    | ClassExposure
    | NoPriorTherapy
    | LinesHaveDates
    | LabThreshold
    | LabAbnormal
    | ProgressionAfterLastDose
    | SiteAbsent
    | PrescriberSpecialty
    | AnyOf
    | AllOf,
    Field(discriminator="rule"),
]
AnyOf.model_rebuild()
AllOf.model_rebuild()

# Placeholders a criterion's missing_request may use, by rule: the rule's own parameters.
_REQUEST_PLACEHOLDERS: dict[str, set[str]] = {
    "min_age": {"years"},
    "diagnosis_is": set(),
    "min_prior_lines": {"count"},
    "class_exposure": {"label"},
    "no_prior_therapy": {"label"},
    "lines_have_dates": set(),
    "lab_threshold": {"label", "within_days"},
    "lab_abnormal": {"label", "within_days"},
    "progression_after_last_dose": {"label", "within_days"},
    "site_absent": {"label"},
    "prescriber_specialty": {"label"},
    "any_of": {"label"},
    "all_of": {"label"},
}


def walk_rules(rule: Rule) -> list[Rule]:
    """The rule and every rule inside it (any_of, all_of), depth first."""
    out: list[Rule] = [rule]
    if isinstance(rule, AnyOf | AllOf):
        for child in rule.rules:
            out.extend(walk_rules(child))
    return out


# --------------------------------------------------------------------------- policy


class Criterion(_Frozen):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1)  # short, for the summary: "Age 18 or older"
    policy_text: str = Field(min_length=1)  # the policy sentence it comes from, quoted
    rule: Rule
    missing_request: str = Field(min_length=1)  # plain-language request to the provider

    @model_validator(mode="after")
    def _template(self) -> Criterion:
        _check_template(self.missing_request, _REQUEST_PLACEHOLDERS[self.rule.rule], "missing_request")
        return self


class Informational(_Frozen):
    """A fact the policy mentions that is reported but does not decide coverage."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    finding_key: str = Field(min_length=1)  # ClinicalFacts.findings[].key
    label: str = Field(min_length=1)
    policy_text: str = Field(min_length=1)


class Limitation(_Frozen):
    """A limit on what may be authorised.

    Checked in one of two ways, or only shown to the reviewer: a criterion that
    carries it (a prior CAR-T of any kind), or a finding whose presence in the
    documentation conflicts with it (a request for a second infusion).
    """

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    policy_text: str = Field(min_length=1)
    enforced_by: str | None = None  # criterion id that carries it, if any
    conflict_finding: str | None = None  # ClinicalFacts.findings[].key that conflicts with it
    conflict_label: str | None = None  # what that finding is, for the reviewer

    @model_validator(mode="after")
    def _one_check(self) -> Limitation:
        if self.enforced_by and self.conflict_finding:
            raise ValueError(f"limitations.{self.id}: give enforced_by or conflict_finding, not both")
        if bool(self.conflict_finding) != bool(self.conflict_label):
            raise ValueError(f"limitations.{self.id}: conflict_finding and conflict_label go together")
        return self


class Drug(_Frozen):
    generic: str = Field(min_length=1)
    brand: str = Field(min_length=1)


class BillingCode(_Frozen):
    system: Literal["HCPCS", "CPT"]
    code: str = Field(min_length=1)
    # Match a claim line on the code and these words, not on the descriptor's
    # cell count (the Q2055 descriptor changed from 460 to 510 million).
    match_terms: tuple[str, ...] = Field(min_length=1)
    descriptor: str = ""


class Provenance(_Frozen):
    kind: Literal["payer_guideline", "fda_label"]
    file: str | None = None  # the source text this was transcribed from, if we hold it
    url: str | None = None  # where the payer publishes it
    note: str = Field(min_length=1)


class OtherDiseaseLines(_Frozen):
    """What marks a line of therapy as treating another disease than the policy's: a drug
    never given for it (rituximab in a lymphoma's R-CHOP), by name, or an agent all of whose
    targets are never the disease's (a CD19 CAR-T for a lymphoma)."""

    ingredients_any: tuple[str, ...] = ()
    targets_any: tuple[Target, ...] = ()


class Disease(_Frozen):
    concept: str = Field(min_length=1)  # a diagnosis concept of lexicons/diagnoses.json
    label: str = Field(min_length=1)  # "multiple myeloma", for messages
    other_disease_lines: OtherDiseaseLines = OtherDiseaseLines()


class Policy(_Frozen):
    schema_version: Literal[2]
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    title: str = Field(min_length=1)
    payer: str = Field(min_length=1)
    plans: tuple[str, ...] = Field(min_length=1)
    drug: Drug
    disease: Disease
    effective: date  # the first day this file's rules apply to a date of service
    revision_date: date | None = None  # as the payer prints it
    superseded_on: date | None = None  # first day another version applies, when known
    codes: tuple[BillingCode, ...] = Field(min_length=1)
    provenance: Provenance
    # Where this file departs from a summary it was built from, or reads the source a
    # particular way: said here, so a reviewer can check it.
    notes: tuple[str, ...] = ()
    criteria: tuple[Criterion, ...] = Field(min_length=1)
    informational: tuple[Informational, ...] = ()
    limitations: tuple[Limitation, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        ids = [c.id for c in self.criteria]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"criteria: duplicate id(s) {dupes}")
        for lim in self.limitations:
            if lim.enforced_by is not None and lim.enforced_by not in ids:
                raise ValueError(
                    f"limitations.{lim.id}.enforced_by names unknown criterion {lim.enforced_by!r}"
                )
        if self.superseded_on is not None and self.superseded_on <= self.effective:
            raise ValueError("superseded_on must be after effective")
        return self

    def in_force_on(self, day: date) -> bool:
        return self.effective <= day and (self.superseded_on is None or day < self.superseded_on)

    def all_rules(self) -> list[Rule]:
        return [r for c in self.criteria for r in walk_rules(c.rule)]

    def covers(self, product: str | None, hcpcs: str | None) -> bool:
        """Is this the policy for the requested product (by name) or its billing code?"""
        if product is not None:
            wanted = product.strip().lower()
            if wanted in (self.drug.generic.lower(), self.drug.brand.lower()):
                return True
        if hcpcs is not None:
            return any(c.code.upper() == hcpcs.strip().upper() for c in self.codes)
        return False


# --------------------------------------------------------------------------- loading


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def load_policy(path: Path | str) -> Policy:
    """Read and validate one policy file; a malformed file raises PolicyError naming file and field."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise PolicyError(f"policy file {path}: cannot be read ({err})") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        raise PolicyError(
            f"policy file {path}: not valid JSON at line {err.lineno} column {err.colno} ({err.msg})"
        ) from None
    if not isinstance(data, dict):
        raise PolicyError(f"policy file {path}: the top level must be a JSON object")
    try:
        return Policy.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        more = f" (and {err.error_count() - 1} more problem(s))" if err.error_count() > 1 else ""
        raise PolicyError(
            f"policy file {path}: field {_field_path(first['loc'])}: {first['msg']}{more}"
        ) from None


def _bundled_files() -> list[Path]:
    folder = resources.files("criteria") / "policies"
    return sorted(Path(str(f)) for f in folder.iterdir() if f.name.endswith(".json"))


def _folder_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise PolicyError(f"policy folder {folder}: not a folder that can be read")
    return sorted(f for f in folder.iterdir() if f.suffix == ".json")


def _load_files(files: list[Path]) -> list[Policy]:
    out: list[Policy] = []
    for f in files:
        policy = load_policy(f)
        if policy.id != f.stem:
            raise PolicyError(f"policy file {f}: the file must be named for its id ({policy.id}.json)")
        out.append(policy)
    return out


@lru_cache(maxsize=8)
def load_policies(folders: tuple[Path, ...] = ()) -> tuple[Policy, ...]:
    """The bundled policies and those of each extra folder (``INTAKE_POLICY_DIRS``).

    A new payer, drug or label change is a file: dropped in a folder, it is read with
    the same schema and chosen by the same rules as the bundled ones.
    """
    files = _bundled_files() + [f for folder in folders for f in _folder_files(Path(folder))]
    policies = tuple(_load_files(files))
    ids = [p.id for p in policies]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        where = ", ".join(["criteria/policies", *(str(f) for f in folders)])
        raise PolicyError(f"policy folders ({where}): duplicate policy id(s) {dupes}")
    return policies


def _bundled() -> tuple[Policy, ...]:
    return load_policies(())


def list_policies(folders: tuple[Path, ...] = ()) -> list[Policy]:
    """Every policy known, oldest effective date first."""
    return sorted(load_policies(folders), key=lambda p: (p.effective, p.id))


def get_policy(policy_id: str, folders: tuple[Path, ...] = ()) -> Policy:
    for p in load_policies(folders):
        if p.id == policy_id:
            return p
    known = ", ".join(p.id for p in list_policies(folders))
    raise PolicyNotFound(f"no policy with id {policy_id!r}; known: {known}")


def parse_partial_date(value: str | None) -> date | None:
    """First day of a partial ISO date ("2024", "2024-03", "2024-03-15"); None if absent or unreadable."""
    if not value:
        return None
    parts = value.strip().split("-")
    try:
        if len(parts) == 1:
            return date(int(parts[0]), 1, 1)
        if len(parts) == 2:
            return date(int(parts[0]), int(parts[1]), 1)
        if len(parts) == 3:
            return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None
    return None


def choose_policy(policies: list[Policy], date_of_service: str | None) -> Policy:
    """The version in force on the date of service, among the versions of one product.

    A partial date is read as its first day.  No (or an unreadable) date gives
    the newest version.  A date no version covers (before the first, or in a
    gap between a superseded version and the next file we hold) gives the
    nearest later version: it is the text that replaced the rules of that day.
    Two payers' files in force on the same day are not chosen between silently.
    """
    if not policies:
        raise PolicyNotFound("no policy files found in criteria/policies")
    by_date = sorted(policies, key=lambda p: (p.effective, p.id))
    day = parse_partial_date(date_of_service)
    if day is None:
        return by_date[-1]
    in_force = [p for p in by_date if p.in_force_on(day)]
    payers = sorted({p.payer for p in in_force})
    if len(payers) > 1:
        raise PolicyError(
            f"policies of several payers ({', '.join(payers)}) are in force on {day.isoformat()} for the "
            f"same product: {', '.join(p.id for p in in_force)}. Run with one payer's policy folder, "
            "or name the policy with --policy."
        )
    if in_force:
        return in_force[-1]
    later = [p for p in by_date if p.effective > day]
    return later[0] if later else by_date[-1]


def select_policy(
    *,
    policy_id: str | None,
    date_of_service: str | None,
    product: str | None = None,
    hcpcs: str | None = None,
    folders: tuple[Path, ...] = (),
) -> Policy:
    """An explicit id wins; else the policy for the requested product (by name or billing
    code) in force on the date of service.  A product no policy covers raises
    :class:`NoPolicyForProduct`: nothing is evaluated under another drug's policy."""
    if policy_id is not None:
        return get_policy(policy_id, folders)
    candidates = [p for p in load_policies(folders) if p.covers(product, hcpcs)]
    if not candidates:
        what = " / ".join(x for x in (product, f"HCPCS {hcpcs}" if hcpcs else None) if x) or "no product"
        raise NoPolicyForProduct(f"no policy on file for the requested product ({what})")
    return choose_policy(candidates, date_of_service)
