"""Scoring lab values against ground truth: value, unit and collection date, all three.

The truth rows need only ``analyte`` (or ``test``), ``value``, ``unit`` and ``collected``
(or ``date``), attributes or keys, so a truth schema can carry them as it likes.  A truth
value is right when a value read (not derived) has the same analyte, the same value, the
same unit as written (None when the page gives none; a truth's "ratio" is no unit) and the
same collection date.  Only the analytes the reader reads (lexicons/labs.json) are scored:
a haemoglobin in the truth is a fact of the page, not one the policies ask for.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

from common.models import LabFact
from common.vocabulary import lab_vocabulary


def _get(row: Any, name: str) -> Any:
    return row.get(name) if isinstance(row, dict) else getattr(row, name, None)


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))


def score_labs(truth: Iterable[Any], predicted: Sequence[LabFact]) -> list[tuple[bool, str]]:
    """One (right, problem) per truth value; the problem says what was read instead."""
    read = [f for f in predicted if not f.derived]
    vocab = lab_vocabulary()
    readable = {a.analyte for a in vocab.analytes}
    canonical = {
        spelling.lower(): unit
        for unit, spellings in vocab.unit_spellings.items()
        for spelling in (unit, *spellings)
    }
    out: list[tuple[bool, str]] = []
    for row in truth:
        analyte = _get(row, "analyte") or _get(row, "test")
        value, unit = _get(row, "value"), _get(row, "unit")
        # the value as the page writes it ("0.7" for a truth of 0.72 printed to one decimal)
        written = _get(row, "text")
        with contextlib.suppress(TypeError, ValueError):
            value = float(written) if written is not None else value
        collected = _get(row, "collected") or _get(row, "date")
        if analyte not in readable:
            continue
        unit = None if unit == "ratio" else unit
        # the truth writes the unit as the page does ("mg/24 h"), the reader its canonical form
        unit = canonical.get(unit.lower(), unit) if unit else unit
        same = [f for f in read if f.analyte == analyte]
        hit = next(
            (f for f in same if _same(f.value, value) and f.unit == unit and f.collected == collected), None
        )
        if hit is not None:
            out.append((True, ""))
            continue
        if not same:
            out.append((False, f"missed lab {analyte} {value} {unit} {collected}"))
        else:
            got = ", ".join(f"{f.value:g} {f.unit} {f.collected}" for f in same)
            out.append((False, f"lab {analyte}: read {got}, truth {value} {unit} {collected}"))
    return out
