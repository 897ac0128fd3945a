"""A borderless table's last row and the line written under it.

Trap: "CAR-T: none.   BCMA-directed therapy: none.   Trials: none." right under
a history table fitted its columns phrase by phrase, each field over one bound, and was
read as the last row's wrapped cells: "CAR-T" took that row's dates, a prior CAR-T."""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from common.settings import Settings
from extractors.structure import document_structure
from reading.reader import read_document

# x of each column: Line, Regimen, Start, Stop, Best resp., Comments (points)
_X = (43, 85, 261, 304, 352, 397)
_ROWS = [
    ("Line", "Regimen", "Start", "Stop", "Best resp.", "Comments"),
    ("1", "VRd (Velcade/Revlimid/dex) x 4", "Jun-17", "Sep-17", "VGPR", "planned completion"),
    ("2", "DVd (Darzalex IV / Velcade / dex),", "Oct-20", "Apr-22", "VGPR", "PD - rising M-spike, anemia"),
    ("", "dara continued as monotherapy", "", "", "", ""),
    ("3", "KPd (Kyprolis 56 mg/m2 weekly /", "May-22", "Sep-26", "PR", "held 8/24-1/25 (caregiver"),
    ("", "Pomalyst 4 mg / dex)", "", "", "", "illness), KPd resumed Feb-25"),
    ("", "", "", "", "", "at same doses; PD 9/26 - stopped"),
]


def _page(path: Path) -> Path:
    c = canvas.Canvas(str(path), pagesize=letter)
    c.setFont("Helvetica", 9)
    y = 700.0
    c.drawString(43, y + 24, "Myeloma Treatment Timeline (fictional patient)")
    for row in _ROWS:
        for x, text in zip(_X, row, strict=True):
            if text:
                c.drawString(x, y, text)
        y -= 11 if not row[0] and row is not _ROWS[0] else 13
    y -= 4
    for x, text in ((43, "CAR-T: none."), (108, "BCMA-directed therapy: none."), (275, "Trials: none.")):
        c.drawString(x, y, text)
    c.save()
    return path


def test_fields_written_across_the_columns_under_a_table_are_no_row_of_it(tmp_path: Path) -> None:
    pages = read_document(_page(tmp_path / "foot.pdf"), Settings(workers=1)).pages
    tables = document_structure(pages).tables
    assert len(tables) == 1
    cells = [c.text for r in tables[0].rows for c in r.cells]
    assert any("KPd" in c for c in cells)
    assert not any("none" in c or "CAR-T" in c for c in cells)
