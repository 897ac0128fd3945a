"""Rows of words from their baselines, and each row cut into phrases at column gaps.

Tesseract's own line ids cannot be trusted for this: with its default page layout it
reads each column of a table as a block of its own, so the cells of one row get
different line ids.  Rows are found again from geometry on the upright page: words whose
vertical extents overlap by at least half the smaller one share a row.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from common.models import BBox
from common.structure import TextRow, WordSpan
from extractors.structure.geometry import Line, PageGeometry, Placed

_OVERLAP = 0.5  # share of the smaller height two words must share to be on one row
_LOOK_BACK = 6  # rows above the current word that may still take it
# A gap wider than this many average character widths separates phrases (columns, form
# fields): a space is about half a character in a proportional font and one in Courier,
# a column gap is two characters or more.
_PHRASE_GAP_CHARS = 1.5
_MIN_PHRASE_GAP_PT = 4.0


@dataclass
class Row:
    words: list[Placed]
    index: int = 0

    @property
    def top(self) -> float:
        return statistics.median(w.y0 for w in self.words)

    @property
    def bottom(self) -> float:
        return statistics.median(w.y1 for w in self.words)

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2.0

    @property
    def height(self) -> float:
        return max(1.0, self.bottom - self.top)

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return max(w.x1 for w in self.words)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    def overlap(self, word: Placed) -> float:
        top, bottom = self.top, self.bottom
        shared = min(bottom, word.y1) - max(top, word.y0)
        return shared / max(1e-6, min(bottom - top, word.height))


_THIN = 0.35  # of the median word height: an underline, a dash, a rule's fragment


def _attach_thin(rows: list[Row], thin: Sequence[Placed]) -> None:
    """A thin word ("___" read at the baseline under a label) joins the row it underlines:
    the row whose band, extended half a line down, holds it."""
    for word in thin:
        best: Row | None = None
        for row in rows:
            holds = row.top - 1.0 <= word.cy <= row.bottom + 0.5 * row.height
            if holds and (best is None or abs(word.cy - row.bottom) < abs(word.cy - best.bottom)):
                best = row
        if best is None:
            rows.append(Row([word]))
        else:
            best.words.append(word)


def group_rows(words: Iterable[Placed]) -> list[Row]:
    words = list(words)
    heights = sorted(w.height for w in words)
    median = heights[len(heights) // 2] if heights else 0.0
    thin = [w for w in words if w.height < _THIN * median and not any(c.isalnum() for c in w.text)]
    rows: list[Row] = []
    for word in sorted((w for w in words if w not in thin), key=lambda w: (w.cy, w.x0)):
        best: Row | None = None
        best_overlap = _OVERLAP
        for row in rows[-_LOOK_BACK:]:
            share = row.overlap(word)
            if share >= best_overlap:
                best, best_overlap = row, share
        if best is None:
            rows.append(Row([word]))
        else:
            best.words.append(word)
    _attach_thin(rows, thin)
    for row in rows:
        row.words.sort(key=lambda w: w.x0)
    rows.sort(key=lambda r: r.middle)
    for index, row in enumerate(rows):
        row.index = index
    return rows


def char_width(words: Sequence[Placed]) -> float:
    chars = sum(len(w.text) for w in words)
    if not chars:
        return 5.0
    return max(2.0, sum(w.width for w in words) / chars)


def phrase_gap(words: Sequence[Placed]) -> float:
    return max(_MIN_PHRASE_GAP_PT, _PHRASE_GAP_CHARS * char_width(words))


def ruled_between(lines: Sequence[Line], left: Placed, right: Placed, top: float, bottom: float) -> bool:
    """A vertical rule stands between two words of a row."""
    middle = (top + bottom) / 2.0
    return any(not ln.horizontal and left.cx < ln.x0 < right.cx and ln.y0 <= middle <= ln.y1 for ln in lines)


def phrases(row: Row, lines: Sequence[Line] = (), gap: float | None = None) -> list[list[Placed]]:
    """The row cut at column gaps and at vertical rules."""
    if not row.words:
        return []
    limit = gap if gap is not None else phrase_gap(row.words)
    out: list[list[Placed]] = [[row.words[0]]]
    for prev, word in zip(row.words, row.words[1:], strict=False):
        if word.x0 - prev.x1 > limit or ruled_between(lines, prev, word, row.top, row.bottom):
            out.append([word])
        else:
            out[-1].append(word)
    return out


# A date part (a number or a month's name) a narrow cell broke at its hyphen or slash.
_BROKEN_PART = re.compile(r"\w[-–/]$")


def _joined(words: Sequence[Placed]) -> str:
    """The words' text; a date a narrow cell broke at its hyphen or slash onto the next
    line ("2021-" over "03", "Mar-" over "17") is one token again, or no date reader sees
    "2021-03".  The word that follows must start with a digit: a word broken between two
    words of letters ("anti-" over "CD38") reads the same either way."""
    out = [words[0].text] if words else []
    for prev, w in itertools.pairwise(words):
        broken = (
            _BROKEN_PART.search(prev.text) is not None
            and w.text[:1].isdigit()
            and w.y0 >= prev.cy  # on a later line of the cell, not beside it
        )
        out.append(w.text if broken else " " + w.text)
    return "".join(out)


def span(page: int, words: Sequence[Placed]) -> WordSpan:
    """Words (already in reading order) as a span with their stored boxes."""
    confs = [w.word.confidence for w in words if w.word.confidence is not None]
    box: BBox | None = BBox.union([w.word.bbox for w in words])
    return WordSpan(
        page=page,
        text=_joined(words),
        word_ids=tuple(w.index for w in words),
        bbox=box,
        confidence=min(confs) if confs else None,
    )


def text_rows(geometry: PageGeometry, rows: Sequence[Row]) -> tuple[TextRow, ...]:
    number = geometry.page.number
    return tuple(
        TextRow(page=number, index=r.index, span=span(number, r.words), top=r.top, bottom=r.bottom)
        for r in rows
    )
