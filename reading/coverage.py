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
    """The glyph-sized components of ``ink``, less the ``skip`` boxes (uint8 0/1).  The slow
    form, labelling the whole page; :func:`gaps` labels only where it must."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if count <= 1:
        return np.zeros_like(ink)
    keep = _glyph_like(stats, dpi)
    keep[0] = False
    mask = keep.astype(np.uint8)[labels]
    _clear(mask, skip)
    return mask


def _glyph_like(stats: np.ndarray, dpi: int) -> np.ndarray:
    h = stats[:, cv2.CC_STAT_HEIGHT]
    w = stats[:, cv2.CC_STAT_WIDTH]
    return np.asarray(
        (h >= _GLYPH_H_IN[0] * dpi) & (h <= _GLYPH_H_IN[1] * dpi) & (w <= _GLYPH_MAX_W_IN * dpi)
    )


def _clear(mask: np.ndarray, boxes: Sequence[tuple[int, int, int, int]]) -> None:
    for left, top, right, bottom in boxes:
        mask[max(0, top) : bottom, max(0, left) : right] = 0


def loose_glyphs(
    ink: np.ndarray,
    dpi: int,
    covered: Sequence[tuple[int, int, int, int]],
    skip: Sequence[tuple[int, int, int, int]],
) -> np.ndarray:
    """``_glyph_mask(ink, dpi, skip)`` less the ``covered`` boxes, labelling only the bands of
    ink rows that hold ink outside every box.  A component never crosses a row without
    ink, so a band's labelling gives its components' boxes as the page's does; a band
    with all its ink covered (most lines of a page read well) leaves nothing loose
    whatever its components are, and a band lower than a glyph holds none.  The
    whole-page labelling and its page of int32 labels were most of the coverage check."""
    outside = ink.copy()
    _clear(outside, covered)
    _clear(outside, skip)
    loose = np.zeros_like(ink)
    if not outside.any():
        return loose
    open_rows = outside.max(axis=1)
    lowest = _GLYPH_H_IN[0] * dpi
    for y0, y1 in row_bands(ink):
        if y1 - y0 < lowest or not open_rows[y0:y1].any():
            continue
        count, labels, stats, _ = cv2.connectedComponentsWithStats(ink[y0:y1], connectivity=8)
        if count <= 1:
            continue
        keep = _glyph_like(stats, dpi)
        keep[0] = False
        if keep.any():
            loose[y0:y1] = keep.astype(np.uint8)[labels] & outside[y0:y1]
    return loose


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
    pad = max(1, round(_COVER_PAD_IN * dpi))
    covered = [
        (r.left - pad, r.top - pad, r.left + r.width + pad, r.top + r.height + pad)
        for r in rows
        if r.conf >= 0 and r.text.strip()
    ]
    loose = loose_glyphs(ink, dpi, covered, skip)
    # Runs of loose glyphs along a line; a column of the run with any loose ink is
    # unread, and a run is split where the loose ink stops for a word space or more.
    join = max(3, round(_JOIN_IN * dpi))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (join, 1))
    min_w = _GAP_MIN_W_IN * dpi
    out: list[Gap] = []
    # Loose ink is sparse: labelled band by band of rows, in the whole page's order.  A
    # one-row kernel widens runs along their rows only, so the runs' bands are the loose
    # ink's and each band's runs are its own rows dilated.
    for y0, y1 in row_bands(loose):
        band = loose[y0:y1]
        out.extend(_band_gaps(band, cv2.dilate(band, kernel), y0, min_w))
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
