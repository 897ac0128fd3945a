"""Lab test names that fax OCR damaged by a few glyphs ("lambda PLC", "FIC ratio",
"Aerum free lambda light ehain"), and a zero read as a letter ("Q,08"): read, flagged for
review, their confidence lowered; never in typed text, never when the damage leaves the
name between two analytes, never for a short or bare name."""

from __future__ import annotations

import pytest

from common.models import LabFact, Page, WordSource
from extractors.labs import read_labs
from extractors.layout import page_from_text
from extractors.pagetext import build_page_text


def _page(line: str, source: WordSource = WordSource.OCR, confidence: float = 0.9) -> Page:
    page = page_from_text(line)
    words = tuple(w.model_copy(update={"confidence": confidence, "source": source}) for w in page.words)
    return page.model_copy(update={"words": words, "source": source})


def _labs(line: str, source: WordSource = WordSource.OCR) -> list[LabFact]:
    return [f for f in read_labs(build_page_text([_page(line, source)])) if not f.derived]


DAMAGED = [
    # (trap, OCR line, analyte, value)
    ("P for F in FLC", "Labs 09/23/2026: kappa PLC 10.8 mg/L, SPEP M-protein 2.4 g/dL", "kappa_flc", 10.8),
    ("I for L in FLC", "lambda FIC 30.0 mg/L", "lambda_flc", 30.0),
    ("O for C, after a bare chain name", "lambda FLO 10.8 mg/L", "lambda_flc", 10.8),
    ("a spelled name inside a damaged one", "Aerum free lambda light ehain 65.0 mg/L", "lambda_flc", 65.0),
    ("four glyphs of a long name", "Rerum tree kappa Jiqht chain 4.2 mg/L", "kappa_flc", 4.2),
    ("the ratio's last letter", "FLC ratis 0.08 L 0.26-1.65", "flc_ratio", 0.08),
    ("a letter for a letter inside kappa/lambda", "kappw/lambda ratio 3.01", "flc_ratio", 3.01),
]


@pytest.mark.parametrize(("trap", "line", "analyte", "value"), DAMAGED, ids=[d[0] for d in DAMAGED])
def test_a_damaged_test_name_is_read_and_flagged(trap: str, line: str, analyte: str, value: float) -> None:
    [f] = [f for f in _labs(line) if f.analyte == analyte]
    assert f.value == value
    assert f.needs_review and "test name read as" in f.note
    assert f.evidence[0].confidence is not None and f.evidence[0].confidence < 0.9


def test_typed_text_is_never_read_fuzzily() -> None:
    """A text layer reads what was typed: 'PLC' there is not an OCR misreading."""
    assert _labs("kappa PLC 10.8 mg/L", WordSource.TEXT_LAYER) == []


def test_a_name_spelled_right_is_not_flagged() -> None:
    [f] = _labs("serum free lambda light chain 39.0 mg/L")
    assert not f.needs_review and f.note == ""


def test_a_short_name_must_be_spelled() -> None:
    """'M-spike' (7 letters) is too near ordinary words to match damaged."""
    assert _labs("M-spikc 2.1 g/dL") == []


def test_ordinary_words_near_no_long_name_are_not_labs() -> None:
    assert _labs("Total protein 6.8 g/dL, albumin 3.9 g/dL, creatinine 1.1 mg/dL") == []


def test_a_zero_read_as_a_letter_before_the_decimal_is_read_and_flagged() -> None:
    [f] = _labs("FLC ratio Q,08 L 0.26-1.65")
    assert f.value == 0.08 and f.needs_review and "a zero read as" in f.note


def test_typed_text_never_reads_a_letter_as_a_zero() -> None:
    assert _labs("FLC ratio O.08", WordSource.TEXT_LAYER) == []


def _report(*lines: str) -> list[LabFact]:
    return [f for f in read_labs(build_page_text([_page("\n".join(lines))])) if not f.derived]


_TABLE = (
    "Test Result Flag Units Reference range",
    "SPEP M-protein 0.6 H g/dL 0.0",
    "serum free kappa light chain 74.0 H mg/L 3.3-19.4",
    "serum free lambda light chain 4.8 mg/L 5.7-26.3",
)


def test_a_smeared_collection_label_still_dates_the_report() -> None:
    """'Coilected:' (one glyph off) heads the table; the report date after it does not."""
    facts = _report("Coilected: 06/10/2026 08:51 Reported: 06/11/2026", *_TABLE)
    assert {f.collected for f in facts} == {"2026-06-10"}


def test_a_short_label_is_never_read_fuzzily() -> None:
    """'Drawn' is one glyph from ordinary words: 'Dawn: 06/10/2026' is no collection date."""
    facts = _report("Dawn: 06/10/2026", *_TABLE)
    assert {f.collected for f in facts} == {None}


def test_a_space_ocr_put_inside_the_collection_date_is_taken_out() -> None:
    facts = _report("Collected: 05/1 1/2026 08:19 Reported: 05/12/2026", *_TABLE)
    assert {f.collected for f in facts} == {"2026-05-11"}


def test_a_smeared_flag_glyph_does_not_hide_the_unit() -> None:
    [f] = _labs("serum free lambda light chain 64.0 I mg/L 5.7-26.3")
    assert (f.value, f.unit) == (64.0, "mg/L")


def test_a_row_whose_specimen_cell_is_smeared_is_still_a_row_of_the_report() -> None:
    """'UPBP M-protein' (UPEP smeared): on a lab report the row and the rows after it
    take the table's collection date."""
    facts = _report(
        "Collected: 06/10/2026",
        "Test Result Flag Units Reference range",
        "SPEP M-protein 0.6 H g/dL 0.0",
        "UPBP M-protein 152 H mg/24 h <30",
        "serum free kappa light chain 74.0 H mg/L 3.3-19.4",
        "serum free lambda light chain 4.8 mg/L 5.7-26.3",
        "hemoglobin 11.7 L g/dL 12.0-16.0",
    )
    kappa = [f for f in facts if f.analyte == "kappa_flc"]
    assert kappa and kappa[0].collected == "2026-06-10"
