"""Make a page image fit for tesseract, and remember how to map boxes back.

Steps, in order, each with a reason:

1. Effective resolution.  Fax "normal" mode is 204 x 98 dpi: every pixel is twice
   as tall as wide.  Read as is, letters are half height and tesseract drops whole
   lines.  The dpi tags say so; when they are missing or absurd (a 72-dpi tag on a
   2550-pixel-wide scan) the page width is assumed to be a letter/A4 page instead.
2. Despeckle at native resolution: line noise is isolated specks of a pixel or two,
   removed as tiny connected components (a median filter would also eat the thin
   strokes of a 98-dpi fax).
3. Blank test: fewer than a handful of glyph-sized components means nothing to read.
4. Square the pixels at ``ocr_dpi`` (300): a normal-mode fax's rows doubled and both
   axes brought up.  Measured on the bench's 10-page faxes (tesseract 5): a fine-mode
   fax read at its own 204 dpi has a character error rate of 0.86% against 1.01% at 300
   dpi, a normal-mode fax 2.05% against 1.89%, for 22-29% less engine time; but boxes
   and table cells read clearly worse at 204 dpi (:func:`reading_dpi`), so 300 it is.
5. Orientation turns (decided by the caller with tesseract's OSD) and deskew
   (projection-profile search up to +/-12 degrees).
6. Table and form rules removed: long horizontal and vertical strokes beside a
   word make tesseract read "VRd" as "VRA" with no confidence, and treatment
   histories arrive as tables.  Done after deskew, when rules are straight.  The
   rules are kept (as segments) and so are the checkbox squares found on the same
   image: the page-structure stage reads table columns and ticked boxes from them.

Coordinate convention.  Word boxes are returned relative (0..1, origin top-left)
to the ORIGINAL page image as stored in the file (for a PDF: the page as a PDF
viewer renders it).  ``Page.rotation`` is the clockwise turn that makes the page
upright; a reviewer page shows the stored image with its highlights and then turns
both by ``rotation``.  :func:`upright_bbox` converts a stored-page box into the
upright page's frame for consumers that draw on an already-turned image.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import cv2
import numpy as np
from PIL import Image

from common.models import BBox

# A fax or scan of a letter/A4 page is 8.27-8.5 inches wide; tags that put the
# page width outside this range are wrong and are ignored.
_PAGE_WIDTH_IN = 8.5
_PLAUSIBLE_WIDTH_IN = (5.0, 14.5)
# A sideways letter page is 11 inches wide.
_PLAUSIBLE_SIDEWAYS_IN = (10.0, 14.5)


# ------------------------------------------------------------------ geometry


@dataclass(frozen=True)
class Affine:
    """A 3x3 homogeneous transform on pixel coordinates."""

    m: np.ndarray

    @staticmethod
    def identity() -> Affine:
        return Affine(np.eye(3))

    @staticmethod
    def from_2x3(m: np.ndarray) -> Affine:
        return Affine(np.vstack([m, [0.0, 0.0, 1.0]]))

    def then(self, other: Affine) -> Affine:
        """Apply ``self`` first, then ``other``."""
        return Affine(other.m @ self.m)

    def inverse(self) -> Affine:
        """The inverse, in closed form and computed once: every word's box is mapped back
        through it, and LAPACK's general inverse wakes OpenBLAS's threads on each call
        (measured: 5 ms a call on the loaded 2-core machine, 8 s of a 10-page fax's 57 s)."""
        return self._inverse

    @cached_property
    def _inverse(self) -> Affine:
        (a, b, tx), (c, d, ty) = self.m[0], self.m[1]
        det = a * d - b * c
        ia, ib, ic, id_ = d / det, -b / det, -c / det, a / det
        return Affine(
            np.array([[ia, ib, -(ia * tx + ib * ty)], [ic, id_, -(ic * tx + id_ * ty)], [0.0, 0.0, 1.0]])
        )

    def apply(self, points: np.ndarray) -> np.ndarray:
        pts = np.hstack([points, np.ones((points.shape[0], 1))])
        return (pts @ self.m.T)[:, :2]


def _scale(fx: float, fy: float) -> Affine:
    return Affine(np.diag([fx, fy, 1.0]))


def _turn_cw(rotate: int, width: int, height: int) -> Affine:
    """Clockwise turn of a width x height image by 0/90/180/270 degrees."""
    if rotate == 90:
        return Affine(np.array([[0.0, -1.0, height], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    if rotate == 180:
        return Affine(np.array([[-1.0, 0.0, width], [0.0, -1.0, height], [0.0, 0.0, 1.0]]))
    if rotate == 270:
        return Affine(np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, width], [0.0, 0.0, 1.0]]))
    return Affine.identity()


def box_to_original(
    to_prepared: Affine, left: float, top: float, right: float, bottom: float, size: tuple[int, int]
) -> BBox:
    """Map a box in prepared-image pixels back to a relative box on the original page."""
    corners = np.array([[left, top], [right, top], [left, bottom], [right, bottom]], dtype=float)
    back = to_prepared.inverse().apply(corners)
    w, h = size
    xs = np.clip(back[:, 0] / w, 0.0, 1.0)
    ys = np.clip(back[:, 1] / h, 0.0, 1.0)
    return BBox(x0=float(xs.min()), y0=float(ys.min()), x1=float(xs.max()), y1=float(ys.max()))


def upright_bbox(bbox: BBox, rotation: int) -> BBox:
    """The same box in the frame of the page after turning it ``rotation`` degrees clockwise."""
    if rotation == 90:
        return BBox(x0=1 - bbox.y1, y0=bbox.x0, x1=1 - bbox.y0, y1=bbox.x1)
    if rotation == 180:
        return BBox(x0=1 - bbox.x1, y0=1 - bbox.y1, x1=1 - bbox.x0, y1=1 - bbox.y0)
    if rotation == 270:
        return BBox(x0=bbox.y0, y0=1 - bbox.x1, x1=bbox.y1, y1=1 - bbox.x0)
    return bbox


# ------------------------------------------------------------------ resolution


def effective_dpi(size: tuple[int, int], tag: tuple[float, float] | None) -> tuple[float, float]:
    """The page's real (x, y) resolution, trusting tags only when they make sense."""
    width, height = size
    if tag and tag[0] > 0 and tag[1] > 0:
        dx, dy = float(tag[0]), float(tag[1])
        width_in = width / dx
        lo, hi = _PLAUSIBLE_WIDTH_IN
        if lo <= width_in <= hi:
            return dx, dy
    # No usable tags: assume a letter-width page with square pixels, unless the
    # shape says "fax normal" (a 1728-wide page squashed to ~1100 rows).
    dx = width / _PAGE_WIDTH_IN
    if width >= height and 1.4 <= width / max(1, height) <= 1.75 and 1600 <= width <= 1800:
        return dx, dx * 98.0 / 204.0
    return dx, dx


# ------------------------------------------------------------------ ink


def to_grey(image: Image.Image) -> np.ndarray:
    if image.mode == "1":
        return np.asarray(image.convert("L"))
    if image.mode in ("RGBA", "LA", "P", "PA"):
        image = image.convert("RGBA")
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image)
    return np.asarray(image.convert("L"))


def flatten_background(grey: np.ndarray, dpi: tuple[float, float]) -> np.ndarray:
    """Divide out uneven lighting (photos, shaded copies, dark scanner edges).

    The background is the page with the text closed over (a grey-level closing at
    ~50 dpi with a kernel wider than a stroke), so a shadow across the page does
    not become a black region for the thresholds that follow.  Bilevel pages and
    evenly lit scans come out unchanged.
    """
    if grey.size == 0:
        return grey
    f = min(1.0, 50.0 / max(1.0, float(min(dpi))))
    small = cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else grey
    k = max(3, round(0.25 * 50.0) | 1)  # 1/4 inch at 50 dpi, odd
    background = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    background = cv2.GaussianBlur(background, (k, k), 0)
    if float(background.min()) >= 235:  # evenly lit: nothing to do
        return grey
    background = cv2.resize(background, (grey.shape[1], grey.shape[0]), interpolation=cv2.INTER_LINEAR)
    flat = grey.astype(np.float32) * (255.0 / np.maximum(background.astype(np.float32), 1.0))
    return np.clip(flat, 0, 255).astype(np.uint8)


def ink_mask(grey: np.ndarray) -> np.ndarray:
    """Dark pixels (Otsu threshold), as uint8 0/1."""
    # cv2 counts pixels above the threshold as background, so ink is "<=": the inverted
    # binary threshold with 1 for ink is the mask itself, in the same pass as Otsu's
    # search (a second comparison of the page cost as much again).  A nearly white page
    # can push Otsu high; capped so paper texture is not ink, that one is thresholded again.
    threshold, ink = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    if threshold > 200.0:
        _, ink = cv2.threshold(grey, 200.0, 1, cv2.THRESH_BINARY_INV)
    return np.asarray(ink, dtype=np.uint8)


def despeckle(grey: np.ndarray, ink: np.ndarray, dpi: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Whiten connected specks smaller than a fax period at this resolution."""
    grey, ink, _ = despeckle_and_count(grey, ink, dpi)
    return grey, ink


def despeckle_and_count(
    grey: np.ndarray, ink: np.ndarray, dpi: tuple[float, float], limit: int = 50
) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`despeckle`, and :func:`glyph_count` of what it leaves, from one labelling:
    whitening whole components neither joins nor splits the others, so the components
    left are the first labelling's less the specks (a second labelling of the page was
    measured at a tenth of its preparation before OCR)."""
    # Two pixels at 200x200; a period in 10-point type is 3+ pixels even at 204x98.
    max_area = max(2, round(2.0 * dpi[0] * dpi[1] / (200.0 * 200.0)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if count <= 1:
        return grey, ink, 0
    small = stats[:, cv2.CC_STAT_AREA] <= max_area
    small[0] = False  # background
    glyphs = min(limit, int((_glyph_like(stats[1:], dpi) & ~small[1:]).sum()))
    if not small.any():
        return grey, ink, glyphs
    speck = _pixels_of(labels, stats, small, max_area)
    grey = grey.copy()
    grey[speck] = 255
    ink = ink.copy()
    ink[speck] = 0
    return grey, ink, glyphs


def _pixels_of(
    labels: np.ndarray, stats: np.ndarray, which: np.ndarray, max_side: int
) -> tuple[np.ndarray, np.ndarray] | np.ndarray:
    """An index of the pixels of the components ``which`` (a boolean per label) of a
    labelling whose components are at most ``max_side`` pixels a side: looked up inside
    their boxes, offset by offset (rows and columns), not with a page-sized lookup of every
    label (``which[labels]`` was a tenth of the despeckle's page, for a few hundred specks
    of two pixels).  Larger sides: that lookup (a boolean mask)."""
    if max_side > 8:
        return np.asarray(which[labels])
    ids = np.flatnonzero(which)
    xs, ys = stats[ids, cv2.CC_STAT_LEFT], stats[ids, cv2.CC_STAT_TOP]
    ws, hs = stats[ids, cv2.CC_STAT_WIDTH], stats[ids, cv2.CC_STAT_HEIGHT]
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for dy in range(int(hs.max())):
        for dx in range(int(ws.max())):
            inside = (dy < hs) & (dx < ws)
            yy, xx = ys[inside] + dy, xs[inside] + dx
            hit = labels[yy, xx] == ids[inside]
            rows.append(yy[hit])
            cols.append(xx[hit])
    return np.concatenate(rows), np.concatenate(cols)


def _glyph_like(stats: np.ndarray, dpi: tuple[float, float]) -> np.ndarray:
    """Which components (rows of connectedComponentsWithStats' stats) are shaped like characters."""
    heights = stats[:, cv2.CC_STAT_HEIGHT] / dpi[1]
    widths = stats[:, cv2.CC_STAT_WIDTH] / dpi[0]
    return np.asarray((heights >= 0.04) & (heights <= 0.6) & (widths <= 0.8))


def glyph_count(ink: np.ndarray, dpi: tuple[float, float], limit: int = 50) -> int:
    """Components shaped like characters (0.04 to 0.6 inch tall); counts up to ``limit``."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    return min(limit, int(_glyph_like(stats[1:], dpi).sum()))


# ------------------------------------------------------------------ skew


def _points(ink: np.ndarray, max_points: int = 40_000) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.nonzero(ink)
    if len(xs) > max_points:
        step = len(xs) // max_points + 1
        ys, xs = ys[::step], xs[::step]
    return xs.astype(np.float64), ys.astype(np.float64)


def _sharpness(coord: np.ndarray) -> float:
    """How concentrated a projection is (1.0 for uniform spread): text lines give peaks."""
    if coord.size == 0:
        return 0.0
    bins = np.bincount(np.round(coord - coord.min()).astype(np.int64))
    n = float(coord.size)
    return float((bins.astype(np.float64) ** 2).sum() * bins.size / (n * n))


def _best_angle(xs: np.ndarray, ys: np.ndarray, max_deg: float) -> tuple[float, float]:
    def score(angle: float) -> float:
        a = np.deg2rad(angle)
        # y after cv2's counter-clockwise rotation by ``angle`` (image y axis down).
        return _sharpness(-np.sin(a) * xs + np.cos(a) * ys)

    coarse = np.arange(-max_deg, max_deg + 1e-9, 0.5)
    scores = [score(a) for a in coarse]
    best = float(coarse[int(np.argmax(scores))])
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.1)
    fine_scores = [score(a) for a in fine]
    i = int(np.argmax(fine_scores))
    return float(fine[i]), float(fine_scores[i])


def _small(ink: np.ndarray, dpi: float, target: float = 100.0) -> np.ndarray:
    """Ink at ~100 dpi: plenty for angles, fast to project."""
    if dpi <= target * 1.2:
        return ink
    f = target / dpi
    return cv2.resize(ink, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)


Points = tuple[np.ndarray, np.ndarray]


def ink_points(ink: np.ndarray, dpi: float) -> Points:
    """The sample of ink points the skew and sideways tests project (at ~100 dpi)."""
    return _points(_small(ink, dpi))


def skew_angle(ink: np.ndarray, dpi: float, max_deg: float = 12.0, *, points: Points | None = None) -> float:
    """Counter-clockwise angle (degrees) that straightens the text lines.  ``points``:
    :func:`ink_points` of ``ink`` when the caller has them."""
    xs, ys = ink_points(ink, dpi) if points is None else points
    if xs.size < 300:
        return 0.0
    angle, _ = _best_angle(xs, ys, max_deg)
    return angle


def looks_sideways(ink: np.ndarray, dpi: float, *, points: Points | None = None) -> bool:
    """Text lines run up and down: the column projection is sharper than the row one."""
    xs, ys = ink_points(ink, dpi) if points is None else points
    if xs.size < 300:
        return False
    _, rows = _best_angle(xs, ys, 3.0)
    _, cols = _best_angle(ys, xs, 3.0)
    return cols > rows * 1.15


# ------------------------------------------------------------------ the prepared page


@dataclass(frozen=True)
class Segment:
    """A ruling line found on the prepared image, in its pixels."""

    x0: float
    y0: float
    x1: float
    y1: float
    horizontal: bool


@dataclass(frozen=True)
class Square:
    """A checkbox square found on the prepared image, in its pixels, with its inked share."""

    left: int
    top: int
    right: int
    bottom: int
    fill: float


@dataclass(frozen=True)
class Prepared:
    """A page image ready for the OCR engine, with its way back to the original."""

    image: Image.Image  # 8-bit grey, square pixels at ``dpi``
    dpi: int
    to_prepared: Affine  # original pixels -> prepared pixels
    original_size: tuple[int, int]
    original_dpi: tuple[float, float]
    blank: bool
    rotation: int = 0  # clockwise turn applied
    skew: float = 0.0  # counter-clockwise deskew applied, degrees
    rules: tuple[Segment, ...] = ()  # the ruling lines removed from ``image``
    squares: tuple[Square, ...] = ()  # checkbox squares, found before the rules were removed
    # ``image``'s pixels, the array it was made from: reading them back out of the PIL image
    # (tobytes, np.asarray) costs 16 ms a 300-dpi page, each time the engine or the coverage
    # check wants them.  Not to be written to.
    pixels: np.ndarray | None = field(default=None, compare=False, repr=False)

    def box(self, left: float, top: float, right: float, bottom: float) -> BBox:
        return box_to_original(self.to_prepared, left, top, right, bottom, self.original_size)

    def point(self, x: float, y: float) -> tuple[float, float]:
        """A prepared-image point on the original page, relative (0..1)."""
        back = self.to_prepared.inverse().apply(np.array([[x, y]], dtype=float))[0]
        w, h = self.original_size
        return float(np.clip(back[0] / w, 0.0, 1.0)), float(np.clip(back[1] / h, 0.0, 1.0))


@dataclass(frozen=True)
class Squared:
    grey: np.ndarray
    ink: np.ndarray
    dpi: int
    to_prepared: Affine
    original_size: tuple[int, int]
    original_dpi: tuple[float, float]
    blank: bool
    # ``ink`` is exactly ink_mask(grey) (thresholded after the resize, not before the
    # despeckle), so the steps after may use it instead of thresholding ``grey`` again.
    ink_of_grey: bool = False

    @cached_property
    def points(self) -> Points:
        """:func:`ink_points` of the page as squared: the sideways test and the deskew of
        a page that is not turned project the same sample."""
        return ink_points(self.ink, self.dpi)


def reading_dpi(dpi: tuple[float, float], ocr_dpi: int) -> float:
    """The square resolution a page of resolution ``dpi`` is read at (step 4): ``ocr_dpi``,
    and a much finer page down to it.  Reading fine faxes at their own 204 dpi was
    measured (tests/structure_measure.py, generated forms and tables): checkboxes read right
    0.952 against 0.988 at 300 dpi on fine faxes, 0.946 against 0.982 and table cells 0.942
    against 1.000 on normal-mode ones, a ticked box read unticked; the engine time it saves
    is not worth a misread answer on a payer's form."""
    del dpi  # every page is brought to ocr_dpi; the argument keeps callers' intent visible
    return float(ocr_dpi)


def plain(image: Image.Image, dpi_tag: tuple[float, float] | None, ocr_dpi: int, rotation: int) -> Prepared:
    """The page as a new user would hand it to tesseract: square pixels by a plain resize
    at the reading resolution, turned upright, nothing else (no despeckle, deskew or rule
    removal).  The reading of a page can be checked against this one's."""
    grey = to_grey(image)
    h, w = grey.shape
    dpi = effective_dpi((w, h), dpi_tag)
    out_dpi = reading_dpi(dpi, ocr_dpi)
    new_size = (max(1, round(w * out_dpi / dpi[0])), max(1, round(h * out_dpi / dpi[1])))
    if new_size != (w, h):
        interp = cv2.INTER_CUBIC if new_size[0] * new_size[1] > w * h else cv2.INTER_AREA
        grey = cv2.resize(grey, new_size, interpolation=interp)
    transform = _scale(new_size[0] / w, new_size[1] / h)
    if rotation:
        gh, gw = grey.shape
        code = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
        grey = cv2.rotate(grey, code[rotation])
        transform = transform.then(_turn_cw(rotation, gw, gh))
    return Prepared(
        image=Image.fromarray(grey, mode="L"),
        pixels=grey,
        dpi=round(out_dpi),
        to_prepared=transform,
        original_size=(w, h),
        original_dpi=dpi,
        blank=False,
        rotation=rotation,
    )


def square(image: Image.Image, dpi_tag: tuple[float, float] | None, ocr_dpi: int) -> Squared:
    """Steps 1-4: resolution, despeckle, blank test, square pixels at the OCR resolution."""
    grey = to_grey(image)
    h, w = grey.shape
    dpi = effective_dpi((w, h), dpi_tag)
    if image.mode != "1":
        grey = flatten_background(grey, dpi)
    ink = ink_mask(grey)
    grey, ink, glyphs = despeckle_and_count(grey, ink, dpi, limit=5)
    blank = glyphs < 3
    out_dpi = reading_dpi(dpi, ocr_dpi)
    fx, fy = out_dpi / dpi[0], out_dpi / dpi[1]
    if abs(fx - 1) > 1e-3 or abs(fy - 1) > 1e-3:
        interp = cv2.INTER_CUBIC if fx * fy > 1 else cv2.INTER_AREA
        new_size = (max(1, round(w * fx)), max(1, round(h * fy)))
        grey = cv2.resize(grey, new_size, interpolation=interp)
        ink = ink_mask(grey)
        fx, fy = new_size[0] / w, new_size[1] / h
        resized = True
    else:
        resized = False
    return Squared(
        grey=grey,
        ink=ink,
        dpi=round(out_dpi),
        to_prepared=_scale(fx, fy),
        original_size=(w, h),
        original_dpi=dpi,
        blank=blank,
        ink_of_grey=resized,
    )


def orient(sq: Squared, rotation: int, *, deskew: bool = True) -> Prepared:
    """Step 5: turn clockwise by ``rotation`` and deskew."""
    grey, ink, transform = sq.grey, sq.ink, sq.to_prepared
    if rotation:
        h, w = grey.shape
        code = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
        grey = cv2.rotate(grey, code[rotation])
        ink = cv2.rotate(ink, code[rotation])
        transform = transform.then(_turn_cw(rotation, w, h))
    angle = (
        skew_angle(ink, sq.dpi, points=None if rotation else sq.points) if deskew and not sq.blank else 0.0
    )
    # Tesseract copes with a fraction of a degree; the warp costs more than it gains.
    if abs(angle) >= 0.5:
        h, w = grey.shape
        m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, 1.0)
        grey = cv2.warpAffine(
            grey, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(255,)
        )
        transform = transform.then(Affine.from_2x3(m))
        warped = True
    else:
        angle = 0.0
        warped = False
    segments: tuple[Segment, ...] = ()
    squares: tuple[Square, ...] = ()
    if not sq.blank:
        # One threshold of the image both steps look at.  A quarter turn does not change
        # Otsu's histogram, so an unwarped page's ink is the squared page's, turned.
        page_ink = ink if sq.ink_of_grey and not warped else ink_mask(grey)
        squares = find_squares(grey, sq.dpi, ink=page_ink)
        grey, segments = strip_rules(grey, sq.dpi, ink=page_ink)
    return Prepared(
        image=Image.fromarray(grey, mode="L"),
        pixels=grey,
        dpi=sq.dpi,
        to_prepared=transform,
        original_size=sq.original_size,
        original_dpi=sq.original_dpi,
        blank=sq.blank,
        rotation=rotation,
        skew=angle,
        rules=segments,
        squares=squares,
    )


def remove_rules(grey: np.ndarray, dpi: int) -> np.ndarray:
    """Whiten straight strokes (table borders, form lines, underlines); see :func:`strip_rules`."""
    return strip_rules(grey, dpi)[0]


def strip_rules(
    grey: np.ndarray, dpi: int, *, ink: np.ndarray | None = None
) -> tuple[np.ndarray, tuple[Segment, ...]]:
    """Whiten straight strokes (table borders, form lines, underlines) and say where they were.

    Horizontal strokes longer than half an inch, vertical ones longer than a
    quarter inch (taller than any body-text glyph).  Fax transmission breaks
    rules into dashes, so small gaps are closed before the long strokes are found.
    ``ink``: :func:`ink_mask` of ``grey`` when the caller has it.
    """
    ink = ((ink_mask(grey) if ink is None else ink) * 255).astype(np.uint8)
    gap = max(3, dpi // 40)
    horizontal, h_boxes = _solid(row_strokes(ink, gap, max(20, dpi // 2)), ink)
    vertical, v_boxes = _solid(_column_strokes(ink, gap, max(12, dpi // 4)), ink)
    if not (h_boxes.size or v_boxes.size):
        return grey, ()
    segments = (*_segments(h_boxes, horizontal=True), *_segments(v_boxes, horizontal=False))
    # A margin across the stroke takes its grey fringe and the rows of a rule that a
    # deskew left a pixel off (stair steps shorter than the stroke test): left behind,
    # they read as "—", "_" and ":" beside the cells.
    across = max(3, dpi // 100)
    rules = cv2.bitwise_or(
        cv2.dilate(horizontal, np.ones((2 * across + 1, 3), np.uint8)),
        cv2.dilate(vertical, np.ones((3, 2 * across + 1), np.uint8)),
    )
    return cv2.max(grey, rules), segments  # rules is 0 or 255: rule pixels become white


def row_strokes(ink: np.ndarray, gap: int, keep: int) -> np.ndarray:
    """``ink`` closed over gaps of ``gap`` pixels along its rows, then opened with a line
    ``keep`` pixels long: the horizontal strokes at least that long.  Exactly OpenCV's two
    ``morphologyEx`` calls on the page, with the opening computed only on the rows that can
    hold such a stroke: a one-row kernel never looks across rows, and the opening of the
    whole page was the most of the rule search (44 ms of a 300-dpi fax page, against
    11-17 ms for all of this) while a page has candidate rows on 3-6% of its height.

    Which rows: where an opening leaves ink, its erosion kept a pixel, so the row has a
    run of closed ink at least ``min(keep - a, a + 1)`` long (``a`` = ``keep // 2``, the
    kernel's anchor; the shorter lengths only where the kernel hangs over the border,
    which OpenCV counts as ink for an erosion).  A run that long holds ``run``
    consecutive pixels of every ``step``-th column, which an erosion of the subsampled
    page finds.  The test may pass a row with no stroke, never fail one with a stroke.

    (Vertical strokes are not done this way: the rows of a page are its memory order, so
    the columns that pass, a tenth to a third of a text page, are scattered through it,
    and opening them cost more than OpenCV's column filter on the whole page, measured.)"""
    rect = cv2.getStructuringElement
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, rect(cv2.MORPH_RECT, (gap, 1)))
    shortest = min(keep - keep // 2, keep // 2 + 1)
    step = max(1, min(8, shortest))
    sampled = np.ascontiguousarray(closed[:, ::step])
    rows = np.flatnonzero(cv2.erode(sampled, rect(cv2.MORPH_RECT, (shortest // step, 1))).max(axis=1))
    out = np.zeros(closed.shape, dtype=closed.dtype)
    kernel = rect(cv2.MORPH_RECT, (keep, 1))
    # Runs of those rows, as slices (no gathering of rows); rows between two runs a little
    # apart are opened too, which changes nothing but saves calls.
    for a, b in _runs(rows, join=32):
        out[a:b] = cv2.morphologyEx(closed[a:b], cv2.MORPH_OPEN, kernel)
    return out


def _column_strokes(ink: np.ndarray, gap: int, keep: int) -> np.ndarray:
    """The vertical strokes at least ``keep`` long, gaps of ``gap`` closed (whole page)."""
    rect = cv2.getStructuringElement
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, rect(cv2.MORPH_RECT, (1, gap)))
    return cv2.morphologyEx(closed, cv2.MORPH_OPEN, rect(cv2.MORPH_RECT, (1, keep)))


def _runs(index: np.ndarray, *, join: int) -> list[tuple[int, int]]:
    """Sorted indices as (start, stop) runs, runs less than ``join`` apart made one."""
    if index.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(index) > join)
    starts = np.concatenate([index[:1], index[breaks + 1]])
    stops = np.concatenate([index[breaks], index[-1:]]) + 1
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


# A rule is ink along nearly all its length (a fax drops a pixel here and there).  The gap
# closing also bridges the tops of a line of letters into a long thin run, but that run
# is only 60-75% ink (measured on 9-10 pt Helvetica at 204 x 196 dpi); erasing it took
# the tops off every letter of a table row ("Bortezomib" read "Boriezoinib").
_RULE_INK_SHARE = 0.85


def _solid(mask: np.ndarray, ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The strokes of ``mask`` that are ink along nearly all their length, and their boxes
    (x, y, w, h rows, in the labelling's order).  Erasing whole strokes leaves the others'
    boxes as they were, so they come from this one labelling, not a second one.

    A stroke mask is nearly empty: it is labelled band by band (:func:`row_bands`), not as
    a whole page of int32 labels.
    """
    bands = row_bands(mask)
    if not bands:
        return mask, np.zeros((0, 4), dtype=np.int32)
    out = mask
    kept: list[np.ndarray] = []
    for y0, y1 in bands:
        solid, labels, stats = _solid_band(mask[y0:y1], ink[y0:y1])
        drop = np.nonzero(~solid)[0]
        drop = drop[drop > 0]
        if drop.size:
            if out is mask:
                out = mask.copy()
            for i in drop:
                x, y, w, h = (int(v) for v in stats[i, :4])
                window = out[y0 + y : y0 + y + h, x : x + w]
                window[labels[y : y + h, x : x + w] == i] = 0
        boxes = stats[solid, :4].copy()
        boxes[:, 1] += y0
        kept.append(boxes)
    return out, np.concatenate(kept)


def row_bands(mask: np.ndarray) -> list[tuple[int, int]]:
    """The bands of rows (top, bottom) that hold all of a sparse mask's pixels, for labelling
    band by band: no component crosses an empty row, and labelling a few bands costs a
    fraction of labelling the page (a whole-page labelling writes a page of int32 labels:
    measured 22 ms at 300 dpi, against 0.04 ms for the band of one rule).  A band starts on
    an even row: OpenCV labels in blocks of two rows, so each band's labels come in the
    order the whole page's would.  (``max`` along rows: cv2.reduce took 33 ms for it.)"""
    rows = np.flatnonzero(mask.max(axis=1)) if mask.size else np.zeros(0, dtype=np.int64)
    if rows.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(rows) > 1)
    starts = np.concatenate([rows[:1], rows[breaks + 1]])
    ends = np.concatenate([rows[breaks], rows[-1:]]) + 1
    return list(zip((starts - starts % 2).tolist(), ends.tolist(), strict=True))


def _solid_band(mask: np.ndarray, ink: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Label one band of a stroke mask; which of its labels are solid strokes."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    # Counted over the stroke pixels only, and dropped box by box: a page has a few dozen
    # strokes and millions of pixels (this was a tenth of a page's preparation).
    on = mask > 0
    inked = np.bincount(labels[on], weights=(ink[on] > 0).astype(np.float64), minlength=count)
    share = inked / np.maximum(stats[:, cv2.CC_STAT_AREA], 1)
    solid = share >= _RULE_INK_SHARE
    solid[0] = False
    return solid, labels, stats


def _segments(boxes: np.ndarray, *, horizontal: bool) -> list[Segment]:
    """Each stroke of a rule mask (its box: x, y, w, h) as the line through its middle."""
    out: list[Segment] = []
    for row in boxes:
        x, y, w, h = (int(v) for v in row)
        if horizontal:
            out.append(Segment(float(x), y + h / 2.0, float(x + w), y + h / 2.0, True))
        else:
            out.append(Segment(x + w / 2.0, float(y), x + w / 2.0, float(y + h), False))
    return out


# A checkbox square: 0.06 to 0.3 inch a side (6 to 22 points), about square.
_SQUARE_SIDE_IN = (0.06, 0.3)
_SQUARE_ASPECT = (0.75, 1.33)
# Each side of the outline must be inked along most of its length, and every corner
# inked: round letters (O, 0, o, Q) leave their corners empty, open ones (H, M, [)
# leave a side empty.
_SQUARE_SIDE_COVER = 0.8


def find_squares(grey: np.ndarray, dpi: int, *, ink: np.ndarray | None = None) -> tuple[Square, ...]:
    """Closed square outlines the size of a checkbox, each with the inked share of its inside.

    Tesseract drops a box glyph or reads it as a letter ("O", "m", "0"); the ink says
    whether a box is there and whether it is marked.  The inside is measured on all ink,
    not only the outline's component, since an X or a tick often does not touch it.
    ``ink``: :func:`ink_mask` of ``grey`` when the caller has it.
    """
    ink = ink_mask(grey) if ink is None else ink
    lo = _SQUARE_SIDE_IN[0] * dpi
    found: list[Square] = []
    # Labelled band by band of ink rows (:func:`row_bands`), in the whole page's order:
    # a component never crosses a row without ink, a band lower than a box holds none,
    # and the bands of a page of text are a third of its rows (measured 15 ms against
    # 24 ms for the page's labelling, most of it writing a page of int32 labels).
    for y0, y1 in row_bands(ink):
        if y1 - y0 >= lo:
            found.extend(_squares_in(ink[y0:y1], dpi, y0))
    return tuple(found)


def _squares_in(ink: np.ndarray, dpi: int, y0: int) -> list[Square]:
    """The squares of :func:`find_squares` in one band of ``ink`` starting on row ``y0``."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    lo, hi = _SQUARE_SIDE_IN[0] * dpi, _SQUARE_SIDE_IN[1] * dpi
    widths, heights = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    candidates = np.nonzero((widths >= lo) & (widths <= hi) & (heights >= lo) & (heights <= hi))[0]
    found: list[Square] = []
    for i in candidates:
        if i == 0:
            continue
        x, y, w, h = (int(v) for v in stats[i, :4])
        if not _SQUARE_ASPECT[0] <= w / h <= _SQUARE_ASPECT[1]:
            continue
        outline = labels[y : y + h, x : x + w] == i
        if not _is_square_outline(outline):
            continue
        my, mx = h // 4, w // 4
        inside = ink[y + my : y + h - my, x + mx : x + w - mx]
        fill = float(inside.mean()) if inside.size else 0.0
        found.append(Square(x, y0 + y, x + w, y0 + y + h, round(fill, 3)))
    return found


def _is_square_outline(component: np.ndarray) -> bool:
    h, w = component.shape
    # The corners first: they are the cheaper test, and most letters the size of a box
    # (round ones, and most others) fail it; a page has hundreds of them.
    ch, cw = max(1, round(0.12 * h)), max(1, round(0.12 * w))
    corners = (component[:ch, :cw], component[:ch, -cw:], component[-ch:, :cw], component[-ch:, -cw:])
    if not all(bool(c.any()) for c in corners):
        return False
    band_h, band_w = max(1, round(0.2 * h)), max(1, round(0.2 * w))
    sides = (
        component[:band_h].any(axis=0).mean(),
        component[-band_h:].any(axis=0).mean(),
        component[:, :band_w].any(axis=1).mean(),
        component[:, -band_w:].any(axis=1).mean(),
    )
    return bool(min(sides) >= _SQUARE_SIDE_COVER)


def prepare(image: Image.Image, dpi_tag: tuple[float, float] | None, ocr_dpi: int) -> Prepared:
    """All steps, upright (no orientation turn)."""
    return orient(square(image, dpi_tag, ocr_dpi), 0)
