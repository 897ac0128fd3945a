"""Sentence-splitting traps: where a sentence ends decides how far a negation reaches."""

from __future__ import annotations

import pytest
from extract_support import facts_of, received

from extractors.layout import pages_from_text
from extractors.nlp import parse
from extractors.pagetext import build_page_text


def _sentences(text: str) -> list[str]:
    return [s.text.strip() for s in parse(text).sents]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a period after a one-character token still ends a sentence in clinical shorthand
        ("No prior CAR-T. She received DKd.", ["No prior CAR-T.", "She received DKd."]),
        ("Denies prior CAR T. Treated with KRd.", ["Denies prior CAR T.", "Treated with KRd."]),
        ("Progressed after VRd x 4. DKd started.", ["Progressed after VRd x 4.", "DKd started."]),
        ("Not a candidate at age 8. Received DKd.", ["Not a candidate at age 8.", "Received DKd."]),
        # ... while initials, list numbers and abbreviations keep theirs whole
        ("Dr. John A. Smith reviewed the case.", ["Dr. John A. Smith reviewed the case."]),
        ("Referred by J. Doe for evaluation.", ["Referred by J. Doe for evaluation."]),
        ("Prior lines:\n1. VRd 2019", ["Prior lines:", "1. VRd 2019"]),
        ("Kd for approx. 5 months.", ["Kd for approx. 5 months."]),
        ("Pd vs. Kd at 2.5 mg.", ["Pd vs. Kd at 2.5 mg."]),
        # fax OCR read a full stop as a comma: a capitalised pronoun or preposition still opens
        (
            "He took it for several years, At progression he received Kd, with a good response, He later"
            " moved on to Pd.",
            [
                "He took it for several years,",
                "At progression he received Kd, with a good response,",
                "He later moved on to Pd.",
            ],
        ),
        # ... while a brand or a name after a comma does not
        ("Velcade, Revlimid and dex in 2019.", ["Velcade, Revlimid and dex in 2019."]),
        # a line ending on a determiner or a broken word runs on into the next
        (
            "He has not received any\nBCMA-directed therapy.",
            ["He has not received any\nBCMA-directed therapy."],
        ),
    ],
    ids=[
        "CAR-T.",
        "CAR T.",
        "a count: x 4.",
        "an age: age 8.",
        "a middle initial",
        "an initial after a lower-case word",
        "a list number",
        "approx. before a number",
        "vs. and a decimal",
        "a full stop read as a comma",
        "brands after a comma",
        "a line ending on 'any'",
    ],
)
def test_sentence_bounds(text: str, expected: list[str]) -> None:
    assert _sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "drugs"),
    [
        (
            "No prior CAR-T. She received DKd 2021-2022 and Pd 2022-2023.",
            {"daratumumab", "carfilzomib", "pomalidomide"},
        ),
        ("Patient denies prior CAR T. Treated with KRd 2020-2021.", {"carfilzomib", "lenalidomide"}),
        ("No CAR-T. Received Tecvayli 2023-2024.", {"teclistamab"}),
        ("Not eligible for transplant at age 8. Received DKd 2021-2022.", {"daratumumab", "carfilzomib"}),
    ],
    ids=["no prior CAR-T", "denies CAR T", "no CAR-T, then a bispecific", "not eligible at age 8"],
)
def test_a_negation_stops_at_the_sentence_end(text: str, drugs: set[str]) -> None:
    assert drugs <= received(text)
    assert not any(t.therapy_class == "car_t" and t.assertion == "received" for t in facts_of(text).therapies)


def test_prose_wrapped_at_a_comma_runs_on_whatever_the_next_line_opens_with() -> None:
    """ "... a study (investigational BCMA CAR-T," over '"BCM-114" protocol); ... infusion
    01/2023': one sentence, so the infusion told after the wrap makes the CAR-T given."""
    facts = facts_of(
        "After progressing on DPd he went to the phase 1 unit and was treated on a study"
        " (investigational BCMA CAR-T,\n"
        '"BCM-114" protocol); flu/cy lymphodepletion and infusion 01/2023, CRS gr 1, no ICANS.'
    )
    assert {t.assertion for t in facts.therapies if t.therapy_class == "car_t"} == {"received"}
    # a table's header row after the comma (OCR's reading order) opens a line of its own
    page = build_page_text(
        pages_from_text(
            "He was referred to our program in December 2023 after he relapsed on his fifth regimen,\n"
            "Line Regimen Dates Best response\n1 VRd x4 02/2021 - 01/2022 VGPR"
        )
    )
    assert len(page.logical_spans()) == 3


def test_a_denial_over_a_line_ending_on_a_determiner_or_a_broken_word_reaches_its_object() -> None:
    """The page's logical lines join such a line to the next, so ConText sees one sentence."""
    facts = facts_of("Mr. B has never received CAR-T, and he has not received any\nBCMA-directed therapy.")
    assert {s.assertion for s in facts.target_statements if s.target == "BCMA"} == {"negated"}
    prior = facts_of("She has not received any BCMA-targeted agent or prior\nCAR-T therapy.")
    assert {t.assertion for t in prior.therapies if t.therapy_class == "car_t"} == {"negated"}
    broken = facts_of("She has never received an anti-\nCD38 antibody such as daratumumab.")
    assert "daratumumab" not in {t.ingredient for t in broken.therapies if t.assertion == "received"}
