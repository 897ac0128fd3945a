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

from common.errors import PolicyError, PolicyNotFound
from common.vocabulary import check_therapy_class

SCHEMA_VERSION = 1
TherapyClass = Annotated[str, AfterValidator(check_therapy_class)]


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
    rule: Literal["diagnosis_is"]
    concept: str = Field(min_length=1)
    label: str = Field(min_length=1)  # "multiple myeloma", for messages
    status_any: tuple[str, ...] = Field(min_length=1)  # disease statuses that satisfy the policy
    icd10_any: tuple[str, ...] = ()  # codes that carry the status themselves (C90.02: in relapse)
    status_request: str = Field(min_length=1)  # asked for when the diagnosis is there but not its status


class MinPriorLines(_Frozen):
    rule: Literal["min_prior_lines"]
    count: int = Field(ge=1, le=20)


class ClassExposure(_Frozen):
    rule: Literal["class_exposure"]
    therapy_class: TherapyClass
    label: str = Field(min_length=1)  # "an immunomodulatory agent"


class NoPriorClass(_Frozen):
    rule: Literal["no_prior_class"]
    therapy_class: TherapyClass
    label: str = Field(min_length=1)  # "CAR-T therapy"
    include_trials: bool = True
    # The ingredient that stands for the class as a whole ("car-t cell therapy"): only its
    # denial says "none of the class".  "Has not received Abecma" leaves Carvykti open.
    # None: any denied therapy of the class counts.
    class_ingredient: str | None = None


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


Rule = Annotated[
    MinAge | DiagnosisIs | MinPriorLines | ClassExposure | NoPriorClass | LinesHaveDates,
    Field(discriminator="rule"),
]

# Placeholders a criterion's missing_request may use, by rule: the rule's own parameters.
_REQUEST_PLACEHOLDERS: dict[str, set[str]] = {
    "min_age": {"years"},
    "diagnosis_is": {"label"},
    "min_prior_lines": {"count"},
    "class_exposure": {"label"},
    "no_prior_class": {"label"},
    "lines_have_dates": set(),
}


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
    note: str = Field(min_length=1)


class Policy(_Frozen):
    schema_version: Literal[1]
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    title: str = Field(min_length=1)
    payer: str = Field(min_length=1)
    plans: tuple[str, ...] = Field(min_length=1)
    drug: Drug
    effective: date
    superseded_on: date | None = None  # first day another version applies, when known
    codes: tuple[BillingCode, ...] = Field(min_length=1)
    provenance: Provenance
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


@lru_cache(maxsize=1)
def _bundled() -> tuple[Policy, ...]:
    policies = tuple(load_policy(f) for f in _bundled_files())
    ids = [p.id for p in policies]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise PolicyError(f"policy folder criteria/policies: duplicate policy id(s) {dupes}")
    return policies


def list_policies() -> list[Policy]:
    """Every bundled policy, oldest effective date first."""
    return sorted(_bundled(), key=lambda p: (p.effective, p.id))


def get_policy(policy_id: str) -> Policy:
    for p in _bundled():
        if p.id == policy_id:
            return p
    known = ", ".join(p.id for p in list_policies())
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
    """The version in force on the date of service.

    A partial date is read as its first day.  No (or an unreadable) date gives
    the newest version.  A date no version covers (before the first, or in a
    gap between a superseded version and the next file we hold) gives the
    nearest later version: it is the text that replaced the rules of that day.
    """
    if not policies:
        raise PolicyNotFound("no policy files found in criteria/policies")
    by_date = sorted(policies, key=lambda p: (p.effective, p.id))
    day = parse_partial_date(date_of_service)
    if day is None:
        return by_date[-1]
    in_force = [p for p in by_date if p.in_force_on(day)]
    if in_force:
        return in_force[-1]
    later = [p for p in by_date if p.effective > day]
    return later[0] if later else by_date[-1]


def select_policy(*, policy_id: str | None, date_of_service: str | None, drug: str | None = None) -> Policy:
    """An explicit id wins; else the version in force on the date of service (for the drug, if given)."""
    if policy_id is not None:
        return get_policy(policy_id)
    candidates = list(_bundled())
    if drug is not None:
        wanted = drug.strip().lower()
        candidates = [p for p in candidates if wanted in (p.drug.generic.lower(), p.drug.brand.lower())]
        if not candidates:
            raise PolicyNotFound(f"no policy for the drug {drug!r}")
    return choose_policy(candidates, date_of_service)
