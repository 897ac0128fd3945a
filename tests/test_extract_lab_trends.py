"""Cumulative (trend) lab reports: a row holds one result per collection date, the dates
head the result columns.  Read as one line, the first value took the unit from beyond the
second and no date; an EHR export's tab-separated table did not even read as a table."""

from __future__ import annotations

from common.models import LabFact
from extractors.labs import read_labs
from extractors.pagetext import build_page_text
from extractors.structure import document_structure
from extractors.structure.index import StructureIndex
from reading.text import text_pages

TREND = (
    "Laboratory Results\n"
    "Cumulative results (collection dates in the header):\n"
    "Test\t05/08/2026\t08/02/2026\tUnits\tReference\n"
    "SPEP M-protein\t0.4\t1.3 H\tg/dL\t0.0\n"
    "UPEP M-protein (24 h)\t161 H\t\tmg/24 h\t<30\n"
    "serum free kappa light chain\t63.0 H\t805 H\tmg/L\t3.3-19.4\n"
    "FLC ratio\t11.25 H\t143.75 H\t\t0.26-1.65\n"
    "hemoglobin\t11.3 L\t9.4 L\tg/dL\t12.0-16.0\n"
)


def aligned(text: str) -> str:
    """The table as a printed report lays it out: each column as wide as its widest cell."""
    rows = [line.split("\t") for line in text.splitlines()]
    table = [r for r in rows if len(r) > 1]
    widths = [max(len(r[i]) for r in table if i < len(r)) for i in range(max(len(r) for r in table))]
    return "\n".join(
        "   ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() if len(r) > 1 else r[0]
        for r in rows
    )


def trend_labs(text: str) -> list[LabFact]:
    pages = text_pages(text)
    index = StructureIndex.build(document_structure(pages), pages)
    return [f for f in read_labs(build_page_text(pages), index=index) if not f.derived]


def test_tab_separated_cells_line_up_as_columns_however_long_a_cell() -> None:
    """expandtabs(8) put '63.0 H' after a 28-character name at column 32 and '0.4' after a
    14-character one at column 16: no column band, no table."""
    pages = text_pages(TREND)
    tables = document_structure(pages).tables
    assert len(tables) == 1
    assert [c.role for c in tables[0].columns] == ["test", "result", "result", "units", "reference_range"]
    assert [c.header.text for c in tables[0].columns if c.header][1:3] == ["05/08/2026", "08/02/2026"]


def test_each_dated_result_column_gives_its_own_value_unit_and_date() -> None:
    got = {(f.analyte, f.collected): (f.value, f.unit) for f in trend_labs(aligned(TREND))}
    assert got[("serum_m_protein", "2026-05-08")] == (0.4, "g/dL")
    assert got[("serum_m_protein", "2026-08-02")] == (1.3, "g/dL")
    assert got[("kappa_flc", "2026-05-08")] == (63.0, "mg/L")
    assert got[("kappa_flc", "2026-08-02")] == (805.0, "mg/L")
    assert got[("flc_ratio", "2026-08-02")] == (143.75, None)


def test_the_tab_separated_export_reads_as_its_printed_layout_does() -> None:
    def read(text: str) -> set[tuple]:
        return {(f.analyte, f.collected, f.value, f.unit) for f in trend_labs(text)}

    assert read(TREND) == read(aligned(TREND))
    assert ("kappa_flc", "2026-08-02", 805.0, "mg/L") in read(TREND)


def test_an_empty_cell_of_a_date_is_no_value_that_day() -> None:
    urine = [f for f in trend_labs(aligned(TREND)) if f.analyte == "urine_m_protein"]
    assert [(f.value, f.collected) for f in urine] == [(161.0, "2026-05-08")]


def test_a_history_row_with_dates_is_still_not_a_header() -> None:
    """Only a header that names the tests' column may carry dates in its cells."""
    text = "Line\tRegimen\t06/2020\t10/2020\n1\tVRd\t06/2020\t10/2020\n2\tKd\t11/2020\t03/2021\n"
    pages = text_pages(text)
    assert not any("result" in t.roles for t in document_structure(pages).tables)
