"""PDF files: validated with pdfium, text layers read with pdfplumber, other pages
rasterised with pdfium for OCR.

Decided page by page, because faxed packets mix them: a born-digital cover letter,
then scanned chart notes, sometimes with an earlier OCR layer of garbage or a
printed "RECEIVED" stamp over an image.  A text layer is used only when it scores
as readable text (:mod:`reading.quality`) and is not just a stamp on a scan.
"""

from __future__ import annotations

import io
import logging
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pypdfium2 as pdfium

from common.errors import CorruptFile, DecompressionBomb, EncryptedPdf, NoPages, TooManyPages
from common.models import BBox, Mark, Notice, Page, Rule, Word, WordSource
from common.settings import Settings
from reading.normalise import reading_dpi
from reading.ocr import DECODE_LOCK, PageImage
from reading.quality import score_tokens

log = logging.getLogger(__name__)

# A scanned page with a few printed words on top (stamp, Bates number, the fax
# server's banner) has a "readable" layer that misses the page's real content.
_IMAGE_COVER = 0.5
_STAMP_CHARS = 200


@dataclass
class OpenPdf:
    """The pdfium document, kept open while its pages are rendered."""

    doc: pdfium.PdfDocument
    sizes: list[tuple[float, float]]  # points, as a viewer shows the page (after /Rotate)

    def close(self) -> None:
        with DECODE_LOCK:
            self.doc.close()


def _check_end(data: bytes) -> None:
    # pdfium quietly rebuilds a truncated file and shows the pages it can; a fax
    # cut off mid-transfer must be reported, not half-read.
    if b"%%EOF" not in data[-2048:]:
        raise CorruptFile("the PDF ends before its end-of-file marker: it is truncated.")


def _page_count_by_pdfminer(data: bytes) -> int | None:
    import pdfplumber

    try:
        with pdfplumber.open(io.BytesIO(data)) as doc:
            return len(doc.pages)
    except Exception:  # any pdfminer failure just means "cannot tell"
        return None


def open_pdf(data: bytes, settings: Settings) -> OpenPdf:
    _check_end(data)
    # pdfium is not thread-safe, and the API may read two documents at once.
    with DECODE_LOCK:
        return _open_locked(data, settings)


def _open_locked(data: bytes, settings: Settings) -> OpenPdf:
    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as err:
        # pdfium's error code is thread-global and can be stale from an earlier
        # document, so "password" counts only when the file has an /Encrypt entry.
        if "password" in str(err).lower() and b"/Encrypt" in data:
            raise EncryptedPdf("the PDF is protected by a password.") from err
        # pdfium refuses a document with an empty page tree; tell that apart
        # from a damaged file, since the advice differs.
        if _page_count_by_pdfminer(data) == 0:
            raise NoPages("the PDF has no pages.") from err
        raise CorruptFile(f"the PDF cannot be read ({err}).") from err
    try:
        count = len(doc)
        if count == 0:
            raise NoPages("the PDF has no pages.")
        if count > settings.max_pages:
            raise TooManyPages(
                f"the PDF has {count} pages; the limit is {settings.max_pages} (INTAKE_MAX_PAGES)."
            )
        sizes: list[tuple[float, float]] = []
        for index in range(count):
            page = doc[index]
            # pdfium reports the size as displayed, /Rotate already applied.
            w, h = page.get_size()
            page.close()
            if not (w > 0 and h > 0 and math.isfinite(w) and math.isfinite(h)):
                raise CorruptFile(f"page {index + 1} of the PDF has no size ({w} x {h}).")
            side = settings.max_page_points
            if w > side or h > side:
                raise DecompressionBomb(
                    f"page {index + 1} of the PDF is {w / 72:.0f} x {h / 72:.0f} inches; "
                    f"no fax page is larger than {side / 72:.0f} inches."
                )
            sizes.append((w, h))
    except BaseException:
        doc.close()
        raise
    return OpenPdf(doc=doc, sizes=sizes)


def _scan_dpi(page: Any) -> float | None:
    """The resolution of the image covering most of the page (a scan's), if any."""
    import pypdfium2.raw as pdfium_c

    best: tuple[float, float] | None = None  # (area in points, dpi)
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2):
        left, bottom, right, top = obj.get_bounds()
        px_w, _ = obj.get_px_size()
        width_pt = right - left
        if width_pt <= 0 or px_w <= 0:
            continue
        area = width_pt * (top - bottom)
        if best is None or area > best[0]:
            best = (area, px_w * 72.0 / width_pt)
    return best[1] if best else None


def page_loader(
    pdf: OpenPdf, index: int, settings: Settings, *, native: bool = False
) -> Callable[[], PageImage]:
    """Render a page to OCR; ``native``: at its scan's own resolution when that is fine
    enough to read as is (:func:`reading.normalise.reading_dpi`), so a 200-dpi scan is
    not upsampled to be read; otherwise at ``settings.ocr_dpi``."""

    def load() -> PageImage:
        w, h = pdf.sizes[index]
        with DECODE_LOCK:
            page = pdf.doc[index]
            try:
                render_dpi = float(settings.ocr_dpi)
                if native:
                    found = _scan_dpi(page)
                    if found:
                        render_dpi = min(render_dpi, reading_dpi((found, found), settings.ocr_dpi))
                # Keep the raster within the pixel budget; boxes are relative, so a
                # smaller render of a big page loses nothing but detail.
                scale = min(render_dpi / 72.0, math.sqrt(settings.max_page_pixels / (w * h)))
                bitmap = page.render(scale=scale, grayscale=True)
                image = bitmap.to_pil().convert("L")
            finally:
                page.close()
        dpi = (image.width / (w / 72.0), image.height / (h / 72.0))
        return PageImage(image=image, dpi=dpi, width=w, height=h)

    return load


# ------------------------------------------------------------------ text layers


def _lines(words: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Group words into lines by their vertical position, then order left to right."""
    if not words:
        return []
    heights = [float(w["bottom"]) - float(w["top"]) for w in words]
    tol = max(1.0, 0.5 * statistics.median(heights))
    ordered = sorted(words, key=lambda w: (float(w["top"]), float(w["x0"])))
    lines: list[list[dict[str, Any]]] = []
    anchor = -1e9
    for word in ordered:
        top = float(word["top"])
        if not lines or abs(top - anchor) > tol:
            lines.append([word])
            anchor = top
        else:
            lines[-1].append(word)
    return [sorted(line, key=lambda w: float(w["x0"])) for line in lines]


def _image_cover(page: Any) -> float:
    area = float(page.width) * float(page.height)
    if area <= 0:
        return 0.0
    covered = 0.0
    for im in page.images:
        x0, x1 = max(0.0, float(im["x0"])), min(float(page.width), float(im["x1"]))
        y0, y1 = max(0.0, float(im["top"])), min(float(page.height), float(im["bottom"]))
        covered += max(0.0, x1 - x0) * max(0.0, y1 - y0)
    return min(1.0, covered / area)


def _clamp(v: float) -> float:
    return min(1.0, max(0.0, v))


# A drawn checkbox: a square 5 to 22 points a side.  Shorter strokes than a rule minimum
# are glyph parts (a drawn tick, a bullet), not rules.
_MARK_SIDE_PT = (5.0, 22.0)
_MARK_ASPECT = (0.75, 1.33)
_RULE_MIN_PT = 6.0


def _dark(color: Any) -> bool:
    """A PDF fill colour (grey, RGB or CMYK tuple) that reads as ink."""
    if color is None:
        return True  # PDF's default fill colour is black
    values = list(color) if isinstance(color, list | tuple) else [color]
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError):
        return False  # a pattern or a named colour space: not a solid ink fill
    if len(numbers) == 4:  # CMYK: ink is high K (or high C, M and Y together)
        return numbers[3] > 0.5 or min(numbers[:3]) > 0.5
    return bool(numbers) and sum(numbers) / len(numbers) < 0.5


def _marks(page: Any, width: float, height: float) -> list[tuple[Mark, tuple[float, ...]]]:
    out: list[tuple[Mark, tuple[float, ...]]] = []
    lo, hi = _MARK_SIDE_PT
    for r in page.rects:
        w, h = float(r["width"]), float(r["height"])
        if not (lo <= w <= hi and lo <= h <= hi and _MARK_ASPECT[0] <= w / h <= _MARK_ASPECT[1]):
            continue
        solid = bool(r.get("fill")) and _dark(r.get("non_stroking_color"))
        x0, top, x1, bottom = float(r["x0"]), float(r["top"]), float(r["x1"]), float(r["bottom"])
        box = BBox(
            x0=_clamp(x0 / width), y0=_clamp(top / height), x1=_clamp(x1 / width), y1=_clamp(bottom / height)
        )
        # A stroked box's tick is a character (a word inside it); a solid square is marked.
        out.append((Mark(bbox=box, fill=1.0 if solid else None), (x0, top, x1, bottom)))
    return out


def _rules(page: Any, width: float, height: float, boxes: list[tuple[float, ...]]) -> list[Rule]:
    """Ruling lines of the page's drawing (lines and rectangle edges), not checkbox sides."""
    rules: list[Rule] = []
    for e in page.edges:
        x0, top, x1, bottom = float(e["x0"]), float(e["top"]), float(e["x1"]), float(e["bottom"])
        horizontal = e.get("orientation") == "h"
        length = (x1 - x0) if horizontal else (bottom - top)
        if length < _RULE_MIN_PT:
            continue
        if any(
            bx0 - 1 <= x0 and x1 <= bx1 + 1 and bt - 1 <= top and bottom <= bb + 1
            for bx0, bt, bx1, bb in boxes
        ):
            continue
        y = (top + bottom) / 2.0
        x = (x0 + x1) / 2.0
        if horizontal:
            rules.append(
                Rule(
                    x0=_clamp(x0 / width),
                    y0=_clamp(y / height),
                    x1=_clamp(x1 / width),
                    y1=_clamp(y / height),
                    horizontal=True,
                )
            )
        else:
            rules.append(
                Rule(
                    x0=_clamp(x / width),
                    y0=_clamp(top / height),
                    x1=_clamp(x / width),
                    y1=_clamp(bottom / height),
                    horizontal=False,
                )
            )
    return rules


def text_layer_page(page: Any, number: int) -> tuple[Page | None, Notice | None]:
    """The page from its text layer, or (None, why) when the layer must not be trusted."""
    raw = page.extract_words(keep_blank_chars=False, use_text_flow=False)
    if not raw:
        return None, None
    score = score_tokens([str(w["text"]) for w in raw])
    stamp_on_scan = _image_cover(page) >= _IMAGE_COVER and score.chars < _STAMP_CHARS
    if not score.readable or stamp_on_scan:
        why = "is not readable text" if not score.readable else "covers only a stamp on a scanned image"
        return None, Notice(
            code="text_layer_ignored",
            message=f"page {number}: the PDF's text layer {why}; the page was read with OCR instead.",
            page=number,
        )
    width, height = float(page.width), float(page.height)
    words: list[Word] = []
    for line_no, line in enumerate(_lines(raw)):
        for w in line:
            box = BBox(
                x0=_clamp(float(w["x0"]) / width),
                y0=_clamp(float(w["top"]) / height),
                x1=_clamp(float(w["x1"]) / width),
                y1=_clamp(float(w["bottom"]) / height),
            )
            words.append(Word(text=str(w["text"]), bbox=box, source=WordSource.TEXT_LAYER, line=line_no))
    marks = _marks(page, width, height)
    rules = _rules(page, width, height, [b for _, b in marks])
    return (
        Page(
            number=number,
            width=width,
            height=height,
            words=tuple(words),
            source=WordSource.TEXT_LAYER,
            rules=tuple(rules),
            marks=tuple(m for m, _ in marks),
        ),
        None,
    )


def text_layers(data: bytes, count: int) -> tuple[dict[int, Page], list[Notice]]:
    """Pages whose text layer is usable, by page number; the rest go to OCR."""
    import pdfplumber
    from pdfminer.pdfparser import PDFSyntaxError

    pages: dict[int, Page] = {}
    notices: list[Notice] = []
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except (PDFSyntaxError, ValueError, KeyError, TypeError, AttributeError) as err:
        log.debug("pdfplumber cannot open the PDF; every page goes to OCR", exc_info=True)
        notices.append(
            Notice(code="text_layer_unreadable", message=f"the PDF's text could not be read ({err}).")
        )
        return pages, notices
    with pdf:
        for index in range(min(count, len(pdf.pages))):
            number = index + 1
            try:
                page, notice = text_layer_page(pdf.pages[index], number)
            except Exception as err:  # pdfminer raises many kinds on odd pages; OCR is the fallback
                log.debug("text layer of page %d failed", number, exc_info=True)
                page, notice = (
                    None,
                    Notice(
                        code="text_layer_unreadable",
                        message=f"page {number}: the text layer could not be read ({type(err).__name__}); "
                        "the page was read with OCR instead.",
                        page=number,
                    ),
                )
            if page is not None:
                pages[number] = page
            if notice is not None:
                notices.append(notice)
    return pages, notices
