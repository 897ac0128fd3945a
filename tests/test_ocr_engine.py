"""The OCR engine seam: fake engines stand in for tesseract to inject faults
(crash, garbage, timeout), and the real wrapper's own failure modes."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from common import errors
from common.models import WordSource
from common.settings import Settings
from fixtures.render import save_fax_tiff
from reading import tesseract
from reading.ocr import RawWord
from reading.reader import read_document
from reading.tesseract import OsdResult, parse_tsv


@dataclass
class FakeEngine:
    """Returns fixed rows; records calls.  ``fail`` is raised on recognise."""

    rows: Sequence[RawWord] = ()
    fail: Exception | None = None
    osd: OsdResult | None = None
    calls: list[str] = field(default_factory=list)
    sizes: list[tuple[int, int]] = field(default_factory=list)  # of the images recognised
    lock: threading.Lock = field(default_factory=threading.Lock)

    def recognise(self, image: Image.Image, *, dpi: int, timeout: float) -> Sequence[RawWord]:
        with self.lock:
            self.calls.append("recognise")
            self.sizes.append(image.size)
        if self.fail is not None:
            raise self.fail
        return self.rows

    def orientation(self, image: Image.Image, *, dpi: int, timeout: float) -> OsdResult | None:
        with self.lock:
            self.calls.append("osd")
        return self.osd


def _row(text: str, conf: float, line: int = 1, left: int = 100) -> RawWord:
    return RawWord(
        text=text, left=left, top=100 * line, width=80, height=30, conf=conf, block=1, par=1, line=line
    )


GOOD_ROWS = [_row("Multiple", 96), _row("myeloma", 95, left=200), _row("relapsed", 93, line=2)]
GARBAGE_ROWS = [_row("~\\|", 12), _row("xkcdfgh", 20, left=200), _row("%$#", 8, line=2)]


@pytest.fixture(scope="module")
def inked_tiff(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two fax pages with some printed text (enough glyphs not to be blank)."""
    pages = []
    for n in range(2):
        img = Image.new("L", (1728, 2200), 255)
        draw = ImageDraw.Draw(img)
        for row in range(12):
            draw.text((150, 150 + row * 60), f"Line {row} of page {n + 1}: synthetic note text", fill=0)
        pages.append(img)
    return save_fax_tiff(pages, tmp_path_factory.mktemp("fake") / "two.tif", dpi=(204, 196))


@pytest.fixture(scope="module")
def blank_tiff(tmp_path_factory: pytest.TempPathFactory) -> Path:
    page = Image.new("L", (1728, 2200), 255)
    # A few specks of line noise: still blank.
    for x, y in [(100, 100), (900, 1500), (1500, 300)]:
        page.putpixel((x, y), 0)
    return save_fax_tiff([page], tmp_path_factory.mktemp("blank") / "blank.tif", dpi=(204, 196))


def test_good_rows_become_words_with_boxes_and_lines(inked_tiff: Path) -> None:
    engine = FakeEngine(rows=GOOD_ROWS)
    doc = read_document(inked_tiff, Settings(workers=2), engine=engine)
    page = doc.pages[0]
    assert [w.text for w in page.words] == ["Multiple", "myeloma", "relapsed"]
    assert [w.line for w in page.words] == [0, 0, 1]
    assert page.words[0].confidence == pytest.approx(0.96)
    assert all(w.source is WordSource.OCR for w in page.words)
    assert engine.calls.count("recognise") == 2  # one call per upright page, no OSD
    assert "osd" not in engine.calls


def test_engine_crash_surfaces_as_engine_error(inked_tiff: Path) -> None:
    engine = FakeEngine(fail=errors.EngineError("tesseract failed on a page: Segmentation fault"))
    with pytest.raises(errors.EngineError, match="Segmentation fault"):
        read_document(inked_tiff, Settings(workers=2), engine=engine)


def test_engine_timeout_surfaces_as_ocr_timeout(inked_tiff: Path) -> None:
    engine = FakeEngine(fail=errors.OcrTimeout("tesseract did not finish a page within 1 s."))
    with pytest.raises(errors.OcrTimeout):
        read_document(inked_tiff, Settings(workers=1), engine=engine)


def test_garbage_output_is_flagged_low_confidence_and_orientation_is_asked(inked_tiff: Path) -> None:
    engine = FakeEngine(rows=GARBAGE_ROWS, osd=None)
    doc = read_document(inked_tiff, Settings(workers=1), engine=engine)
    codes = [n.code for n in doc.pages[0].warnings]
    assert "low_confidence_page" in codes
    assert "osd" in engine.calls


def test_osd_turn_is_kept_only_when_the_reading_improves(inked_tiff: Path) -> None:
    engine = FakeEngine(rows=GARBAGE_ROWS, osd=OsdResult(rotate=180, confidence=9.0))
    doc = read_document(inked_tiff, Settings(workers=1), engine=engine)
    # The fake returns the same garbage either way, so the upright reading stays.
    assert doc.pages[0].rotation == 0


def test_blank_page_is_skipped_with_a_notice(blank_tiff: Path) -> None:
    engine = FakeEngine(rows=GOOD_ROWS)
    doc = read_document(blank_tiff, Settings(), engine=engine)
    page = doc.pages[0]
    assert page.blank and page.words == ()
    assert [n.code for n in page.warnings] == ["blank_page"]
    assert engine.calls == []  # no OCR spent on it
    assert [n.code for n in doc.warnings] == ["all_pages_blank"]


# ------------------------------------------------------------------ the real wrapper


TSV = (
    "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
    "1\t1\t0\t0\t0\t0\t0\t0\t2550\t3300\t-1\t\n"
    "5\t1\t1\t1\t1\t1\t10\t20\t30\t40\t91.5\tVRd\n"
    "5\t1\t1\t1\t1\t2\t50\t20\t30\t40\t-1\tghost\n"
    "5\t1\t1\t1\t1\t3\t90\t20\t30\t40\t88\t \n"
    "5\t1\t2\t1\t1\t1\t10\t90\t30\t40\t77\tDara\n"
)


def test_tsv_parser_keeps_words_drops_layout_rows_blank_and_unscored() -> None:
    rows = parse_tsv(TSV)
    assert [(r.text, r.conf, r.block) for r in rows] == [("VRd", 91.5, 1), ("Dara", 77.0, 2)]


def test_missing_tesseract_binary_is_an_engine_error_with_the_install_command(
    inked_tiff: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESSERACT_CMD", "/nonexistent/tesseract")
    with pytest.raises(errors.EngineError) as caught:
        read_document(inked_tiff, Settings(workers=1, ocr_engine="binary"))
    assert "apt-get install" in caught.value.hint


def test_missing_language_data_in_process_is_an_engine_error_with_the_install_command(
    inked_tiff: Path,
) -> None:
    with pytest.raises(errors.EngineError) as caught:
        read_document(inked_tiff, Settings(workers=1, ocr_language="zzz"))
    assert "apt-get install" in caught.value.hint


@pytest.mark.ocr
@pytest.mark.parametrize("engine", ["tesserocr", "binary"])
def test_both_engines_read_the_same_words(inked_tiff: Path, engine: str) -> None:
    """Either engine serves behind OcrEngine: same adapter, same words on a clean page."""
    page = read_document(inked_tiff, Settings(workers=1, ocr_engine=engine)).pages[0]  # type: ignore[arg-type]
    text = " ".join(w.text for w in page.words)
    assert "synthetic note text" in text and "Line 11 of page 1" in text


@pytest.mark.ocr
@pytest.mark.parametrize("engine", ["tesserocr", "binary"])
def test_real_tesseract_timeout_is_ocr_timeout(inked_tiff: Path, engine: str) -> None:
    with pytest.raises(errors.OcrTimeout, match="did not finish"):
        read_document(inked_tiff, Settings(workers=1, ocr_timeout_s=0.01, ocr_engine=engine))  # type: ignore[arg-type]


@pytest.mark.ocr
def test_osd_on_an_empty_image_is_none_not_an_error() -> None:
    assert tesseract.image_to_osd(Image.new("L", (600, 800), 255)) is None
