"""Vocabularies shared by the extractors and the criteria, read from ``lexicons/``.

Shared so that a policy file is checked against the same ids the extractors emit: every
drug's class and every policy rule's class must be a class of the lexicon, a policy's
target an antigen some drug or product is directed against, a lab threshold an analyte
and unit the lab reader knows.  Neither package names a class, a target or an analyte
in code: a new one is a new row, not new code.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.errors import LexiconError


def _read(filename: str) -> dict[str, Any]:
    try:
        raw = json.loads(resources.files("lexicons").joinpath(filename).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise LexiconError(f"lexicons/{filename}: cannot be read ({exc})") from exc
    if not isinstance(raw, dict):
        raise LexiconError(f"lexicons/{filename}: the top level must be a JSON object")
    return raw


@lru_cache(maxsize=1)
def therapy_classes() -> dict[str, str]:
    """Class id -> label, in the file's order."""
    try:
        rows = _read("therapy_classes.json")["rows"]
        return {str(row["id"]): str(row["label"]) for row in rows}
    except (KeyError, TypeError) as exc:
        raise LexiconError(
            f"lexicons/therapy_classes.json: cannot be read as a list of classes ({exc})"
        ) from exc


def check_therapy_class(value: str) -> str:
    """A pydantic validator: the value must be a class id of the lexicon."""
    if value not in therapy_classes():
        known = ", ".join(therapy_classes())
        raise ValueError(f"unknown therapy class {value!r}; known: {known}")
    return value


@lru_cache(maxsize=1)
def known_targets() -> frozenset[str]:
    """Antigens some drug (drugs.json ``targets``) or CAR-T product (car_t.json ``target``,
    "BCMA/CD19" for a dual-target product) is directed against."""
    found: set[str] = set()
    for row in _read("drugs.json").get("rows", []):
        found.update(str(t) for t in row.get("targets", []))
    for row in _read("car_t.json").get("products", []):
        found.update(t for t in str(row.get("target") or "").split("/") if t)
    return frozenset(found)


def check_target(value: str) -> str:
    if value not in known_targets():
        raise ValueError(f"unknown target {value!r}; known: {', '.join(sorted(known_targets()))}")
    return value


# --------------------------------------------------------------------------- labs


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LabName(_Row):
    text: str = Field(min_length=1)
    # A bare name ("kappa", "SPEP") is taken only with a unit of its analyte beside the
    # value: "IgG kappa 2.1" is not a free light chain.
    bare: bool = False
    case_sensitive: bool = False


class LabAnalyte(_Row):
    analyte: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1)
    # The unit thresholds compare in; None for a ratio.
    unit: str | None
    # Written unit -> factor to the analyte's unit (1 g/dL = 1000 mg/dL: "mg/dL": 0.001).
    units: dict[str, float] = {}
    # Analytes of one family share names ("M-spike"): the written unit decides which.
    family: str | None = None
    names: tuple[LabName, ...] = Field(min_length=1)
    reference_low: float | None = None  # the usual reference range, when the lab prints none
    reference_high: float | None = None
    source: str = Field(min_length=2)


class LabVocabulary(_Row):
    analytes: tuple[LabAnalyte, ...]
    # Canonical unit -> how it is written ("g/dL": ["g/dL", "g/dl", "gm/dL"]).
    unit_spellings: dict[str, tuple[str, ...]]
    value_fillers: tuple[str, ...] = ()
    specimen_words: dict[str, tuple[str, ...]] = {}
    # words in brackets after a name that qualify it ("M-protein (24 h)", "kappa (serum)")
    name_qualifiers: tuple[str, ...] = ()
    not_detected: tuple[str, ...] = ()
    date_labels: tuple[str, ...] = ()
    report_date_labels: tuple[str, ...] = ()  # of date_labels: when the report was issued
    visit_date_labels: tuple[str, ...] = ()

    def analyte(self, analyte: str) -> LabAnalyte | None:
        return next((a for a in self.analytes if a.analyte == analyte), None)


@lru_cache(maxsize=1)
def lab_vocabulary() -> LabVocabulary:
    raw = _read("labs.json")
    try:
        vocab = LabVocabulary.model_validate(
            {
                "analytes": raw.get("rows"),
                **{k: raw[k] for k in LabVocabulary.model_fields if k != "analytes" and k in raw},
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise LexiconError(f"lexicons/labs.json: {where}: {first['msg']}") from exc
    for a in vocab.analytes:
        unknown = set(a.units) - set(vocab.unit_spellings)
        if unknown:
            raise LexiconError(
                f"lexicons/labs.json: {a.analyte} converts from unit(s) {sorted(unknown)} "
                "that unit_spellings does not list"
            )
    return vocab


def to_analyte_unit(analyte: str, value: float, unit: str) -> float | None:
    """The value in the analyte's own unit; None when the unit is not one of its units."""
    row = lab_vocabulary().analyte(analyte)
    if row is None or unit not in row.units:
        return None
    return value * row.units[unit]


# --------------------------------------------------------------------------- sites, specialties


@lru_cache(maxsize=1)
def site_kinds() -> dict[str, frozenset[str]]:
    """Disease site -> the kinds of finding the lexicon knows for it (``sites.json``)."""
    out: dict[str, set[str]] = {}
    for row in _read("sites.json").get("rows", []):
        out.setdefault(str(row["site"]), set()).add(str(row["kind"]))
    return {k: frozenset(v) for k, v in out.items()}


@lru_cache(maxsize=1)
def specialties() -> dict[str, str]:
    """Specialty id -> label (``specialties.json``)."""
    return {str(r["id"]): str(r["label"]) for r in _read("specialties.json").get("rows", [])}
