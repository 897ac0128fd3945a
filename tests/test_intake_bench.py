"""The character error rate the accuracy tests rely on must itself be right."""

from __future__ import annotations

import pytest

from evaluation.bench import char_error_rate, levenshtein


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("kitten", "sitting", 3),
        ("", "abc", 3),
        ("abc", "", 3),
        ("flaw", "lawn", 2),
        ("myeloma", "myeloma", 0),
        ("rn", "m", 2),  # the classic OCR confusion costs two edits
        ("lenalidomide", "lenalidornide", 2),
        ("Zoë", "Zoe", 1),  # code points, not bytes
    ],
)
def test_levenshtein(a: str, b: str, distance: int) -> None:
    assert levenshtein(a, b) == distance
    assert levenshtein(b, a) == distance


def test_cer_ignores_line_breaks_and_runs_of_spaces() -> None:
    assert char_error_rate("VRd  x4\n cycles", "VRd x4 cycles") == 0.0
    assert char_error_rate("VRd x4 cydes", "VRd x4 cycles") == pytest.approx(2 / 13)
