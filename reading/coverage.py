"""Ink the reading left without words: where a page may have lost a line.

Tesseract's page layout analysis sometimes drops a whole line of a clean page, with
no sign in its output (measured on rendered faxes: 2-10% of a page's words, as whole
lines, on 7 pages of 35).  So after OCR the page's ink is checked against the words'
boxes.  Ink is cut into *runs*: glyph-sized connected components (specks, rules and
checkbox squares left out) joined along their line; the part of a run that no word
box covers, wide enough to hold a word, is a *gap* to read again.

Everything here works on the image the engine read, in its pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from reading.normalise import row_bands
from reading.tesseract import TsvWord

# A glyph: 0.05 to 0.5 inch tall (a 6-point lower-case letter to a 36-point title),
# at most an inch wide.  Dashes, dots and specks are lower than that and do not count.
_GLYPH_H_IN = (0.05, 0.5)
_GLYPH_MAX_W_IN = 1.0
# Glyphs closer than this along a line belong to one run (a word space is ~0.05 in).
_JOIN_IN = 0.12
# Word boxes are grown by this much before they are said to cover ink (a box is tight
# around the letters; an accent or a comma may stick out).
_COVER_PAD_IN = 0.02
# An uncovered stretch is a gap when it is this wide and holds this many glyphs.
_GAP_MIN_W_IN = 0.15
_GAP_MIN_GLYPHS = 2


@dataclass(frozen=True)
class Gap:
    """Ink without words, in pixels of the image read (left, top, right, bottom)."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.left, self.top, self.right, self.bottom


def _glyph_mask(ink: np.ndarray, dpi: int, skip: Sequence[tuple[int, int, int, int]]) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if count <= 1:
        return np.zeros_like(ink)
    h = stats[:, cv2.CC_STAT_HEIGHT]
    w = stats[:, cv2.CC_STAT_WIDTH]
    keep = (h >= _GLYPH_H_IN[0] * dpi) & (h <= _GLYPH_H_IN[1] * dpi) & (w <= _GLYPH_MAX_W_IN * dpi)
    keep[0] = False
    mask = keep.astype(np.uint8)[labels]
    for left, top, right, bottom in skip:
        mask[max(0, top) : bottom, max(0, left) : right] = 0
    return mask


def gaps(
    ink: np.ndarray,
    dpi: int,
    rows: Sequence[TsvWord],
    *,
    skip: Sequence[tuple[int, int, int, int]] = (),
) -> list[Gap]:
    """Stretches of text-like ink that no word of ``rows`` covers.

    ``ink``: the read image's ink (uint8 0/1); ``skip``: boxes whose ink is not text
    (checkbox squares).
    """
    glyphs = _glyph_mask(ink, dpi, skip)
    if not glyphs.any():
        return []
    covered = np.zeros_like(glyphs)
    pad = max(1, round(_COVER_PAD_IN * dpi))
    for r in rows:
        if r.conf < 0 or not r.text.strip():
            continue
        covered[
            max(0, r.top - pad) : r.top + r.height + pad, max(0, r.left - pad) : r.left + r.width + pad
        ] = 1
    loose = glyphs & (1 - covered)
    if int(loose.sum()) == 0:
        return []
    # Runs of loose glyphs along a line; a column of the run with any loose ink is
    # unread, and a run is split where the loose ink stops for a word space or more.
    join = max(3, round(_JOIN_IN * dpi))
    runs = cv2.dilate(loose, cv2.getStructuringElement(cv2.MORPH_RECT, (join, 1)))
    min_w = _GAP_MIN_W_IN * dpi
    out: list[Gap] = []
    # Loose ink is sparse: labelled band by band of rows, in the whole page's order.
    for y0, y1 in row_bands(runs):
        out.extend(_band_gaps(loose[y0:y1], runs[y0:y1], y0, min_w))
    return out


def _band_gaps(loose: np.ndarray, runs: np.ndarray, y0: int, min_w: float) -> list[Gap]:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
    out: list[Gap] = []
    for i in range(1, count):
        x, y, w, h = (int(v) for v in stats[i, :4])
        region = loose[y : y + h, x : x + w] * (labels[y : y + h, x : x + w] == i)
        cols = np.nonzero(region.any(axis=0))[0]
        rows_ = np.nonzero(region.any(axis=1))[0]
        if cols.size == 0:
            continue
        left, right = x + int(cols[0]), x + int(cols[-1]) + 1
        top, bottom = y0 + y + int(rows_[0]), y0 + y + int(rows_[-1]) + 1
        if right - left < min_w:
            continue
        pieces, _ = cv2.connectedComponents(region.astype(np.uint8), connectivity=8)
        if pieces - 1 < _GAP_MIN_GLYPHS:
            continue
        out.append(Gap(left, top, right, bottom))
    return out
