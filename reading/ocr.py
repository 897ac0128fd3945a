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

import logging
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import Any, Protocol

from PIL import Image

from common.errors import CorruptFile, IntakeError
from common.models import Mark, Notice, Page, Rule, Word, WordSource
from common.settings import Settings
from reading import coverage, normalise, tesseract
from reading.quality import score_tokens
from reading.tesseract import OsdResult, TsvWord

log = logging.getLogger(__name__)

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
    """The ``tesseract`` binary, one process per call (:mod:`reading.tesseract`)."""

    lang: str = "eng"
    psm: int = 3

    def with_psm(self, psm: int) -> TesseractEngine:
        return replace(self, psm=psm)

    def recognise(self, image: Image.Image, *, dpi: int, timeout: float) -> Sequence[RawWord]:
        return tesseract.image_to_words(image, lang=self.lang, psm=self.psm, dpi=dpi, timeout=timeout)

    def orientation(self, image: Image.Image, *, dpi: int, timeout: float) -> OsdResult | None:
        return tesseract.image_to_osd(image, dpi=dpi, timeout=timeout)


def default_engine(settings: Settings) -> OcrEngine:
    """libtesseract in process when tesserocr and the language data are there (the model
    loaded once per thread: 0.70 s of CPU a fine-fax page against the binary's 1.23 s,
    measured on the bench's pages), else the binary."""
    from reading import inprocess

    if settings.ocr_engine != "binary" and inprocess.available():
        return inprocess.TesserocrEngine(lang=settings.ocr_language)
    return TesseractEngine(lang=settings.ocr_language)


def engine_version(settings: Settings) -> str:
    """What reads the pages, for recordings' fingerprints and the bench."""
    from reading import inprocess

    if settings.ocr_engine != "binary" and inprocess.available():
        return inprocess.version()
    return tesseract.version()


def _recognise(engine: OcrEngine, prepared: normalise.Prepared, timeout: float) -> Sequence[RawWord]:
    """The engine's reading of a prepared page, handed its pixels as they are when the engine
    takes them (the in-process one: ``recognise_pixels``), else its image."""
    by_pixels = getattr(engine, "recognise_pixels", None)
    if callable(by_pixels) and prepared.pixels is not None:
        return by_pixels(prepared.pixels, dpi=prepared.dpi, timeout=timeout)
    return engine.recognise(prepared.image, dpi=prepared.dpi, timeout=timeout)


def _pixels(prepared: normalise.Prepared) -> Any:
    """A prepared page's grey pixels (an 8-bit array), without copying them out of PIL when
    normalise kept them."""
    import numpy as np

    return prepared.pixels if prepared.pixels is not None else np.asarray(prepared.image)


def _with_psm(engine: OcrEngine, psm: int) -> OcrEngine:
    """The engine reading with another page segmentation mode, when it has one."""
    with_psm = getattr(engine, "with_psm", None)
    return with_psm(psm) if callable(with_psm) else engine


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


@dataclass(frozen=True)
class Quality:
    """How well a reading went: mean confidence 0..1 and the share of word-like tokens.
    Scored once per reading (the token scoring is a page's worth of Python) and kept
    beside the rows for every decision that follows."""

    mean: float
    good: float

    @staticmethod
    def of(rows: Sequence[RawWord]) -> Quality:
        if not rows:
            return Quality(0.0, 0.0)
        mean = sum(r.conf for r in rows) / len(rows) / 100.0
        return Quality(mean, score_tokens([r.text for r in rows]).good_share)

    @property
    def poor(self) -> bool:
        """So poor the page may be upside down."""
        return self.mean < _POOR_MEAN_CONFIDENCE or self.good < _POOR_GOOD_SHARE

    def better_than(self, other: Quality) -> bool:
        return self.mean * self.good > other.mean * other.good


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
    out = list(rows)
    for band, found in enumerate(
        read_regions(engine, prepared.image, regions, dpi=prepared.dpi, timeout=timeout)
    ):
        out.extend(replace(r, block=100_000 + band, par=0, line=0) for r in found)  # a line of its own
    return out


def read_regions(
    engine: OcrEngine,
    image: Image.Image,
    regions: Sequence[tuple[int, int, int, int]],
    *,
    dpi: int,
    timeout: float,
) -> list[list[RawWord]]:
    """Read each region of ``image`` on its own, all in one engine call; the words of each,
    boxed in ``image``'s pixels.  Nothing (not an error) when the engine fails: a second
    reading is only a help."""
    if not regions:
        return []
    crops = [image.crop(r) for r in regions]
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
    # there; as a uniform block (psm 6) it is read.
    try:
        found = _with_psm(engine, 6).recognise(strip, dpi=dpi, timeout=timeout)
    except IntakeError:
        return [[] for _ in regions]
    out: list[list[RawWord]] = [[] for _ in regions]
    for row in found:
        if not row.text.strip() or row.conf < 0:
            continue
        middle = row.top + row.height / 2
        band = next((b for b, top in enumerate(bands) if top <= middle <= top + crops[b].height), None)
        if band is None:
            continue
        left, top, _, _ = regions[band]
        out[band].append(replace(row, left=left + row.left - gap, top=top + row.top - bands[band]))
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


def _turned(
    sq: normalise.Squared,
    prepared: normalise.Prepared,
    rows: Sequence[RawWord],
    quality: Quality,
    engine: OcrEngine,
    settings: Settings,
) -> tuple[normalise.Prepared, Sequence[RawWord], Quality]:
    """The page read poorly upright: read it turned as OSD says, or upside down when OSD
    sees no turn, and keep the better reading.  OSD is unsure on squared normal-mode faxes
    (an upside-down page of the corpus: "Rotate: 0" at confidence 1.7, while the page read
    turned had a mean word confidence of 0.71 against 0.25), and a page fed upside down is
    the commonest turn."""
    osd = _osd(engine, sq, settings)
    rotate = osd.rotate if osd else 180
    turned = normalise.orient(sq, rotate)
    turned_rows = _recognise(engine, turned, settings.ocr_timeout_s)
    turned_quality = Quality.of(turned_rows)
    if turned_quality.better_than(quality):
        return turned, turned_rows, turned_quality
    return prepared, rows, quality


# A page read this poorly (mean confidence 0..1, or share of word-like tokens) is read
# again on the plain square-pixel image, and the better reading is kept: despeckle,
# deskew and rule removal help most pages and ruin a few.
_CHECK_PLAIN_MEAN = 0.80
_CHECK_PLAIN_GOOD = 0.80


def _check_plain(quality: Quality) -> bool:
    return quality.mean < _CHECK_PLAIN_MEAN or quality.good < _CHECK_PLAIN_GOOD


# The plain image is first read on a sample: the middle third of the page, cut where the
# rows are emptiest within this share of the page's height of each third.
_SAMPLE_CUT_SLACK = 0.05


def plain_may_win(
    engine: OcrEngine,
    plain: normalise.Prepared,
    prepared: normalise.Prepared,
    rows: Sequence[RawWord],
    *,
    timeout: float,
) -> bool:
    """Could the plain image's reading beat ``rows``?  Asked on the middle third of the page
    before the whole plain image is read: on the corpus the plain reading lost on most of
    the pages that asked (11 of 13, and 4 of 4 on the bench's normal-mode fax), each time
    for a whole page's recognition.  The sample's reading is set against the words of
    ``rows`` in the same band; only a sample that reads better has the whole page read."""
    import numpy as np

    width, height = plain.image.size
    if height < 300:
        return True
    profile = (_pixels(plain) < 128).sum(axis=1)
    slack = max(1, round(_SAMPLE_CUT_SLACK * height))

    def cut(y: int) -> int:
        lo, hi = max(0, y - slack), min(height, y + slack)
        return lo + int(np.argmin(profile[lo:hi]))

    top, bottom = cut(height // 3), cut(2 * height // 3)
    mine = [r for r in _into(rows, prepared, plain) if top <= r.top + r.height / 2 < bottom]
    if not mine or bottom - top < 50:
        return True  # nothing to set the sample against: read the page
    sample = engine.recognise(plain.image.crop((0, top, width, bottom)), dpi=plain.dpi, timeout=timeout)
    return Quality.of(sample).better_than(Quality.of(mine))


def _into(rows: Sequence[RawWord], src: normalise.Prepared, dst: normalise.Prepared) -> list[RawWord]:
    """Rows boxed in ``src``'s pixels, boxed in ``dst``'s (both images of one page)."""
    import numpy as np

    m = dst.to_prepared.m @ src.to_prepared.inverse().m
    out = []
    for r in rows:
        pts = (
            np.array(
                [
                    [r.left, r.top, 1],
                    [r.left + r.width, r.top, 1],
                    [r.left, r.top + r.height, 1],
                    [r.left + r.width, r.top + r.height, 1],
                ],
                dtype=float,
            )
            @ m.T
        )
        x0, y0 = pts[:, 0].min(), pts[:, 1].min()
        x1, y1 = pts[:, 0].max(), pts[:, 1].max()
        out.append(
            replace(
                r, left=round(x0), top=round(y0), width=max(1, round(x1 - x0)), height=max(1, round(y1 - y0))
            )
        )
    return out


def _gap_regions(gaps: Sequence[coverage.Gap], size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    w, h = size
    out = []
    for g in gaps:
        pad = max(4, (g.bottom - g.top) // 3)
        out.append((max(0, g.left - pad), max(0, g.top - pad), min(w, g.right + pad), min(h, g.bottom + pad)))
    return out


def _fill(gap: coverage.Gap, found: Sequence[RawWord]) -> list[RawWord]:
    """The words read again that belong in ``gap``: their middle inside it, letters or digits in them."""
    return [
        r
        for r in found
        if gap.left - 2 <= r.left + r.width / 2 <= gap.right + 2
        and gap.top - 2 <= r.top + r.height / 2 <= gap.bottom + 2
        and any(c.isalnum() for c in r.text)
    ]


def _merge(rows: list[RawWord], group: list[RawWord]) -> list[RawWord]:
    """``rows`` with the words of one stretch read again put in reading order: into the
    line they continue (sharing its line, left to right), or after the words above them."""
    g_top = min(r.top for r in group)
    g_bottom = max(r.top + r.height for r in group)
    g_left = min(r.left for r in group)
    half = max(1, (g_bottom - g_top) // 2)
    same = [
        i
        for i, r in enumerate(rows)
        if min(r.top + r.height, g_bottom) - max(r.top, g_top) >= min(half, r.height // 2)
    ]
    if same:
        key = rows[same[0]]
        group = [replace(r, block=key.block, par=key.par, line=key.line) for r in group]
        right = [i for i in same if rows[i].left > g_left]
        at = right[0] if right else same[-1] + 1
    else:
        above = [i for i, r in enumerate(rows) if r.top + r.height / 2 < g_top]
        at = above[-1] + 1 if above else 0
    return [*rows[:at], *sorted(group, key=lambda r: r.left), *rows[at:]]


def read_gaps(
    engine: OcrEngine,
    prepared: normalise.Prepared,
    rows: Sequence[RawWord],
    plain: Callable[[], normalise.Prepared] | None,
    *,
    timeout: float,
) -> tuple[list[RawWord], list[coverage.Gap]]:
    """No line of ink without words: each stretch of ink no word covers is read again on
    its own (one call for the page), then on the plain image if still empty; what stays
    unread is returned, in ``prepared``'s pixels, for a warning."""
    import numpy as np

    ink = (_pixels(prepared) < 128).view(np.uint8)  # bool is a byte of 0 or 1
    skip = [(sq.left - 2, sq.top - 2, sq.right + 2, sq.bottom + 2) for sq in prepared.squares]
    found_gaps = coverage.gaps(ink, prepared.dpi, rows, skip=skip)[:_GAPS_MAX]
    if not found_gaps:
        return list(rows), []
    out = list(rows)
    regions = _gap_regions(found_gaps, prepared.image.size)
    again = read_regions(engine, prepared.image, regions, dpi=prepared.dpi, timeout=timeout)
    left: list[int] = []
    for i, (gap, found) in enumerate(zip(found_gaps, again, strict=True)):
        words = _fill(gap, found)
        if words:
            out = _merge(out, [replace(r, block=200_000 + i, par=0, line=0) for r in words])
        else:
            left.append(i)
    if left and plain is not None:
        other = plain()
        boxes = _into(
            [
                RawWord("", g.left, g.top, g.right - g.left, g.bottom - g.top, 0, 0, 0, 0)
                for g in (found_gaps[i] for i in left)
            ],
            prepared,
            other,
        )
        there = [coverage.Gap(b.left, b.top, b.left + b.width, b.top + b.height) for b in boxes]
        again = read_regions(
            engine, other.image, _gap_regions(there, other.image.size), dpi=other.dpi, timeout=timeout
        )
        still: list[int] = []
        for i, gap, found in zip(left, there, again, strict=True):
            words = _fill(gap, found)
            if words:
                back = _into(words, other, prepared)
                out = _merge(out, [replace(r, block=300_000 + i, par=0, line=0) for r in back])
            else:
                still.append(i)
        left = still
    log.debug("ink without words: %d stretches, %d still unread", len(found_gaps), len(left))
    return out, [found_gaps[i] for i in left]


# At most this many stretches of a page are read again (a page of handwriting or a
# photo would otherwise be read piece by piece); the rest are flagged.
_GAPS_MAX = 40


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
    if normalise.looks_sideways(sq.ink, sq.dpi, points=sq.points):
        asked_osd = True
        osd = _osd(engine, sq, settings)
        rotation = osd.rotate if osd else 0
    prepared = normalise.orient(sq, rotation)
    rows: Sequence[RawWord] = _recognise(engine, prepared, timeout)
    quality = Quality.of(rows)
    if not asked_osd and quality.poor:
        prepared, rows, quality = _turned(sq, prepared, rows, quality, engine, settings)

    plain_image: normalise.Prepared | None = None

    def plain() -> normalise.Prepared:
        nonlocal plain_image
        if plain_image is None:
            plain_image = normalise.plain(source.image, source.dpi, settings.ocr_dpi, prepared.rotation)
        return plain_image

    # The page read poorly after normalisation: read the plain image too, keep the better.
    frame = prepared
    if _check_plain(quality) and plain_may_win(engine, plain(), prepared, rows, timeout=timeout):
        plain_rows = _recognise(engine, plain(), timeout)
        if Quality.of(plain_rows).better_than(quality):
            rows = _into(plain_rows, plain(), prepared)

    rows = reread_doubtful(engine, frame.image, rows, dpi=frame.dpi, timeout=timeout)
    rows = read_beside_squares(engine, frame, rows, timeout=timeout)
    rows, unread = read_gaps(engine, frame, rows, plain, timeout=timeout)
    words = to_words(rows, frame)
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
    for gap in unread:
        notices.append(
            Notice(
                code="unread_ink",
                message=f"page {number}: a stretch of print could not be read; "
                "a person should read it on the page (its box is given).",
                page=number,
                bbox=frame.box(*gap.box),
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
    with _progress(len(jobs)) as shown:
        if workers <= 1:
            pages = {}
            for n, load in jobs:
                pages[n] = _run_one(load, n, engine, settings)
                shown.update(1)
            return pages
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ocr")
        try:
            futures: dict[Future[Page], int] = {}
            for n, load in jobs:
                fut = pool.submit(_run_one, load, n, engine, settings)
                fut.add_done_callback(lambda _: shown.update(1))
                futures[fut] = n
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for fut in done:
                err = fut.exception()
                if err is not None:
                    raise err
            return {futures[f]: f.result() for f in futures}
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


# A fax this long shows how far the reading has got (on a terminal only).
_PROGRESS_MIN_PAGES = 3


def _progress(total: int) -> Any:
    """Pages read of the total on stderr, when stderr is a terminal (tqdm's ``disable=None``):
    never in a service's logs or a pipe."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc="reading",
        unit="page",
        file=sys.stderr,
        disable=None if total >= _PROGRESS_MIN_PAGES else True,
        leave=False,
        bar_format="{desc}: page {n_fmt} of {total_fmt} read [{elapsed}<{remaining}]",
    )


# Rendering PDF pages and reading TIFF frames share library state that is not
# thread-safe (pdfium above all); loaders take this lock while they decode.
DECODE_LOCK = threading.Lock()
