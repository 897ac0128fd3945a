"""A history table's rows against what was read from them: a row that gives a regimen and a
date but no therapy the reading knows holds a line the count cannot see."""

from __future__ import annotations

from extract_support import structured_facts_of

TABLE = (
    "Treatment history:\n"
    "Line   Regimen      Start      Stop       Response\n"
    "1      VRd          01/2020    06/2020    VGPR\n"
    "2      Dara-Pd      07/2020    03/2022    PD\n"
    "3      {third}    04/2022    present    SD\n"
)


def test_a_row_whose_regimen_is_not_read_makes_the_history_partial() -> None:
    facts = structured_facts_of(TABLE.format(third="QZX-77   "))
    assert facts.history is not None and facts.history.status == "partial"
    assert "QZX-77" in facts.history.reason


def test_a_table_whose_every_row_is_read_is_complete() -> None:
    facts = structured_facts_of(TABLE.format(third="Kd       "))
    assert facts.history is not None and facts.history.status == "complete", facts.history
    assert len(facts.lines) == 3
