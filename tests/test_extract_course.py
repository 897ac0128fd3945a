"""Dated progression and last doses: what a policy times against each other."""

from __future__ import annotations

import pytest
from extract_support import facts_of

from common.models import DatedEvent


def events(text: str, kind: str) -> list[DatedEvent]:
    return [e for e in facts_of(text).events if e.kind == kind]


PROGRESSIONS = [
    # (trap, text, date, on)
    ("PD with its date after", "Progressive disease per IMWG criteria on 09/02/2026.", "2026-09-02", ()),
    (
        "progressed on a regimen",
        "She progressed on Pd 08/2026.",
        "2026-08",
        ("pomalidomide", "dexamethasone"),
    ),
    ("a line's range ending in PD", "DKd 6/2022 until PD 3/2024.", "2024-03", ()),
    ("biochemical progression", "Biochemical progression 9/1/2026 with a rising M-spike.", "2026-09-01", ()),
]


@pytest.mark.parametrize(
    ("text", "date", "on"), [p[1:] for p in PROGRESSIONS], ids=[p[0] for p in PROGRESSIONS]
)
def test_a_dated_progression_is_read(text: str, date: str, on: tuple[str, ...]) -> None:
    found = events(text, "progression")
    assert [e.date for e in found] == [date]
    assert set(on) <= set(found[0].on_ingredients)
    assert found[0].evidence


NOT_PROGRESSIONS = [
    ("a negated progression, which ConText leaves", "No progression on 06/2026 imaging."),
    ("a relative's", "Her mother had disease progression in 2019."),
    ("undated", "Progressive disease on talquetamab."),
    ("a plan to watch for it", "We will monitor for progression in 2027."),
    # the regimen's dates, not the progression's: when was it assessed?
    ("a history row's stop reason", "4 KPd 06/2025 03/2026 9 PD"),
    ("a regimen's range, then PD", "Line 4: KPd 06/2025 - 03/2026, PD."),
    # the date a last-dose cue governs is when the therapy stopped (a wrong "met" on a
    # Carvykti request: the progression's own date is not told)
    (
        "refractory, then when the regimen stopped",
        "He was most recently refractory to Isa-Kd, which was discontinued in December 2025.",
    ),
]


@pytest.mark.parametrize("text", [p[1] for p in NOT_PROGRESSIONS], ids=[p[0] for p in NOT_PROGRESSIONS])
def test_not_a_progression(text: str) -> None:
    assert events(text, "progression") == []


def test_imwg_is_noted() -> None:
    assert events("Progressive disease per IMWG criteria on 09/02/2026.", "progression")[0].imwg


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("The last dose of talquetamab was given on 08/12/2026.", "2026-08-12"),
        ("Last dose: 8/12/2026.", "2026-08-12"),
        ("Teclistamab was discontinued 07/2026 for progression.", "2026-07"),
    ],
)
def test_a_last_dose_is_read(text: str, date: str) -> None:
    assert [e.date for e in events(text, "last_dose")] == [date]


def test_a_last_dose_takes_no_date_from_the_next_sentence() -> None:
    assert events("The last dose is not known. Labs 09/2026.", "last_dose") == []
