"""What each image page of the corpus printed: the words to measure OCR against.

A corpus fax or scan is the packet's content PDF rasterised and degraded, with a cover
sheet in front and (for a fax) the sending machine's header line on every page
(:mod:`fixtures.generate`).  The content PDF is laid out again from the case (a few
milliseconds, byte for byte the same), and its text layer, the cover sheet's and the
header line are the source text of each page of the rendering, in the file's page order.

Measures on top of it, one per page, order-robust:

* word recall: the share of the source's words (a multiset, case and edge punctuation
  folded) that the reading has;
* character error rate: edits over source characters, both sides laid out in lines by
  their boxes on the upright, deskewed page, so tesseract's block order does not count.
"""

from __future__ import annotations

import io
import math
import random
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from common.models import Page
from reading.normalise import upright_bbox

_EDGE = "()[]{}\"'“”‘’.,:;!?*|_-–—•"


@dataclass(frozen=True)
class SourceWord:
    text: str
    x0: float  # relative to the upright page, 0..1
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class SourcePage:
    file: Path
    page: int  # page of the file, 1-based
    rendering: str  # "g3-204x98.tif", "scan.pdf", ...
    words: tuple[SourceWord, ...]

    @property
    def aspect(self) -> float:
        """Page height over width (a letter page; the corpus prints nothing else)."""
        return 11.0 / 8.5

    @property
    def mode(self) -> str:
        if self.rendering == "scan.pdf":
            return "scan 200x200"
        return "fine 204x196" if "x196" in self.rendering else "normal 204x98"


def fold(token: str) -> str:
    return token.strip(_EDGE).lower()


def _pdf_words(pdf_bytes: bytes) -> list[list[SourceWord]]:
    import pdfplumber

    out: list[list[SourceWord]] = []
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        for page in pdf.pages:
            w, h = float(page.width), float(page.height)
            out.append(
                [
                    SourceWord(
                        str(x["text"]),
                        float(x["x0"]) / w,
                        float(x["top"]) / h,
                        float(x["x1"]) / w,
                        float(x["bottom"]) / h,
                    )
                    for x in page.extract_words(keep_blank_chars=False, use_text_flow=False)
                ]
            )
    return out


def _header_words(text: str) -> list[SourceWord]:
    """The fax machine's line across the top (drawn at 0.25 in, ~9 pt); boxes approximate."""
    tokens = text.split()
    step = 0.9 / max(1, len(tokens))
    return [SourceWord(t, 0.03 + i * step, 0.005, 0.03 + (i + 1) * step, 0.02) for i, t in enumerate(tokens)]


def corpus_pages(corpus: Path, *, only: Iterable[str] | None = None) -> list[SourcePage]:
    """Every page of the corpus's fax and scan renderings with the words it printed."""
    from fixtures.catalog import load_cases
    from fixtures.generate import _fax_header, build, cover_sheet
    from fixtures.layout import render_packet
    from fixtures.truth import load_truth

    wanted = set(only) if only is not None else None
    cases = {c.id: c for c in load_cases()}
    out: list[SourcePage] = []
    with tempfile.TemporaryDirectory(prefix="intake-source-") as tmp_dir:
        tmp = Path(tmp_dir)
        for truth_path in sorted(corpus.glob("case-*.truth.json")):
            case_id = truth_path.name.removesuffix(".truth.json")
            truth = load_truth(truth_path)
            renderings = [
                r
                for r in truth.pages
                if (r.endswith(".tif") or r == "scan.pdf") and (corpus / f"{case_id}.{r}").is_file()
            ]
            renderings = [r for r in renderings if wanted is None or f"{case_id}.{r}" in wanted]
            if not renderings or case_id not in cases:
                continue
            case = cases[case_id]
            built = build(case, tmp)
            content = _pdf_words(built.content.read_bytes())
            for rendering in renderings:
                pages = truth.pages[rendering]
                words: dict[int, list[SourceWord]] = {}
                if pages.cover_pages:
                    cover_pdf = tmp / f"{case_id}.cover.pdf"
                    render_packet([cover_sheet(case, pages.pages_stated or 0)], cover_pdf)
                    words[pages.cover_pages[0]] = _pdf_words(cover_pdf.read_bytes())[0]
                for i, at in enumerate(pages.file_page):
                    if at is not None:
                        words[at] = list(content[i])
                if rendering.endswith(".tif"):
                    header = _fax_header(case, random.Random(f"{case_id}/{rendering}"))
                    total = pages.pages_stated or 0
                    # The transmission numbers pages as sent: a lost page keeps its number.
                    number = {1: 1}
                    if pages.blank_pages:
                        number[2] = 2
                    lead = len(number)
                    for i, at in enumerate(pages.file_page, start=1):
                        if at is not None:
                            number[at] = lead + i
                    for at in range(1, pages.pages + 1):
                        stamp = _header_words(f"{header}  P.{number.get(at, at)}/{total}")
                        words[at] = stamp + words.get(at, [])
                for at in range(1, pages.pages + 1):
                    if at in pages.blank_pages:
                        continue
                    out.append(
                        SourcePage(corpus / f"{case_id}.{rendering}", at, rendering, tuple(words.get(at, [])))
                    )
    return out


# ------------------------------------------------------------------ measures


def word_recall(source: Sequence[str], read: Sequence[str]) -> tuple[int, int]:
    """(source words found, source words), each word counted as often as it is printed."""
    want = Counter(f for f in (fold(t) for t in source) if f)
    have = Counter(f for f in (fold(t) for t in read) if f)
    return sum(min(n, have[w]) for w, n in want.items()), sum(want.values())


Item = tuple[str, float, float, float, float]  # text, x0, y0, x1, y1 (relative)


def _in_lines(items: Sequence[Item]) -> str:
    """Words as lines by their vertical position, each left to right."""
    if not items:
        return ""
    heights = sorted(y1 - y0 for _, _, y0, _, y1 in items)
    tol = max(1e-4, 0.5 * heights[len(heights) // 2])
    ordered = sorted(items, key=lambda t: ((t[2] + t[4]) / 2, t[1]))
    lines: list[list[Item]] = []
    anchor = -1.0
    for item in ordered:
        middle = (item[2] + item[4]) / 2
        if not lines or middle - anchor > tol:
            lines.append([item])
            anchor = middle
        else:
            lines[-1].append(item)
    return "\n".join(" ".join(t[0] for t in sorted(line, key=lambda t: t[1])) for line in lines)


def straightened(items: Sequence[Item], keys: Sequence[object], aspect: float) -> list[Item]:
    """Words of a skewed page turned so its lines run level, the angle taken from the
    reading's own lines (``keys``: the engine's line of each word; ``aspect``: page
    height over width in inches), so every reading is laid out alike."""
    by_line: dict[object, list[Item]] = {}
    for item, key in zip(items, keys, strict=True):
        by_line.setdefault(key, []).append(item)
    slopes = []
    for words in by_line.values():
        if len(words) < 3:
            continue
        xs = [(w[1] + w[3]) / 2 for w in words]
        ys = [(w[2] + w[4]) / 2 * aspect for w in words]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        var = sum((x - mx) ** 2 for x in xs)
        if var > 1e-4:
            slopes.append(sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var)
    if not slopes:
        return list(items)
    slope = sorted(slopes)[len(slopes) // 2]
    a = math.atan(slope)
    cos, sin = math.cos(a), math.sin(a)
    out = []
    for text, x0, y0, x1, y1 in items:
        cx, cy = (x0 + x1) / 2 - 0.5, ((y0 + y1) / 2 - 0.5) * aspect
        x = cos * cx + sin * cy + 0.5
        y = (-sin * cx + cos * cy) / aspect + 0.5
        hw, hh = (x1 - x0) / 2, (y1 - y0) / 2
        out.append((text, x - hw, y - hh, x + hw, y + hh))
    return out


def source_text(page: SourcePage) -> str:
    return _in_lines([(w.text, w.x0, w.y0, w.x1, w.y1) for w in page.words])


def read_text(page: Page) -> str:
    """A reading's words laid out in lines on the upright page, level."""
    if page.dpi:
        dx, dy = page.dpi
        w_in, h_in = page.width / dx, page.height / dy
    else:
        w_in, h_in = page.width, page.height
    if page.rotation in (90, 270):
        w_in, h_in = h_in, w_in
    items = []
    for word in page.words:
        b = upright_bbox(word.bbox, page.rotation)
        items.append((word.text, b.x0, b.y0, b.x1, b.y1))
    return _in_lines(straightened(items, [w.line for w in page.words], h_in / max(1e-6, w_in)))
