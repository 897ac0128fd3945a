"""Class-level evidence (issue 13, kind 4): a therapy class named as such, no drug named."""

from __future__ import annotations

import pytest
from extract_support import facts_of

ALL_THREE = {"immunomodulatory_agent", "proteasome_inhibitor", "anti_cd38_antibody"}


def _class_level(text: str) -> set[tuple[str, str]]:
    return {(t.therapy_class, t.assertion) for t in facts_of(text).therapies if t.class_level}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # exposure or refractoriness to a class is evidence of the class received
        ("She is triple-class refractory.", {(c, "received") for c in ALL_THREE}),
        ("Refractory to an IMiD, a PI and an anti-CD38 antibody.", {(c, "received") for c in ALL_THREE}),
        ("Penta-refractory myeloma.", {(c, "received") for c in ALL_THREE}),
        ("Prior proteasome inhibitor exposure.", {("proteasome_inhibitor", "received")}),
        # an explicit statement that the class was not given
        ("He is PI-naive because of neuropathy.", {("proteasome_inhibitor", "negated")}),
        ("She has never received a proteasome inhibitor.", {("proteasome_inhibitor", "negated")}),
        # a label's or policy's classes are discussed, not received
        (
            "Abecma is indicated after two or more prior lines including an immunomodulatory agent,"
            " a proteasome inhibitor, and an anti-CD38 monoclonal antibody.",
            {(c, "discussed") for c in ALL_THREE},
        ),
        # a part of the class denied neither shows nor rules out the class
        (
            "She has not yet received a second-generation proteasome inhibitor such as carfilzomib.",
            {("proteasome_inhibitor", "discussed")},
        ),
        ("He has not received another anti-CD38 antibody.", {("anti_cd38_antibody", "discussed")}),
        # a short class name needs an exposure context: a study's investigator is no PI
        ("Study PI: Dr. Jane Smith", set()),
    ],
)
def test_class_level_statements(text: str, expected: set[tuple[str, str]]) -> None:
    assert _class_level(text) == expected


def test_class_level_evidence_opens_no_line() -> None:
    facts = facts_of("VRd 2019-2020\nDKd 2021-2023\nShe is triple-class refractory.")
    assert len(facts.lines) == 2
    assert all(t.line is None for t in facts.therapies if t.class_level)


def test_a_class_talked_about_is_not_received() -> None:
    """Red-team probe: 'Proteasome inhibitors are, of course, a mainstay of myeloma
    treatment, and ... she has never received one' named the class with no word of
    exposure: a statement about the class, not the member's exposure."""
    text = "Proteasome inhibitors are, of course, a mainstay of myeloma treatment."
    assert _class_level(text) == {("proteasome_inhibitor", "discussed")}


def test_a_hyphenated_naive_broken_over_the_line_denies_only_its_own_word() -> None:
    """ "Triple-class refractory, GPRC5D-exposed, BCMA-" over "naive.": the plain "naive"
    reached back and denied all three classes and the GPRC5D exposure (a wrong "not met"
    waiting on a complete history's silence)."""
    facts = facts_of(
        "Impression: Confirmed PD on talquetamab (line 5). Triple-class refractory, GPRC5D-exposed, BCMA-\n"
        "naïve. CAR-T candidate; he now agrees to proceed."
    )
    assert {t.assertion for t in facts.therapies if t.class_level} == {"received"}
    assert {s.assertion for s in facts.target_statements if s.target == "GPRC5D"} == {"received"}


def test_none_given_after_a_list_denies_the_drugs_and_the_class_named_before_it() -> None:
    facts = facts_of(
        "General note for the file: BCMA-directed agents such as belantamab, teclistamab and elranatamab"
        " are reasonable after CAR-T should he relapse, but none has been given."
    )
    assert {s.assertion for s in facts.target_statements if s.target == "BCMA"} == {"negated"}
    assert "received" not in {t.assertion for t in facts.therapies}
