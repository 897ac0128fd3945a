"""Evidence must point at the exact words quoted: page, box and lowest confidence."""

from __future__ import annotations

import pytest

from common.models import BBox, Page, Word, WordSource
from extractors.facts import extract_facts
from extractors.pagetext import build_page_text


def _ocr_page(number: int, rows: list[list[tuple[str, float]]]) -> Page:
    """Words laid out like tesseract output: uneven widths, per-word confidence."""
    words = []
    for line_index, row in enumerate(rows):
        x = 0.05
        for text, confidence in row:
            width = 0.012 * len(text) + 0.01 * (line_index % 2)
            words.append(
                Word(
                    text=text,
                    bbox=BBox(x0=x, y0=0.1 + 0.03 * line_index, x1=x + width, y1=0.12 + 0.03 * line_index),
                    confidence=confidence,
                    source=WordSource.OCR,
                    line=line_index,
                )
            )
            x += width + 0.015
    return Page(number=number, width=2550, height=3300, words=tuple(words), source=WordSource.OCR)


PAGES = (
    _ocr_page(1, [[("Date", 0.95), ("of", 0.96), ("service:", 0.94), ("11/20/2026", 0.91)]]),
    _ocr_page(
        2,
        [
            [("Treatment", 0.97), ("history:", 0.97)],
            [("Daratumumab", 0.93), ("pomalidomide", 0.71), ("dexamethasone", 0.88), ("2021", 0.9)],
            [("Prior", 0.9), ("CAR-T", 0.55), ("cell", 0.8), ("therapy:", 0.9), ("none", 0.9)],
        ],
    ),
)


@pytest.fixture(scope="module")
def facts():  # type: ignore[no-untyped-def]
    return extract_facts(PAGES)


@pytest.mark.parametrize("ingredient", ["daratumumab", "pomalidomide", "car-t cell therapy"])
def test_box_covers_quoted_words(facts, ingredient: str) -> None:  # type: ignore[no-untyped-def]
    [therapy] = [t for t in facts.therapies if t.ingredient == ingredient]
    [evidence] = therapy.evidence
    quoted = evidence.text.split()
    page = PAGES[evidence.page - 1]
    words = [w for w in page.words if w.text in quoted]
    assert words, evidence
    box = evidence.bbox
    assert box is not None
    for word in words:
        assert box.x0 <= word.bbox.x0 and box.y0 <= word.bbox.y0
        assert box.x1 >= word.bbox.x1 and box.y1 >= word.bbox.y1
    assert evidence.confidence == min(w.confidence for w in words if w.confidence is not None)


def test_evidence_page_number(facts) -> None:  # type: ignore[no-untyped-def]
    assert {e.page for t in facts.therapies for e in t.evidence} == {2}
    assert facts.date_of_service == "2026-11-20"


def test_multiword_evidence_is_union_of_boxes() -> None:
    text = build_page_text(PAGES)
    start = text.text.index("CAR-T cell therapy")
    evidence = text.evidence(start, start + len("CAR-T cell therapy"))
    assert evidence is not None and evidence.text == "CAR-T cell therapy:"
    words = [w for w in PAGES[1].words if w.line == 2 and w.text in {"CAR-T", "cell", "therapy:"}]
    assert evidence.bbox == BBox.union([w.bbox for w in words])
    assert evidence.confidence == 0.55


def test_negated_car_t_on_ocr_page(facts) -> None:  # type: ignore[no-untyped-def]
    assert {t.assertion for t in facts.therapies if t.therapy_class == "car_t"} == {"negated"}


def test_reader_word_order_is_kept_on_a_page_fed_upside_down() -> None:
    """Boxes of a page turned 180 degrees run right to left in the original frame; the
    reader's order is still reading order, so words must not be re-sorted by x."""
    words = []
    for index, text in enumerate(["Prior", "CAR-T:", "none"]):
        x1 = 0.9 - 0.1 * index
        words.append(
            Word(
                text=text,
                bbox=BBox(x0=x1 - 0.08, y0=0.5, x1=x1, y1=0.52),
                confidence=0.9,
                source=WordSource.OCR,
                line=0,
            )
        )
    page = Page(number=1, width=1700, height=2200, words=tuple(words), source=WordSource.OCR, rotation=180)
    assert build_page_text([page]).text.strip() == "Prior CAR-T: none"
    facts = extract_facts([page])
    assert {t.assertion for t in facts.therapies} == {"negated"}


def test_pipeline_is_built_once() -> None:
    from extractors.nlp import build_nlp

    assert build_nlp() is build_nlp()


def test_blank_pages_give_empty_facts_with_a_warning() -> None:
    blank = Page(number=1, width=1700, height=2200, words=(), source=WordSource.OCR, blank=True)
    facts = extract_facts([blank, blank])
    assert facts.therapies == () and facts.lines == ()
    assert [n.code for n in facts.warnings] == ["no_text"]


def test_evidence_never_spans_two_pages() -> None:
    facts = extract_facts(PAGES)
    for therapy in facts.therapies:
        for evidence in therapy.evidence:
            assert evidence.text in {w.text for w in PAGES[evidence.page - 1].words} or all(
                part in {w.text for w in PAGES[evidence.page - 1].words} for part in evidence.text.split()
            )


@pytest.mark.parametrize(
    "text",
    [
        "",
        " \n\t\n ",
        "||||\n| | |\n",
        "€§$ -> ~> » – — ?? ::",
        "Line Line Line 1 1 1 L1: L1: x6 x6 2019 - - - 03/2019",
        "VRd " * 2000,
        "Plan:\nFamily history:\n\f\fDOB: 02/30/1950 Age: 999",
    ],
)
def test_odd_input_never_crashes(text: str) -> None:
    from extractors.layout import pages_from_text

    facts = extract_facts(pages_from_text(text))
    assert facts.age is None or 0 <= facts.age.years <= 110
