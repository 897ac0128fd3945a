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
    assert got == [
        ("Abecma Q2055", "ticked"),
        ("Inpatient", "ticked"),
        ("Outpatient", "unticked"),
        ("Carvykti Q2056", "unticked"),
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
