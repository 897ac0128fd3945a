"""No line of ink without words, or a warning.

Trap: tesseract's page layout analysis drops a whole line of a clean page and says
nothing ("autologous transplant, then lenalidomide maintenance for about three years"
was absent from a fine-mode consult's words, read perfectly on the plain image).  The
ink is checked against the words' boxes; a line with ink and no words is read again on
its own, then on the plain image, and what stays unread is a warning with its box.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from common.models import Page
from common.settings import Settings
from fixtures.render import fax_pages, save_fax_tiff, text_pdf
from reading import coverage, normalise
from reading.ocr import RawWord, default_engine, read_gaps
from reading.reader import read_document
from reading.tesseract import OsdResult

LINES = [
    "Consult note (synthetic): relapsed and refractory multiple myeloma.",
    "Induction with bortezomib, lenalidomide and dexamethasone in 2019.",
    "autologous transplant, then lenalidomide maintenance for about three years",
    "Second line daratumumab, pomalidomide and dexamethasone to 2023.",
    "Plan: idecabtagene vicleucel after lymphodepletion.",
]
DROPPED = LINES[2]


@pytest.fixture(scope="module")
def fine_fax(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("coverage")
    pdf = text_pdf(LINES, root / "consult.pdf")
    pages = fax_pages(pdf, dpi=(204, 196), seed=7, skew_deg=0.6, speckle=0.001)
    return save_fax_tiff(pages, root / "consult.tif", dpi=(204, 196), compression="group4")


def _drop_line(rows: Sequence[RawWord]) -> tuple[list[RawWord], list[RawWord]]:
    """(kept, dropped): the rows of the line that starts "autologous" taken out whole."""
    keys = {(r.block, r.par, r.line) for r in rows if r.text == "autologous"}
    assert keys, "tesseract did not read the line at all: the test needs it read first"
    dropped = [r for r in rows if (r.block, r.par, r.line) in keys]
    return [r for r in rows if (r.block, r.par, r.line) not in keys], dropped


@dataclass
class LineDroppingEngine:
    """The real engine, except that a full-page reading loses the words of one line, as
    layout analysis does; ``strips``: whether the reading of cut-out strips works."""

    strips: bool = True
    inner: object = field(default_factory=lambda: default_engine(Settings()))
    full_pages: int = 0

    def recognise(self, image: Image.Image, *, dpi: int, timeout: float) -> Sequence[RawWord]:
        rows = self.inner.recognise(image, dpi=dpi, timeout=timeout)  # type: ignore[attr-defined]
        if image.height > 1500:  # a page, not a strip of cut-outs
            self.full_pages += 1
            return _drop_line(rows)[0]
        return rows if self.strips else []

    def orientation(self, image: Image.Image, *, dpi: int, timeout: float) -> OsdResult | None:
        return self.inner.orientation(image, dpi=dpi, timeout=timeout)  # type: ignore[attr-defined]


def _text(page: Page) -> str:
    return " ".join(w.text for w in page.words)


@pytest.mark.ocr
def test_ink_without_words_is_found_where_the_line_was(fine_fax: Path) -> None:
    with Image.open(fine_fax) as img:
        prepared = normalise.prepare(img.copy(), (204, 196), 300)
    rows = default_engine(Settings()).recognise(prepared.image, dpi=prepared.dpi, timeout=60)
    kept, dropped = _drop_line(rows)
    ink = (np.asarray(prepared.image) < 128).astype(np.uint8)
    assert coverage.gaps(ink, prepared.dpi, rows) == []  # a full reading leaves no ink unread
    found = coverage.gaps(ink, prepared.dpi, kept)
    assert found, "the dropped line's ink was not noticed"
    top = min(r.top for r in dropped)
    bottom = max(r.top + r.height for r in dropped)
    assert all(g.top < bottom and g.bottom > top for g in found)  # on the dropped line, nowhere else


@pytest.mark.ocr
def test_a_line_layout_analysis_dropped_is_read_again(fine_fax: Path) -> None:
    engine = LineDroppingEngine()
    page = read_document(fine_fax, Settings(workers=1), engine=engine).pages[0]
    assert engine.full_pages >= 1
    # Read again, and in its place: after the line above it, before the line below.
    plain_words = _text(page).replace(",", "").replace(".", "")
    assert f"dexamethasone in 2019 {DROPPED} Second line".replace(",", "") in plain_words
    assert not [n for n in page.warnings if n.code == "unread_ink"]


@pytest.mark.ocr
def test_a_line_that_stays_unread_is_a_warning_with_its_box(fine_fax: Path) -> None:
    page = read_document(fine_fax, Settings(workers=1), engine=LineDroppingEngine(strips=False)).pages[0]
    assert "autologous" not in _text(page)
    unread = [n for n in page.warnings if n.code == "unread_ink"]
    assert unread and all(n.bbox is not None and n.page == 1 for n in unread)
    # The box lies between the words of the line above and the line below.
    above = next(w for w in page.words if w.text == "Induction").bbox
    below = next(w for w in page.words if w.text == "Second").bbox
    assert all(above.y1 <= n.bbox.y0 and n.bbox.y1 <= below.y0 for n in unread if n.bbox)


@pytest.mark.ocr
def test_read_gaps_tries_the_plain_image_when_the_strip_reads_nothing(fine_fax: Path) -> None:
    with Image.open(fine_fax) as img:
        source = img.copy()
    prepared = normalise.prepare(source, (204, 196), 300)
    kept, _ = _drop_line(default_engine(Settings()).recognise(prepared.image, dpi=prepared.dpi, timeout=60))
    asked: list[int] = []

    def plain() -> normalise.Prepared:
        asked.append(1)
        return normalise.plain(source, (204, 196), 300, 0)

    out, left = read_gaps(LineDroppingEngine(strips=True), prepared, kept, plain, timeout=60)
    assert left == [] and not asked  # read from the strip: the plain image was not needed
    assert {"autologous", "maintenance"} <= {r.text.strip(",.") for r in out}
