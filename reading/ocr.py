"""OCR of page images: the engine interface, the adapter from engine rows to Words,
and the page loop that runs pages in parallel.

The engine sits behind :class:`OcrEngine` so tests can stand a fake in for
tesseract (crash, garbage, timeout).  The thin wrapper around the binary lives in
:mod:`reading.tesseract`; this module never parses tesseract's output itself.

Parallelism: each page is recognised by its own ``tesseract`` process, so pages
already run in separate worker processes; a thread per worker only prepares the
image (OpenCV and NumPy release the GIL) and waits on that process.  That avoids
forking a process that may hold threads (the API server) and pickling page
images between processes.  No pool is made for a single page or ``workers=1``.
Orientation costs a second tesseract call only when the page looks sideways or
the upright reading came out poor, so an upright page costs one call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import Protocol

from PIL import Image

from common.errors import CorruptFile, IntakeError
from common.models import Mark, Notice, Page, Rule, Word, WordSource
from common.settings import Settings
from reading import normalise, tesseract
from reading.quality import score_tokens
from reading.tesseract import OsdResult, TsvWord

RawWord = TsvWord  # what an engine returns: text, pixel box, confidence 0..100, layout ids

# Tesseract's OSD "orientation confidence" is a log-odds-like score; below ~1.5 it
# is a guess (measured: upright text pages score 5-10, upside-down 8-12).
_OSD_MIN_CONFIDENCE = 1.5
# An upright reading this poor may be a page upside down: ask OSD.
_POOR_MEAN_CONFIDENCE = 0.70
_POOR_GOOD_SHARE = 0.6


class OcrEngine(Protocol):
    """What the page loop needs from an OCR engine.  Implementations must be thread-safe."""

    def recognise(self, image: Image.Image, *, dpi: int, timeout: float) -> Sequence[RawWord]: ...

    def orientation(self, image: Image.Image, *, dpi: int, timeout: float) -> OsdResult | None: ...


@dataclass(frozen=True)
class TesseractEngine:
    lang: str = "eng"
    psm: int = 3

    def recognise(self, image: Image.Image, *, dpi: int, timeout: float) -> Sequence[RawWord]:
        return tesseract.image_to_words(image, lang=self.lang, psm=self.psm, dpi=dpi, timeout=timeout)

    def orientation(self, image: Image.Image, *, dpi: int, timeout: float) -> OsdResult | None:
        return tesseract.image_to_osd(image, dpi=dpi, timeout=timeout)


def default_engine(settings: Settings) -> OcrEngine:
    return TesseractEngine(lang=settings.ocr_language)


# ------------------------------------------------------------------ adapter


def to_words(rows: Sequence[RawWord], prepared: normalise.Prepared) -> tuple[Word, ...]:
    """Engine rows -> Words with boxes on the original page and reading-order line numbers."""
    line_of: dict[tuple[int, int, int], int] = {}
    words: list[Word] = []
    for row in rows:
        text = row.text.strip()
        if not text or row.conf < 0:
            continue
        key = (row.block, row.par, row.line)
        line = line_of.setdefault(key, len(line_of))
        words.append(
            Word(
                text=text,
                bbox=prepared.box(row.left, row.top, row.left + row.width, row.top + row.height),
                confidence=min(1.0, max(0.0, row.conf / 100.0)),
                source=WordSource.OCR,
                line=line,
            )
        )
    return tuple(words)


def to_rules(prepared: normalise.Prepared) -> tuple[Rule, ...]:
    """The ruling lines removed before OCR, as segments on the original page."""
    rules: list[Rule] = []
    for seg in prepared.rules:
        x0, y0 = prepared.point(seg.x0, seg.y0)
        x1, y1 = prepared.point(seg.x1, seg.y1)
        rules.append(Rule(x0=x0, y0=y0, x1=x1, y1=y1, horizontal=seg.horizontal))
    return tuple(rules)


def to_marks(prepared: normalise.Prepared) -> tuple[Mark, ...]:
    """The checkbox squares of the prepared image, boxed on the original page."""
    return tuple(
        Mark(bbox=prepared.box(sq.left, sq.top, sq.right, sq.bottom), fill=min(1.0, max(0.0, sq.fill)))
        for sq in prepared.squares
    )


def _quality(rows: Sequence[RawWord]) -> tuple[float, float]:
    """(mean confidence 0..1, share of word-like tokens) of a reading."""
    if not rows:
        return 0.0, 0.0
    mean = sum(r.conf for r in rows) / len(rows) / 100.0
    return mean, score_tokens([r.text for r in rows]).good_share


def _poor(rows: Sequence[RawWord]) -> bool:
    mean, good = _quality(rows)
    return mean < _POOR_MEAN_CONFIDENCE or good < _POOR_GOOD_SHARE


def _better(a: Sequence[RawWord], b: Sequence[RawWord]) -> bool:
    """Is reading ``a`` better than ``b``?"""
    ma, ga = _quality(a)
    mb, gb = _quality(b)
    return ma * ga > mb * gb


# ------------------------------------------------------------------ second reading

# Words tesseract all but gave up on (confidence below this, 0..100) are read again on
# their own.  A higher bar costs a second call on most pages (measured on `intake
# bench`: 1.32x bare tesseract CPU at 60, 1.19x at 60 for short tokens only, 1.04x
# at 30; the goal is 1.15x).
_REREAD_BELOW = 30.0
_REREAD_MAX = 40
# Short tokens (abbreviations, regimen codes, dates) are where the line model's
# context misleads it; long words it reads better in context than alone.
_REREAD_MAX_CHARS = 8


def _doubtful(row: RawWord) -> bool:
    return (
        0 <= row.conf < _REREAD_BELOW
        and len(row.text) <= _REREAD_MAX_CHARS
        and row.width > 2
        and row.height > 2
        and any(c.isalnum() for c in row.text)
    )


def reread_doubtful(
    engine: OcrEngine, image: Image.Image, rows: Sequence[RawWord], *, dpi: int, timeout: float
) -> list[RawWord]:
    """Read doubtful words again, each cut out alone, all in one engine call.

    In a table row tesseract's line model reads a word through its neighbours
    ("VRd" comes out "VRA" at confidence 0 beside a date column); the same word
    cut out alone reads right.  The cut-outs are stacked in one strip with wide
    gaps, so a page costs one extra call at most, and none when nothing is in
    doubt.  A second reading replaces the first only when it is a single word
    read with more confidence; the box stays the first reading's.
    """
    picks = [i for i, r in enumerate(rows) if _doubtful(r)][:_REREAD_MAX]
    if not picks:
        return list(rows)
    crops: list[Image.Image] = []
    for i in picks:
        r = rows[i]
        px, py = max(4, r.height // 2), max(4, r.height // 3)
        crops.append(image.crop((r.left - px, r.top - py, r.left + r.width + px, r.top + r.height + py)))
    gap = max(8, max(c.height for c in crops) // 2)
    strip = Image.new(
        "L", (max(c.width for c in crops) + 2 * gap, sum(c.height + gap for c in crops) + gap), 255
    )
    bands: list[tuple[int, int]] = []
    y = gap
    for crop in crops:
        strip.paste(crop.convert("L"), (gap, y))
        bands.append((y, y + crop.height))
        y += crop.height + gap
    try:
        again = engine.recognise(strip, dpi=dpi, timeout=timeout)
    except IntakeError:
        return list(rows)  # the first reading stands; a second one is only a help
    found: dict[int, list[RawWord]] = {}
    for row in again:
        if not row.text.strip() or row.conf < 0:
            continue
        middle = row.top + row.height / 2
        band = next((b for b, (top, bottom) in enumerate(bands) if top <= middle <= bottom), None)
        if band is not None:
            found.setdefault(band, []).append(row)
    out = list(rows)
    for band, i in enumerate(picks):
        hits = found.get(band, [])
        if len(hits) == 1 and hits[0].conf > rows[i].conf:
            out[i] = replace(rows[i], text=hits[0].text.strip(), conf=hits[0].conf)
    return out


# ------------------------------------------------------------------ labels beside boxes

# Tesseract's layout analysis takes a checkbox and a short label after it ("☒ 1", "[ ] No")
# for noise and drops both (measured: tests/test_structure_checkbox_readings.py, half of
# the empty "[ ]" at 204x98).  The squares normalise found say where a box stands; the band
# right of one with ink and no word is read again on its own, in one call for the page.
_BESIDE_SIDES = 5  # the band is this many box sides wide
_BESIDE_MIN_INK = 0.01


def _ink_share(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    import numpy as np

    region = np.asarray(image.crop(box).convert("L"))
    return float((region < 128).mean()) if region.size else 0.0


def read_beside_squares(
    engine: OcrEngine, prepared: normalise.Prepared, rows: Sequence[RawWord], *, timeout: float
) -> list[RawWord]:
    squares = prepared.squares
    if not squares:
        return list(rows)
    regions: list[tuple[int, int, int, int]] = []
    for sq in squares:
        side = sq.bottom - sq.top
        top, bottom = sq.top - side // 3, sq.bottom + side // 3
        left = sq.right + max(2, side // 5)
        right = left + _BESIDE_SIDES * side
        for other in squares:
            if other is not sq and other.left >= sq.right and min(other.bottom, bottom) > max(other.top, top):
                right = min(right, other.left - 2)
        if right - left < side:
            continue
        read = any(
            r.left < right and r.left + r.width > left and r.top < bottom and r.top + r.height > top
            for r in rows
        )
        if read or _ink_share(prepared.image, (left, top, right, bottom)) < _BESIDE_MIN_INK:
            continue
        regions.append((left, top, right, bottom))
    if not regions:
        return list(rows)
    crops = [prepared.image.crop(r) for r in regions]
    gap = max(8, max(c.height for c in crops) // 2)
    strip = Image.new(
        "L", (max(c.width for c in crops) + 2 * gap, sum(c.height + gap for c in crops) + gap), 255
    )
    bands: list[int] = []
    y = gap
    for crop in crops:
        strip.paste(crop.convert("L"), (gap, y))
        bands.append(y)
        y += crop.height + gap
    # The strip is one block of short lines: page layout analysis (psm 3) drops a lone "1"
    # there too; as a uniform block (psm 6) it is read.
    block = replace(engine, psm=6) if isinstance(engine, TesseractEngine) else engine
    try:
        found = block.recognise(strip, dpi=prepared.dpi, timeout=timeout)
    except IntakeError:
        return list(rows)  # the first reading stands
    out = list(rows)
    for row in found:
        if not row.text.strip() or row.conf < 0:
            continue
        middle = row.top + row.height / 2
        band = next((b for b, top in enumerate(bands) if top <= middle <= top + crops[b].height), None)
        if band is None:
            continue
        left, top, _, _ = regions[band]
        out.append(
            replace(
                row,
                left=left + row.left - gap,
                top=top + row.top - bands[band],
                block=100_000 + band,  # a line of its own
                par=0,
                line=0,
            )
        )
    return out


# ------------------------------------------------------------------ one page


@dataclass(frozen=True)
class PageImage:
    """A page to OCR: the image as stored and the page's size in its own units."""

    image: Image.Image
    dpi: tuple[float, float] | None  # from the file's tags; None when unknown
    width: float  # page size in original units (pixels for images, points for PDF)
    height: float


def _osd(engine: OcrEngine, sq: normalise.Squared, settings: Settings) -> OsdResult | None:
    result = engine.orientation(
        Image.fromarray(sq.grey, mode="L"), dpi=sq.dpi, timeout=settings.ocr_timeout_s
    )
    if result is None or result.rotate not in (90, 180, 270) or result.confidence < _OSD_MIN_CONFIDENCE:
        return None
    return result


def ocr_page(source: PageImage, number: int, engine: OcrEngine, settings: Settings) -> Page:
    sq = normalise.square(source.image, source.dpi, settings.ocr_dpi)
    dpi = sq.original_dpi
    common = {"number": number, "width": source.width, "height": source.height, "dpi": dpi}
    if sq.blank:
        notice = Notice(code="blank_page", message=f"page {number} is blank; nothing to read.", page=number)
        return Page(**common, source=WordSource.OCR, blank=True, warnings=(notice,))

    timeout = settings.ocr_timeout_s
    asked_osd = False
    rotation = 0
    if normalise.looks_sideways(sq.ink, sq.dpi):
        asked_osd = True
        osd = _osd(engine, sq, settings)
        rotation = osd.rotate if osd else 0
    prepared = normalise.orient(sq, rotation)
    rows = engine.recognise(prepared.image, dpi=prepared.dpi, timeout=timeout)
    if not asked_osd and _poor(rows):
        osd = _osd(engine, sq, settings)
        if osd:
            turned = normalise.orient(sq, osd.rotate)
            turned_rows = engine.recognise(turned.image, dpi=turned.dpi, timeout=timeout)
            if _better(turned_rows, rows):
                prepared, rows = turned, turned_rows

    rows = reread_doubtful(engine, prepared.image, rows, dpi=prepared.dpi, timeout=timeout)
    rows = read_beside_squares(engine, prepared, rows, timeout=timeout)
    words = to_words(rows, prepared)
    notices: list[Notice] = []
    if prepared.rotation:
        how = "upside down" if prepared.rotation == 180 else "sideways"
        notices.append(
            Notice(
                code="page_rotated",
                message=f"page {number} was {how}; it was read after turning it "
                f"{prepared.rotation} degrees clockwise.",
                page=number,
            )
        )
    page = Page(
        **common,
        words=words,
        source=WordSource.OCR,
        rotation=prepared.rotation,
        skew=prepared.skew,
        rules=to_rules(prepared),
        marks=to_marks(prepared),
        warnings=tuple(notices),
    )
    mean = page.mean_confidence
    if mean is None or mean < settings.low_page_confidence:
        shown = "no words" if mean is None else f"mean word confidence {mean:.2f}"
        low = Notice(
            code="low_confidence_page",
            message=f"page {number} was hard to read ({shown}); a person should check it.",
            page=number,
        )
        page = page.model_copy(update={"warnings": (*page.warnings, low)})
    return page


# ------------------------------------------------------------------ many pages


Loader = Callable[[], PageImage]


def _run_one(load: Loader, number: int, engine: OcrEngine, settings: Settings) -> Page:
    try:
        source = load()
    except IntakeError:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as err:
        raise CorruptFile(f"page {number} could not be decoded: {err}.") from err
    return ocr_page(source, number, engine, settings)


def ocr_pages(
    jobs: Sequence[tuple[int, Loader]], *, engine: OcrEngine, settings: Settings
) -> dict[int, Page]:
    """OCR each (page number, loader); pages in parallel when there are several."""
    if not jobs:
        return {}
    workers = min(settings.workers, len(jobs))
    if workers <= 1:
        return {n: _run_one(load, n, engine, settings) for n, load in jobs}
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ocr")
    try:
        futures: dict[Future[Page], int] = {
            pool.submit(_run_one, load, n, engine, settings): n for n, load in jobs
        }
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for fut in done:
            err = fut.exception()
            if err is not None:
                raise err
        return {futures[f]: f.result() for f in futures}
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# Rendering PDF pages and reading TIFF frames share library state that is not
# thread-safe (pdfium above all); loaders take this lock while they decode.
DECODE_LOCK = threading.Lock()
