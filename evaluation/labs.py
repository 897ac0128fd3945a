"""Scoring lab values against ground truth: value, unit and collection date, all three.

The truth rows need only ``analyte``, ``value``, ``unit`` and ``collected`` (attributes or
keys), so the corpus's truth schema can carry them as it likes.  A truth value is right
when a value read (not derived) has the same analyte, the same value, the same unit as
written (None when the page gives none) and the same collection date.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from common.models import LabFact


def _get(row: Any, name: str) -> Any:
    return row.get(name) if isinstance(row, dict) else getattr(row, name, None)


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))


def score_labs(truth: Iterable[Any], predicted: Sequence[LabFact]) -> list[tuple[bool, str]]:
    """One (right, problem) per truth value; the problem says what was read instead."""
    read = [f for f in predicted if not f.derived]
    out: list[tuple[bool, str]] = []
    for row in truth:
        analyte, value, unit, collected = (_get(row, k) for k in ("analyte", "value", "unit", "collected"))
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
