"""Forms (extractors/structure/forms.py): checkboxes ticked, unticked or unreadable, and fields.

The traps: what OCR makes of a box ("IX]", "O", "m", nothing), a box read one way and
inked the other, a letter that is a box only beside other boxes, an unticked option that
must never become a statement, a label glued to its box.
"""

from __future__ import annotations

import re

import pytest
from structure_docs import FORM_DOCS, FormDoc
from structure_measure import score_boxes
from structure_support import DOCS, Reader, shared_reader

from common.models import BBox, Mark, Page, Word, WordSource
from common.structure import Checkbox
from extractors.structure import document_structure
from extractors.structure.vocabulary import load_structure_lexicon


@pytest.fixture(scope="session")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Reader:
    return shared_reader(tmp_path_factory)


W, H = 612.0, 792.0


def _page(rows: list[list[tuple[str, float]]], marks: tuple[Mark, ...] = (), *, ocr: bool = True) -> Page:
    """Rows of (text, x in points) at 11 pt, 20 pt apart; OCR words unless told."""
    words = []
    for r, row in enumerate(rows):
        y = 100 + 20 * r
        for text, x in row:
            width = 5.8 * len(text)
            words.append(
                Word(
                    text=text,
                    bbox=BBox(x0=x / W, y0=y / H, x1=(x + width) / W, y1=(y + 9) / H),
                    confidence=0.9 if ocr else None,
                    source=WordSource.OCR if ocr else WordSource.TEXT_LAYER,
                )
            )
    return Page(number=1, width=W, height=H, words=tuple(words), source=WordSource.TEXT_LAYER, marks=marks)


def _laid_out(line: str) -> list[tuple[str, float]]:
    """A line's words at their Courier-like positions (5.8 pt a character)."""
    return [(m.group(0), 54 + 5.8 * m.start()) for m in re.finditer(r"\S+", line)]


def _boxes(page: Page) -> list[Checkbox]:
    return [o for p in document_structure([page]).pages for g in p.checkboxes for o in g.options]


def _square(x: float, row: int, fill: float | None) -> Mark:
    y = 100 + 20 * row
    return Mark(bbox=BBox(x0=x / W, y0=(y + 0.5) / H, x1=(x + 8) / W, y1=(y + 8.5) / H), fill=fill)


@pytest.mark.parametrize("doc", FORM_DOCS, ids=lambda d: d.name)
def test_every_printed_option_is_read_right_from_a_text_layer(reader: Reader, doc: FormDoc) -> None:
    score = score_boxes(doc, reader.document(doc.name, "text"), reader.structure(doc.name, "text"))
    assert score.right == score.options, score.errors


@pytest.mark.parametrize(
    ("glyph", "state"),
    [
        ("[X]", "ticked"),
        ("IX]", "ticked"),  # tesseract on a fax
        ("{X]", "ticked"),
        ("[x]", "ticked"),
        ("(x)", "ticked"),
        ("\u2612", "ticked"),
        ("\u2713", "ticked"),
        ("_X_", "ticked"),
        ("[]", "unticked"),
        ("{]", "unticked"),
        ("()", "unticked"),
        ("\u2610", "unticked"),
        ("___", "unticked"),
    ],
)
def test_a_glyph_reads_as_its_state(glyph: str, state: str) -> None:
    page = _page([[("Prior", 54), ("CAR-T?", 84), (glyph, 140), ("Yes", 165), ("[]", 200), ("No", 225)]])
    boxes = _boxes(page)
    assert (boxes[0].option.text, boxes[0].state) == ("Yes", state)


def test_an_open_and_a_close_bracket_read_apart_are_one_box() -> None:
    page = _page([[("Transplant:", 54), ("[", 120), ("]", 132), ("Yes", 145), ("[X]", 180), ("No", 205)]])
    assert [(b.option.text, b.state) for b in _boxes(page)] == [("Yes", "unticked"), ("No", "ticked")]


def test_a_letter_is_a_box_only_where_boxes_are() -> None:
    """ "O" is what tesseract makes of "☐": in a column of boxes it is one, in prose it is not."""
    column = _page(
        [[("Prior", 54), ("PI:", 84)], [("[X]", 78), ("Bortezomib", 100)], [("O", 78), ("Carfilzomib", 100)]]
    )
    assert [(b.option.text, b.state) for b in _boxes(column)] == [
        ("Bortezomib", "ticked"),
        ("Carfilzomib", "unticked"),
    ]
    prose = _page([[("Blood", 54), ("type", 90), ("O", 120), ("positive", 130)]])
    assert _boxes(prose) == []


def test_an_unreadable_reading_in_a_column_of_boxes_is_flagged_never_guessed() -> None:
    page = _page(
        [
            [("Prior", 54), ("anti-CD38:", 84)],
            [("[X]", 78), ("Daratumumab", 100)],
            [("\u2122", 78), ("Isatuximab", 100)],  # "™": nothing a box becomes
            [("[]", 78), ("None", 100), ("received", 130)],
        ]
    )
    states = {b.option.text: b for b in _boxes(page)}
    assert states["Isatuximab"].state == "unreadable" and "\u2122" in states["Isatuximab"].why
    assert states["None received"].state == "unticked"


def test_a_box_the_ocr_dropped_is_unreadable_not_a_missing_option() -> None:
    page = _page(
        [
            [("Prior", 54), ("IMiD:", 84)],
            [("[X]", 78), ("Lenalidomide", 100)],
            [("Pomalidomide", 100)],  # the box was not read at all
            [("[]", 78), ("Thalidomide", 100)],
        ]
    )
    states = {b.option.text: b.state for b in _boxes(page)}
    assert states == {"Lenalidomide": "ticked", "Pomalidomide": "unreadable", "Thalidomide": "unticked"}


@pytest.mark.parametrize(
    ("reading", "fill", "state"),
    [
        (None, 0.0, "unticked"),  # a square in the ink, empty
        (None, 0.5, "ticked"),  # a square with an X
        (None, 1.0, "ticked"),  # a solid square
        (None, 0.11, "unreadable"),  # neither empty nor marked
        ("O", 0.0, "unticked"),  # read "O" over an empty square: the square decides it is a box
        ("[X]", 0.0, "unreadable"),  # read ticked, inked empty: they disagree
        ("[]", 0.5, "unreadable"),  # read unticked, inked marked
        ("m", 0.9, "ticked"),  # "■" read "m" over a solid square
        ("\u00a2", 0.0, "unticked"),  # an unknown reading: the ink alone decides
    ],
)
def test_the_ink_and_the_reading_decide_together(reading: str | None, fill: float, state: str) -> None:
    row = [("Outpatient", 100)] if reading is None else [(reading, 78), ("Outpatient", 100)]
    page = _page([[("Setting:", 54)], row], marks=(_square(78, 1, fill),))
    (box,) = _boxes(page)
    assert (box.option.text, box.state) == ("Outpatient", state), box.why


def test_a_drawn_box_is_ticked_by_the_character_inside_it() -> None:
    rows = [[("ECOG:", 54), ("X", 101.5), ("0", 112), ("1", 152)]]
    marks = (_square(100, 0, None), _square(140, 0, None))
    page = _page(rows, marks=marks, ocr=False)
    assert [(b.option.text, b.state) for b in _boxes(page)] == [("0", "ticked"), ("1", "unticked")]


def test_a_label_glued_to_its_box_is_the_option() -> None:
    page = _page([[("Setting:", 54), ("[X]Outpatient", 100), ("[]Inpatient", 200)]])
    assert [(b.option.text, b.state) for b in _boxes(page)] == [
        ("Outpatient", "ticked"),
        ("Inpatient", "unticked"),
    ]


def test_a_row_of_options_answers_the_question_before_it() -> None:
    page = _page(
        [
            [
                ("Prior", 54),
                ("BCMA-directed", 84),
                ("therapy?", 165),
                ("[]", 220),
                ("Yes", 240),
                ("[X]", 275),
                ("No", 300),
            ]
        ]
    )
    (page_structure,) = document_structure([page]).pages
    (group,) = page_structure.checkboxes
    assert group.question is not None and group.question.text == "Prior BCMA-directed therapy"
    assert [o.option.text for o in group.ticked] == ["No"]


def test_every_unticked_reading_of_the_lexicon_stays_unticked() -> None:
    """No unticked glyph, however OCR spells it, is ever read as ticked."""
    lexicon = load_structure_lexicon()
    for reading in lexicon.readings:
        if reading.state != "unticked":
            continue
        page = _page(
            [[("Q:", 54), ("[]", 78), ("A", 100), (reading.text, 130), ("B", 160), ("[]", 190), ("C", 212)]]
        )
        states = {b.option.text: b.state for b in _boxes(page)}
        assert states.get("B") in ("unticked", None), (reading.text, states)
        assert "ticked" not in states.values(), (reading.text, states)


@pytest.mark.parametrize(
    ("line", "label", "value", "key"),
    [
        ("Date of birth: 04/12/1956", "Date of birth", "04/12/1956", "date_of_birth"),
        ("Number of prior lines: 3", "Number of prior lines", "3", None),
        ("Member ID: CPX4471920", "Member ID", "CPX4471920", "member_id"),
        ("Signature:", "Signature", None, None),
    ],
)
def test_a_label_and_its_value(line: str, label: str, value: str | None, key: str | None) -> None:
    words = _laid_out(line)
    (page_structure,) = document_structure([_page([words])]).pages
    (found,) = page_structure.fields
    assert (found.label.text, found.value.text if found.value else None, found.key) == (label, value, key)


def test_two_fields_on_one_line() -> None:
    line = "Patient: Ada Quill DOB: 04/12/1956"
    words = _laid_out(line)
    (page_structure,) = document_structure([_page([words])]).pages
    assert [(f.label.text, f.value.text if f.value else None) for f in page_structure.fields] == [
        ("Patient", "Ada Quill"),
        ("DOB", "04/12/1956"),
    ]


def test_a_sentence_with_a_colon_is_not_a_field() -> None:
    line = "She was told by her physician at the last visit in the clinic: continue."
    words = _laid_out(line)
    (page_structure,) = document_structure([_page([words])]).pages
    assert page_structure.fields == ()


@pytest.mark.ocr
@pytest.mark.parametrize("name", ["form-ballot", "form-brackets"])
def test_a_form_faxed_at_normal_resolution_never_reads_an_unticked_option_as_ticked(
    reader: Reader, name: str
) -> None:
    doc = DOCS[name]
    assert isinstance(doc, FormDoc)
    score = score_boxes(doc, reader.document(name, "normal"), reader.structure(name, "normal"))
    assert score.unticked_as_ticked == 0 and score.ticked_as_unticked == 0, score.errors
    assert score.accuracy >= 0.9, score.errors
