"""Reading order of ruled rows (page structure): a form row whose cells hold blocks of
text side by side is read cell by cell, as a reviewer reads it; a table's rows of one line
per cell, and rows with one wrapped cell, are still read across.

Trap: a text layer's lines run across the page, so the left column's "Prior agents
received:" stood beside the right column's "Prior anti-BCMA therapy (...)?" and read as
its answer: a wrong "not met" on what the form never said."""

from __future__ import annotations

from common.models import BBox, Page, Rule, Word, WordSource
from common.structure import DocumentStructure
from extractors.pagetext import build_page_text
from extractors.structure import document_structure
from extractors.structure.order import ruled_cell_order

W, H = 612.0, 792.0  # a letter page in points


def _word(text: str, x: float, y: float, line: int) -> Word:
    width = 5.5 * len(text)
    box = BBox(x0=x / W, y0=y / H, x1=(x + width) / W, y1=(y + 10) / H)
    return Word(text=text, bbox=box, source=WordSource.TEXT_LAYER, line=line)


def _line(texts: list[tuple[str, float]], y: float, line: int) -> list[Word]:
    """Words of one printed line: (text, x) of each run, split on spaces."""
    out = []
    for run, x in texts:
        for part in run.split():
            out.append(_word(part, x, y, line))
            x += 5.5 * len(part) + 4
    return out


def _rules(top: float, bottom: float, walls: list[float]) -> tuple[Rule, ...]:
    left, right = walls[0], walls[-1]
    rules = [
        Rule(x0=left / W, y0=top / H, x1=right / W, y1=top / H, horizontal=True),
        Rule(x0=left / W, y0=bottom / H, x1=right / W, y1=bottom / H, horizontal=True),
    ]
    rules += [Rule(x0=x / W, y0=top / H, x1=x / W, y1=bottom / H, horizontal=False) for x in walls]
    return tuple(rules)


def _page(rows: list[list[tuple[str, float]]], top: float, walls: list[float]) -> Page:
    words = [w for n, row in enumerate(rows) for w in _line(row, top + 6 + 14 * n, n)]
    bottom = top + 10 + 14 * len(rows)
    return Page(
        number=1,
        width=W,
        height=H,
        words=tuple(words),
        source=WordSource.TEXT_LAYER,
        rules=_rules(top, bottom, walls),
    )


def _read(page: Page) -> list[str]:
    structure: DocumentStructure = document_structure([page])
    return build_page_text(ruled_cell_order([page], structure)).text.splitlines()


def test_two_ruled_cells_of_several_lines_are_read_one_after_the_other() -> None:
    page = _page(
        [
            [("Prior agents received:", 62), ("Prior anti-BCMA therapy (belantamab,", 314)],
            [("[x] Immunomodulatory agent", 62), ("teclistamab)? [ ] Yes [ ] No", 314)],
            [("[x] Proteasome inhibitor", 62), ("Prior CAR-T therapy? [ ] Yes [x] No", 314)],
            [("[x] Anti-CD38 antibody", 62)],
        ],
        top=100,
        walls=[56, 308, 560],
    )
    assert _read(page) == [
        "Prior agents received:",
        "[x] Immunomodulatory agent",
        "[x] Proteasome inhibitor",
        "[x] Anti-CD38 antibody",
        "Prior anti-BCMA therapy (belantamab,",
        "teclistamab)? [ ] Yes [ ] No",
        "Prior CAR-T therapy? [ ] Yes [x] No",
    ]


def test_a_table_row_of_one_line_per_cell_is_read_across() -> None:
    page = _page(
        [
            [("VRd", 62), ("01/2019 - 06/2019", 200), ("VGPR", 400)],
        ],
        top=100,
        walls=[56, 190, 390, 560],
    )
    assert _read(page) == ["VRd 01/2019 - 06/2019 VGPR"]


def test_a_row_with_one_wrapped_cell_is_still_read_across() -> None:
    page = _page(
        [
            [("VRd x4, ASCT, then lenalidomide", 62), ("01/2019 - 02/2022", 314)],
            [("maintenance", 62)],
        ],
        top=100,
        walls=[56, 308, 560],
    )
    assert _read(page)[0] == "VRd x4, ASCT, then lenalidomide 01/2019 - 02/2022"


def test_a_table_with_no_rules_between_its_rows_is_read_across() -> None:
    page = _page(
        [
            [("VRd", 62), ("01/2019 - 06/2019", 200)],
            [("DKd", 62), ("03/2022 - 10/2023", 200)],
            [("Isa-Pd", 62), ("11/2023 - 08/2025", 200)],
        ],
        top=100,
        walls=[56, 190, 560],
    )
    assert _read(page) == ["VRd 01/2019 - 06/2019", "DKd 03/2022 - 10/2023", "Isa-Pd 11/2023 - 08/2025"]


def test_a_forms_question_with_its_boxes_is_no_table_header() -> None:
    """Regression: "... Prior CAR-T therapy of any kind? ☐ Yes ☒ No" read as a header
    (a regimen column for "therapy", a line column for "No"), and the form's two columns
    below it as that table's rows."""
    from extractors.layout import pages_from_text

    pages = list(
        pages_from_text(
            "pomalidomide / thalidomide)      Prior CAR-T therapy of any kind?   ☐ Yes   ☒ No\n"
            "☒ Proteasome inhibitor (bortezomib /    Active or prior CNS involvement?   ☐ Yes   ☒ No\n"
            "ixazomib)                        ECOG:   ☐ 0   ☒ 1   ☐ 2\n"
            "☒ Anti-CD38 monoclonal antibody (daratumumab / isatuximab)\n"
        )
    )
    assert document_structure(pages).tables == ()


def test_a_table_row_whose_wrapped_cells_stand_beside_one_line_cells_is_read_across() -> None:
    """Regression: a history table continued on a page without its header, the regimen and
    the reason wrapped over several lines beside one-line dates, read cell by cell: the
    dates left their regimen."""
    page = _page(
        [
            [
                ("3", 62),
                ("EPd: elotuzumab 10 mg/kg", 80),
                ("07/05/2023", 300),
                ("PR", 380),
                ("Progression - new", 420),
            ],
            [("weekly then q4w;", 80), ("lesion L2", 420)],
            [("pomalidomide 4 mg", 80)],
        ],
        top=100,
        walls=[56, 76, 294, 374, 414, 560],
    )
    assert _read(page)[0] == "3 EPd: elotuzumab 10 mg/kg 07/05/2023 PR Progression - new"
