"""Words, rules and checkbox squares on the page as it was read: upright, straight, in points.

Boxes on a :class:`common.models.Page` are relative to the page as stored: a fax fed
upside down has its boxes in the upside-down frame, and a page fed crooked has every
row of words on a slope (1.2 degrees over a letter page is 0.18 inch: more than a line).
Rows, columns and alignment are only meaningful on the page as the reader saw it, so
everything here is turned by ``Page.rotation`` and straightened by ``Page.skew`` first,
and measured in points so that a fax's tall pixels (204 x 98 dpi) do not distort gaps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from common.models import BBox, Page, Word, WordSource

POINTS_PER_INCH = 72.0
# A plain-text page lays a character 1/110 of the width and a line 1/66 of the height
# (extractors/layout.py): Courier-like proportions.
_PLAIN_CHAR_PT = 6.0
_PLAIN_LINE_PT = 12.0


@dataclass(frozen=True)
class Placed:
    """A word with its box on the upright, deskewed page (points, origin top-left)."""

    index: int  # in Page.words
    word: Word
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def text(self) -> str:
        return self.word.text

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2.0

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2.0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def width(self) -> float:
        return self.x1 - self.x0


@dataclass(frozen=True)
class Line:
    """A ruling line on the upright page, points: horizontal (y0 == y1) or vertical."""

    x0: float
    y0: float
    x1: float
    y1: float
    horizontal: bool

    @property
    def length(self) -> float:
        return (self.x1 - self.x0) if self.horizontal else (self.y1 - self.y0)


@dataclass(frozen=True)
class Square:
    """A checkbox square on the upright page, points, with its inked share (None: a drawing)."""

    index: int  # in Page.marks
    bbox: BBox  # as stored, for evidence
    x0: float
    y0: float
    x1: float
    y1: float
    fill: float | None


@dataclass(frozen=True)
class Frame:
    """Stored-page relative coordinates -> the upright, deskewed page in points."""

    width: float  # the stored page, points
    height: float
    rotation: int
    skew: float  # degrees counter-clockwise, as cv2 turns an image

    @staticmethod
    def of(page: Page) -> Frame:
        if page.source is WordSource.PLAIN_TEXT:
            width, height = page.width * _PLAIN_CHAR_PT, page.height * _PLAIN_LINE_PT
        elif page.dpi:
            width = page.width / page.dpi[0] * POINTS_PER_INCH
            height = page.height / page.dpi[1] * POINTS_PER_INCH
        else:
            width, height = page.width, page.height  # PDF points
        return Frame(width=width, height=height, rotation=page.rotation, skew=page.skew)

    @property
    def upright_size(self) -> tuple[float, float]:
        if self.rotation in (90, 270):
            return self.height, self.width
        return self.width, self.height

    def _turned(self, x: float, y: float) -> tuple[float, float]:
        """Relative point on the stored page -> points on the turned (not deskewed) page."""
        if self.rotation == 90:
            x, y = 1.0 - y, x
        elif self.rotation == 180:
            x, y = 1.0 - x, 1.0 - y
        elif self.rotation == 270:
            x, y = y, 1.0 - x
        w, h = self.upright_size
        return x * w, y * h

    def point(self, x: float, y: float) -> tuple[float, float]:
        px, py = self._turned(x, y)
        if not self.skew:
            return px, py
        # cv2.getRotationMatrix2D(centre, angle, 1): the deskew applied to the image.
        a = math.radians(self.skew)
        cos, sin = math.cos(a), math.sin(a)
        w, h = self.upright_size
        cx, cy = w / 2.0, h / 2.0
        return (
            cos * px + sin * py + (1 - cos) * cx - sin * cy,
            -sin * px + cos * py + sin * cx + (1 - cos) * cy,
        )

    def box(self, bbox: BBox) -> tuple[float, float, float, float]:
        """The box on the upright page.  A stored box bounds the word turned by the skew;
        the word's own width and height are solved back from it, so a long word on a
        crooked page is not taken for a tall one."""
        cx, cy = self.point((bbox.x0 + bbox.x1) / 2.0, (bbox.y0 + bbox.y1) / 2.0)
        corners = [self._turned(bbox.x0, bbox.y0), self._turned(bbox.x1, bbox.y1)]
        big_w = abs(corners[1][0] - corners[0][0])
        big_h = abs(corners[1][1] - corners[0][1])
        w, h = big_w, big_h
        if self.skew:
            a = math.radians(abs(self.skew))
            cos, sin = math.cos(a), math.sin(a)
            det = cos * cos - sin * sin
            if det > 0.5:
                sw, sh = (big_w * cos - big_h * sin) / det, (big_h * cos - big_w * sin) / det
                if sw > 0 and sh > 0:
                    w, h = sw, sh
        return cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0


@dataclass(frozen=True)
class PageGeometry:
    page: Page
    frame: Frame
    words: tuple[Placed, ...]
    lines: tuple[Line, ...]
    squares: tuple[Square, ...]

    @property
    def width(self) -> float:
        return self.frame.upright_size[0]

    @property
    def height(self) -> float:
        return self.frame.upright_size[1]


def _merge(lines: list[Line], tolerance: float) -> list[Line]:
    """Join collinear pieces of one rule (a fax breaks rules into dashes; a PDF draws a
    grid cell by cell)."""
    out: list[Line] = []
    for horizontal in (True, False):
        # (position across the rule, start, end) along the rule's own direction
        spans = sorted(
            ((ln.y0, ln.x0, ln.x1) if horizontal else (ln.x0, ln.y0, ln.y1))
            for ln in lines
            if ln.horizontal == horizontal
        )
        bands: list[list[tuple[float, float, float]]] = []
        for span in spans:
            if bands and span[0] - bands[-1][-1][0] <= tolerance:
                bands[-1].append(span)
            else:
                bands.append([span])
        for band in bands:
            pos = sum(s[0] for s in band) / len(band)
            pieces = sorted((s[1], s[2]) for s in band)
            lo, hi = pieces[0]
            for a, b in pieces[1:]:
                if a <= hi + tolerance:
                    hi = max(hi, b)
                    continue
                out.append(Line(lo, pos, hi, pos, True) if horizontal else Line(pos, lo, pos, hi, False))
                lo, hi = a, b
            out.append(Line(lo, pos, hi, pos, True) if horizontal else Line(pos, lo, pos, hi, False))
    return out


_ALONG_RULE_PT = 4.0  # a fringe word may stand this far past a rule's end
_ACROSS_RULE_PT = 2.0  # ... and its box must reach within this of the rule's line


def _on_rule(word: Placed, lines: list[Line], boxes: frozenset[str]) -> bool:
    """A word of punctuation only ("|", "_", "—", ":") lying on a ruling line: what OCR makes
    of a rule's fringe, not text.  The rule runs through the word's box: a "(" or a "☐" a
    cell's padding (3 pt) inside the cell's border is text, and a box glyph of the lexicon
    ("☒", "[ ]") is never a fringe."""
    if any(ch.isalnum() for ch in word.text) or "".join(word.text.split()) in boxes:
        return False
    for ln in lines:
        if ln.horizontal:
            if (
                ln.x0 - _ALONG_RULE_PT <= word.cx <= ln.x1 + _ALONG_RULE_PT
                and word.y0 - _ACROSS_RULE_PT <= ln.y0 <= word.y1 + _ACROSS_RULE_PT
            ):
                return True
        elif (
            ln.y0 - _ALONG_RULE_PT <= word.cy <= ln.y1 + _ALONG_RULE_PT
            and word.x0 - _ACROSS_RULE_PT <= ln.x0 <= word.x1 + _ACROSS_RULE_PT
        ):
            return True
    return False


def page_geometry(page: Page, boxes: frozenset[str] = frozenset()) -> PageGeometry:
    """``boxes``: the checkbox glyphs (spaces removed) that are text even beside a rule."""
    frame = Frame.of(page)
    placed: list[Placed] = []
    for index, word in enumerate(page.words):
        if not word.text.strip():
            continue
        x0, y0, x1, y1 = frame.box(word.bbox)
        placed.append(Placed(index, word, x0, y0, x1, y1))
    lines: list[Line] = []
    for rule in page.rules:
        (ax, ay), (bx, by) = frame.point(rule.x0, rule.y0), frame.point(rule.x1, rule.y1)
        # A rule's direction on the upright page decides, not its direction as stored.
        if abs(bx - ax) >= abs(by - ay):
            y = (ay + by) / 2.0
            lines.append(Line(min(ax, bx), y, max(ax, bx), y, True))
        else:
            x = (ax + bx) / 2.0
            lines.append(Line(x, min(ay, by), x, max(ay, by), False))
    squares = []
    for index, mark in enumerate(page.marks):
        x0, y0, x1, y1 = frame.box(mark.bbox)
        squares.append(Square(index, mark.bbox, x0, y0, x1, y1, mark.fill))
    merged = _merge(lines, tolerance=2.0)
    return PageGeometry(
        page=page,
        frame=frame,
        words=tuple(w for w in placed if not _on_rule(w, merged, boxes)),
        lines=tuple(merged),
        squares=tuple(squares),
    )
