"""Page structure on layouts as offices print them (regressions from the dev red-team probes).

Each page is drawn item by item (``structure_docs.LayoutDoc``: cells with their borders,
labels over values, a box a cell's padding from its left rule) and read from its text
layer with pdfplumber, as a browser's print to PDF is.  The traps, one test each: the
mechanism, never a probe's wording.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from structure_docs import LayoutDoc, Text, grid, write_layout_pdf

from common.settings import Settings
from common.structure import Checkbox, DocumentStructure
from extractors.structure import document_structure
from reading.reader import read_document

# A heading and a sentence above every page: a text layer of a few words, most of them
# box glyphs, is not trusted as text (reading/quality.py) and would be read with OCR.
_HEAD = (
    Text("Harbor Point Cancer Center - Cellular Therapy Program", 36, 40, 11),
    Text("Please complete every section of this form and fax it with the clinical notes.", 36, 58),
)


def _structure(tmp_path: Path, *pages: tuple[object, ...]) -> DocumentStructure:
    doc = LayoutDoc("layout", tuple((*_HEAD, *page) for page in pages))  # type: ignore[arg-type]
    pdf = write_layout_pdf(doc, tmp_path / "layout.pdf")
    return document_structure(read_document(pdf, Settings(workers=1)).pages)


def _options(structure: DocumentStructure) -> list[Checkbox]:
    return [o for p in structure.pages for g in p.checkboxes for o in g.options]


def test_a_box_a_padding_from_its_cells_left_rule_is_a_box_not_the_rules_fringe(tmp_path: Path) -> None:
    """A box glyph 3 pt right of a cell's border was dropped as a fragment of the rule, and
    its option's label taken for the question of the next box."""
    page = grid(
        36,
        100,
        (250, 250),
        [
            ["Product requested", "Site of care"],
            ["☒ Abecma Q2055\n☐ Carvykti Q2056", "☒ Inpatient   ☐ Outpatient"],
        ],
    )
    got = [(o.option.text, o.state) for o in _options(_structure(tmp_path, page))]
    # the product's two options are one group, in their column; the site's the next
    assert got == [
        ("Abecma Q2055", "ticked"),
        ("Carvykti Q2056", "unticked"),
        ("Inpatient", "ticked"),
        ("Outpatient", "unticked"),
    ]


def test_text_is_what_the_layout_draws(tmp_path: Path) -> None:
    """The generator draws what it is told where it is told (the other tests rely on it)."""
    structure = _structure(tmp_path, (Text("Member ID: CPX4471920", 54, 100),))
    (field,) = structure.pages[0].fields
    assert (field.label.text, field.value.text if field.value else None) == ("Member ID", "CPX4471920")


@pytest.mark.parametrize("size", [8.0, 10.5])
def test_grid_rows_are_as_tall_as_their_tallest_cell(size: float) -> None:
    items = grid(0, 0, (100, 100), [["a\nb", "c"], ["d", "e"]], size=size, pad=3)
    tops = sorted({round(i.top, 2) for i in items if isinstance(i, Text)})
    assert tops == [3.0, round(3 + size * 1.25, 2), round(6 + 2 * size * 1.25 + 3, 2)]


def _answers(structure: DocumentStructure) -> list[tuple[str | None, list[tuple[str, str]]]]:
    return [
        (g.question.text if g.question else None, [(o.option.text, o.state) for o in g.options])
        for p in structure.pages
        for g in p.checkboxes
    ]


_SITE = "( x ) Inpatient      (   ) Outpatient"


@pytest.mark.parametrize(
    "page",
    [
        (Text(f"Site of care:  {_SITE}", 36, 100),),
        grid(36, 100, (120, 250), [["Site of care", _SITE]]),
    ],
    ids=["on a line", "a padding from a cell's rule"],
)
def test_a_paren_box_read_as_separate_words_is_one_box(tmp_path: Path, page: tuple[object, ...]) -> None:
    """A text layer splits "( x )" and a wide "(   )" into three and two words: each half
    alone is no box, so the row read as a field "Site of care = ( x ) Inpatient"; and a "(" a cell's
    padding from its border is text, not the rule's fringe."""
    assert _answers(_structure(tmp_path, page)) == [
        ("Site of care", [("Inpatient", "ticked"), ("Outpatient", "unticked")])
    ]


def test_an_underline_right_after_a_word_is_a_blank_to_fill_not_a_box(tmp_path: Path) -> None:
    """A row "Date received ________   Reviewer initials ________" gave an unticked
    option "Reviewer initials": the blank after a label is where its value is written."""
    page = (
        Text("Date received ____________      Reviewer initials ________", 36, 100),
        Text("Urgency:  ☒ Urgent   ☐ Standard", 36, 130),
    )
    assert _answers(_structure(tmp_path, page)) == [
        ("Urgency", [("Urgent", "ticked"), ("Standard", "unticked")])
    ]


def test_a_question_after_options_on_their_row_asks_the_boxes_after_it(tmp_path: Path) -> None:
    """Two questions on one line: the first question's last option was read as
    "No CNS involvement:" and all four boxes answered "Active infection"."""
    page = (Text("Active infection:  ☐ Yes  ☒ No   CNS involvement:  ☐ Yes  ☒ No", 36, 100),)
    assert _answers(_structure(tmp_path, page)) == [
        ("Active infection", [("Yes", "unticked"), ("No", "ticked")]),
        ("CNS involvement", [("Yes", "unticked"), ("No", "ticked")]),
    ]


def test_a_box_whose_option_the_page_lost_does_not_take_the_next_question(tmp_path: Path) -> None:
    """A box printed with its option cut off (an overflowing cell), then the next question:
    "Active CNS disease:" was read as the ticked box's option."""
    page = (Text("Prior BCMA therapy:  [ ] Yes  [X]        Active CNS disease:  [ ] Yes  [X] No", 36, 100),)
    assert _answers(_structure(tmp_path, page)) == [
        ("Prior BCMA therapy", [("Yes", "unticked")]),
        ("Active CNS disease", [("Yes", "unticked"), ("No", "ticked")]),
    ]


def test_the_last_option_of_a_row_wraps_onto_the_cells_next_line(tmp_path: Path) -> None:
    """A cell too narrow for "☒ lenalidomide  ☐ pomalidomide  ☐ thalidomide" wraps it:
    the last box had no label and its option was lost.  The cell is as wide as the first
    line, so the next word cannot have fitted after the box."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    first = "☒ lenalidomide  ☐ pomalidomide  ☐"
    width = stringWidth(first, "DejaVu", 9.5) + 6 + 12
    assert stringWidth(f"{first} thalidomide", "DejaVu", 9.5) + 6 > width
    page = grid(
        36,
        100,
        (170, width),
        [
            ["a. Immunomodulatory agent", f"{first}\nthalidomide"],
            ["b. Proteasome inhibitor", "☐ bortezomib  ☒ carfilzomib"],
        ],
    )
    assert _answers(_structure(tmp_path, page)) == [
        (
            "a. Immunomodulatory agent",
            [("lenalidomide", "ticked"), ("pomalidomide", "unticked"), ("thalidomide", "unticked")],
        ),
        ("b. Proteasome inhibitor", [("bortezomib", "unticked"), ("carfilzomib", "ticked")]),
    ]


def test_a_box_after_a_label_with_nothing_after_it_is_that_labels_option(tmp_path: Path) -> None:
    """A line "PA required: ✓" read as a field whose value is the tick: the box is the answer."""
    page = (
        Text("PA required: ✓", 36, 100),
        Text("Urgency:  ☒ Urgent   ☐ Standard", 36, 130),
    )
    structure = _structure(tmp_path, page)
    assert _answers(structure)[0] == (None, [("PA required:", "ticked")])
    assert not [f for p in structure.pages for f in p.fields if f.label.text == "PA required"]


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (
            (Text("Line 1:  ☒ VRd — induction then ASCT   ☐ KRd", 36, 100),),
            [("Line 1", [("VRd — induction then ASCT", "ticked"), ("KRd", "unticked")])],
        ),
        (
            (
                Text("Agents received:", 36, 100),
                Text("☒ Bortezomib", 36, 114),
                Text("☐ Carfilzomib", 36, 128),
                Text("☒ Daratumumab", 36, 142),
                Text("   Isatuximab was not given", 36, 156),
            ),
            [
                (
                    "Agents received",
                    [("Bortezomib", "ticked"), ("Carfilzomib", "unticked"), ("Daratumumab", "ticked")],
                )
            ],
        ),
    ],
    ids=["a dash among boxes", "a line under a column of boxes"],
)
def test_what_ocr_makes_of_a_box_is_not_guessed_in_a_text_layer(
    tmp_path: Path, page: tuple[object, ...], expected: list[tuple[str, list[tuple[str, str]]]]
) -> None:
    """A text layer's "—" among boxes became an unticked box, and a line lined up under a
    column of boxes an unreadable one: OCR reads a box as "—" or drops it, a text layer
    prints the boxes there are."""
    assert _answers(_structure(tmp_path, page)) == expected
