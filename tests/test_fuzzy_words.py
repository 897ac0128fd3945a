"""OCR-tolerant word comparison: the edit distance with a cutoff, and the structure
vocabulary's reading of a damaged word (one edit away, by confusion key or as spelled)."""

from __future__ import annotations

import pytest

from extractors.ocr_fuzzy import bounded_distance
from extractors.structure.vocabulary import PhraseMatcher


@pytest.mark.parametrize(
    ("a", "b", "limit", "within"),
    [
        ("regimen", "regimen", 0, True),
        ("regimeu", "regimen", 1, True),  # one substitution
        ("regimn", "regimen", 1, True),  # one deletion
        ("regimenn", "regimen", 1, True),  # one insertion
        ("kitten", "sitting", 2, False),  # three edits
        ("kitten", "sitting", 3, True),
        ("ab", "abcdef", 1, False),  # lengths alone rule it out
        ("", "", 0, True),
    ],
)
def test_bounded_distance_is_within_the_limit_exactly_when_levenshtein_is(
    a: str, b: str, limit: int, within: bool
) -> None:
    assert (bounded_distance(a, b, limit) <= limit) is within


def test_bounded_distance_past_the_limit_is_more_than_the_limit() -> None:
    assert bounded_distance("second", "recorded", 2) > 2
    assert bounded_distance("kitten", "sitting", 3) == 3


MATCHER = PhraseMatcher(
    [("regimen", "regimen"), ("treatment", "regimen"), ("frequency", "schedule"), ("frequently", "x")]
)


@pytest.mark.parametrize(
    ("reading", "canonical"),
    [
        ("regimen", "regimen"),  # known
        ("reglmen", "regimen"),  # the confusion key folds l/i
        ("regimeu", "regimen"),  # one edit, seven letters
        ("treatrnent", "treatment"),  # rn read for m
        ("treatmemt", "treatment"),  # one edit as spelled
        ("frequencx", "frequency"),  # one edit from "frequency" only ("frequently" is three away)
        ("frequentcy", "frequentcy"),  # one edit from both "frequency" and "frequently": not guessed
        ("regim", "regim"),  # too short for an edit
        ("dexamethasone", "dexamethasone"),  # nothing near: the word itself
    ],
)
def test_a_damaged_word_reads_as_the_one_vocabulary_word_an_edit_away(reading: str, canonical: str) -> None:
    assert MATCHER.canonical(reading) == canonical
