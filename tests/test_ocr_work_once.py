"""No work twice in the reading stage, and the shortcuts give what the long way gave.

Each shortcut here skips a labelling, a threshold or a scoring the stage used to do a
second time; each test checks the shortcut's answer against the long way's on pages
where the two could part (specks among glyphs, a rule band starting on an odd row,
letter tops the gap closing bridges, a page turned but not warped, a warped one).

The fast forms of the preparation (work restricted to the rows that can hold a stroke,
the bands of rows with unread ink, the boxes of specks, or two passes done in one) are
set against the slow forms they replace, pixel for pixel, on images where they could
part: strokes touching the page's edges, strokes a pixel either side of the lengths that
matter, kernels longer than the page is wide, a nearly white page, specks at several
resolutions.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from common.settings import Settings
from reading import coverage, normalise, ocr
from reading.ocr import RawWord
from reading.tesseract import OsdResult

FONT = Path(__file__).resolve().parent.parent / "fixtures" / "fonts"


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    found = sorted(FONT.glob("*.ttf"))
    return ImageFont.truetype(str(found[0]), size) if found else ImageFont.load_default()


def _page(*, table: bool, boxes: bool, skew: float = 0.0, specks: int = 300, seed: int = 3) -> Image.Image:
    """A 300-dpi letter page (cropped): lines of text, optionally a ruled table and checkboxes."""
    img = Image.new("L", (1800, 1500), 255)
    draw = ImageDraw.Draw(img)
    font = _font(34)
    for i, text in enumerate(
        [
            "Multiple myeloma, relapsed after three prior lines of therapy",
            "VRd induction 2021; autologous transplant; lenalidomide maintenance",
            "EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE FFFFFFFFFFFF",  # flat tops the closing bridges
        ]
    ):
        draw.text((120, 100 + 70 * i), text, fill=0, font=font)
    if table:
        top = 451  # an odd row: the band of this rule starts on it
        for r in range(5):
            draw.line((100, top + 80 * r, 1700, top + 80 * r), fill=0, width=4)
        for x in (100, 700, 1200, 1700):
            draw.line((x, top, x, top + 320), fill=0, width=4)
        for r in range(4):
            draw.text((130, top + 20 + 80 * r), f"Bortezomib {r + 1}/2022", fill=0, font=font)
    if boxes:
        for i, ticked in enumerate((True, False, True)):
            x, y = 140 + 400 * i, 1000
            draw.rectangle((x, y, x + 40, y + 40), outline=0, width=4)
            if ticked:
                draw.line((x + 8, y + 8, x + 32, y + 32), fill=0, width=5)
                draw.line((x + 32, y + 8, x + 8, y + 32), fill=0, width=5)
            draw.text((x + 60, y), ("Yes", "No", "Unknown")[i], fill=0, font=font)
    grey = np.asarray(img).copy()
    rng = np.random.default_rng(seed)
    ys, xs = rng.integers(0, grey.shape[0], specks), rng.integers(0, grey.shape[1], specks)
    grey[ys, xs] = 0  # line noise: lone specks
    out = Image.fromarray(grey, mode="L")
    return out.rotate(skew, fillcolor=255, resample=Image.Resampling.BILINEAR) if skew else out


PAGES = {
    "text": dict(table=False, boxes=False),
    "table": dict(table=True, boxes=False),
    "form": dict(table=True, boxes=True),
    "skewed form": dict(table=True, boxes=True, skew=2.0),
}


def _components(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return [tuple(int(v) for v in stats[i, :4]) for i in range(1, count)]  # type: ignore[misc]


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_blank_test_counts_the_glyphs_left_by_the_despeckle_without_labelling_again(name: str) -> None:
    grey = np.asarray(_page(**PAGES[name]).convert("L"))
    dpi = (300.0, 300.0)
    ink = normalise.ink_mask(grey)
    cleaned, cleaned_ink, count = normalise.despeckle_and_count(grey, ink, dpi, limit=10_000)
    long_grey, long_ink = normalise.despeckle(grey, ink, dpi)
    assert np.array_equal(cleaned, long_grey) and np.array_equal(cleaned_ink, long_ink)
    assert count == normalise.glyph_count(long_ink, dpi, limit=10_000)
    assert count > 20


def test_a_speck_the_size_of_a_glyph_at_coarse_resolution_is_not_counted_twice() -> None:
    # At 98 dpi rows a 1-pixel speck is removed; at 600 dpi a speck of 18 pixels is too,
    # and neither may stay in the count of glyphs the blank test reads.
    ink = np.zeros((400, 400), np.uint8)
    ink[100:124, 100:101] = 1  # 24 pixels, 24 tall: a glyph at 600 dpi, not a speck
    ink[200:202, 200:202] = 1  # a speck
    grey = np.where(ink > 0, 0, 255).astype(np.uint8)
    for dpi in ((600.0, 600.0), (204.0, 98.0)):
        _, left, count = normalise.despeckle_and_count(grey, ink, dpi)
        assert count == normalise.glyph_count(left, dpi)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_rule_boxes_come_from_one_labelling_and_match_a_labelling_of_what_is_left(name: str) -> None:
    grey = np.asarray(_page(**PAGES[name]))
    ink = (normalise.ink_mask(grey) * 255).astype(np.uint8)
    rect = cv2.getStructuringElement
    for close, keep in (((7, 1), (150, 1)), ((1, 7), (1, 75))):
        closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, rect(cv2.MORPH_RECT, close))
        strokes = cv2.morphologyEx(closed, cv2.MORPH_OPEN, rect(cv2.MORPH_RECT, keep))
        kept, boxes = normalise._solid(strokes, ink)
        # the long way: label what is left again, in the order OpenCV gives
        assert [tuple(int(v) for v in b) for b in boxes] == _components(kept)
        assert not np.any(kept & ~strokes)  # only erasing


def test_letter_tops_bridged_by_the_gap_closing_are_not_rules_and_real_rules_are() -> None:
    grey = np.asarray(_page(table=True, boxes=False))
    cleaned, segments = normalise.strip_rules(grey, 300)
    horizontal = [s for s in segments if s.horizontal]
    assert len(horizontal) == 5 and all(abs(s.x1 - s.x0) > 1500 for s in horizontal)
    assert len([s for s in segments if not s.horizontal]) == 4
    # the row of flat-topped capitals keeps its tops
    band = slice(240, 290)
    assert (normalise.ink_mask(cleaned[band]) > 0).sum() > 0.8 * (normalise.ink_mask(grey[band]) > 0).sum()


@pytest.mark.parametrize("name", sorted(PAGES))
@pytest.mark.parametrize("rotation", [0, 90, 180])
def test_one_threshold_serves_squares_and_rules_turned_or_warped(name: str, rotation: int) -> None:
    """orient thresholds once for both steps (or takes the squared page's ink, turned, when
    it did not warp); its squares and rules are those each step finds on its own."""
    page = _page(**PAGES[name])
    sq = normalise.square(page, (200.0, 200.0), 300)  # resized: the squared ink is the grey's
    assert sq.ink_of_grey
    prepared = normalise.orient(sq, rotation)
    code = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180}
    grey = cv2.rotate(sq.grey, code[rotation]) if rotation else sq.grey
    if prepared.skew:
        h, w = grey.shape
        m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), prepared.skew, 1.0)
        grey = cv2.warpAffine(
            grey, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(255,)
        )
    assert prepared.squares == normalise.find_squares(grey, sq.dpi)
    cleaned, segments = normalise.strip_rules(grey, sq.dpi)
    assert prepared.rules == segments
    assert np.array_equal(np.asarray(prepared.image), cleaned)


def test_a_page_at_the_reading_resolution_is_thresholded_again_after_the_despeckle() -> None:
    # Not resized: the squared page's ink was thresholded before the despeckle changed the
    # grey page (Otsu's threshold may move), so orient must not take it.
    sq = normalise.square(_page(table=True, boxes=True), (300.0, 300.0), 300)
    assert not sq.ink_of_grey
    prepared = normalise.orient(sq, 0)
    assert prepared.squares == normalise.find_squares(sq.grey, sq.dpi)


class _Counting:
    """An engine reading the same rows every time; counts calls."""

    def __init__(self, rows: Sequence[RawWord]) -> None:
        self.rows = rows
        self.calls = 0

    def recognise(self, image: Image.Image, *, dpi: int, timeout: float) -> Sequence[RawWord]:
        self.calls += 1
        return self.rows

    def orientation(self, image: Image.Image, *, dpi: int, timeout: float) -> OsdResult | None:
        return None


def _rows(texts: Sequence[str], conf: float) -> list[RawWord]:
    return [RawWord(t, 120 + 200 * i, 100, 180, 40, conf, 1, 1, 1) for i, t in enumerate(texts)]


@pytest.mark.parametrize(
    ("rows", "scorings"),
    [
        (_rows(["Multiple", "myeloma", "relapsed", "refractory"], 95), 1),  # good: one reading
        (_rows(["multiple", "myctonia.", "molapred", "ictraciinvy"], 75), 2),  # fair: + plain image
        (_rows(["~\\|", "xkcdfgh", "%$#"], 12), 3),  # poor: + turned + plain image
    ],
)
def test_each_reading_is_scored_once(
    monkeypatch: pytest.MonkeyPatch, rows: list[RawWord], scorings: int
) -> None:
    """The token scoring of a reading decides the turn, the plain-image check and which
    reading wins; it is done once per reading, not once per decision."""
    calls: list[int] = []
    real = ocr.score_tokens

    def counting(tokens: Sequence[str]):  # type: ignore[no-untyped-def]
        calls.append(len(tokens))
        return real(tokens)

    monkeypatch.setattr(ocr, "score_tokens", counting)
    page = ocr.PageImage(image=_page(table=False, boxes=False), dpi=(300.0, 300.0), width=1800, height=1500)
    engine = _Counting(rows)
    ocr.ocr_page(page, 1, engine, Settings(workers=1))
    readings = engine.calls - (1 if any(r.conf < 30 for r in rows) else 0)  # less the doubtful words' strip
    assert len(calls) == scorings
    assert readings >= scorings


class _BySize:
    """An engine whose reading depends on the image: the whole page reads ``page``, any
    smaller image (a sample, a strip) reads ``sample``.  Records the sizes it was given."""

    def __init__(self, size: tuple[int, int], page: Sequence[RawWord], sample: Sequence[RawWord]) -> None:
        self.size, self.page, self.sample = size, page, sample
        self.sizes: list[tuple[int, int]] = []

    def recognise(self, image: Image.Image, *, dpi: int, timeout: float) -> Sequence[RawWord]:
        self.sizes.append(image.size)
        return self.page if image.size == self.size else self.sample

    def orientation(self, image: Image.Image, *, dpi: int, timeout: float) -> OsdResult | None:
        return None


def _band_rows(texts: Sequence[str], conf: float, top: int) -> list[RawWord]:
    return [RawWord(t, 120 + 220 * i, top, 200, 40, conf, 1, 1, 1) for i, t in enumerate(texts)]


GOOD = ["Multiple", "myeloma", "relapsed", "refractory"]
GARBLED = ["multiple", "myctonia.", "molapred", "ictraciinvy"]


@pytest.mark.parametrize(
    ("sample", "whole_read"),
    [
        (_band_rows(GARBLED, 40, 30), False),  # the sample reads worse: the page is not read again
        (_band_rows(GOOD, 96, 30), True),  # the sample reads better: the whole plain page is read
    ],
)
def test_the_plain_image_is_read_whole_only_when_its_sample_reads_better(
    sample: list[RawWord], whole_read: bool
) -> None:
    image = _page(table=False, boxes=False)
    plain = normalise.plain(image, (300.0, 300.0), 300, 0)
    rows = _band_rows(GOOD[:2] + GARBLED[2:], 70, 700)  # in the middle third
    engine = _BySize(plain.image.size, rows, sample)
    assert ocr.plain_may_win(engine, plain, plain, rows, timeout=60) is whole_read
    assert len(engine.sizes) == 1 and engine.sizes[0][0] == plain.image.width
    assert engine.sizes[0][1] < plain.image.height // 2  # a third of the page, cut between lines


def test_a_page_with_no_words_in_the_sample_band_is_read_whole_without_a_sample() -> None:
    image = _page(table=False, boxes=False)
    plain = normalise.plain(image, (300.0, 300.0), 300, 0)
    rows = _band_rows(GARBLED, 70, 100)  # all in the top third
    engine = _BySize(plain.image.size, rows, [])
    assert ocr.plain_may_win(engine, plain, plain, rows, timeout=60)
    assert engine.sizes == []


def test_a_fair_page_whose_plain_sample_reads_worse_costs_one_sample_not_a_second_page() -> None:
    image = _page(table=False, boxes=False)
    page = ocr.PageImage(image=image, dpi=(300.0, 300.0), width=1800, height=1500)
    fair = _band_rows(GOOD[:2] + GARBLED[2:], 75, 700)
    engine = _BySize(image.size, fair, _band_rows(GARBLED, 40, 30))
    out = ocr.ocr_page(page, 1, engine, Settings(workers=1))
    whole = [s for s in engine.sizes if s == image.size]
    assert len(whole) == 1  # the prepared page only; the plain page was sampled, not read
    assert {r.text for r in fair} <= {w.text for w in out.words}  # the prepared reading kept


# ------------------------------------------------------------------ fast forms


def _slow_strokes(ink: np.ndarray, gap: int, keep: int) -> np.ndarray:
    rect = cv2.getStructuringElement
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, rect(cv2.MORPH_RECT, (gap, 1)))
    return cv2.morphologyEx(closed, cv2.MORPH_OPEN, rect(cv2.MORPH_RECT, (keep, 1)))


def _stroke_page(seed: int, shape: tuple[int, int], keep: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h, w = shape
    ink = (rng.random(shape) < 0.03).astype(np.uint8) * 255  # noise the closing may join
    for _ in range(60):
        y = int(rng.integers(0, h))
        length = int(rng.integers(max(1, keep // 2 - 3), keep + 4))  # around both lengths that matter
        x = int(rng.choice([0, w - length, int(rng.integers(0, max(1, w - length)))]))  # at the edges too
        ink[y, max(0, x) : x + length] = 255
        for _ in range(int(rng.integers(0, 3))):  # a fax's dropped pixels
            ink[y, int(rng.integers(max(0, x), max(1, min(w, x + length))))] = 0
    return ink


@pytest.mark.parametrize("keep", [20, 21, 75, 150, 151])
@pytest.mark.parametrize("shape", [(300, 900), (61, 400), (40, 90), (7, 13)])
def test_strokes_from_the_rows_that_can_hold_them_are_the_whole_page_opening(
    keep: int, shape: tuple[int, int]
) -> None:
    for seed in range(3):
        ink = _stroke_page(seed, shape, keep)
        for gap in (3, 7):
            assert np.array_equal(normalise.row_strokes(ink, gap, keep), _slow_strokes(ink, gap, keep))


@pytest.mark.parametrize("name", sorted(PAGES))
def test_strokes_of_a_page_are_the_whole_page_opening(name: str) -> None:
    grey = np.asarray(_page(**PAGES[name]))
    ink = (normalise.ink_mask(grey) * 255).astype(np.uint8)
    fast = normalise.row_strokes(ink, 7, 150)
    assert fast.any() == (name != "skewed form")  # rules, or letter tops the closing bridged
    assert np.array_equal(fast, _slow_strokes(ink, 7, 150))


def test_the_ink_mask_is_otsus_threshold_capped_at_200() -> None:
    rng = np.random.default_rng(1)
    pages = [np.asarray(_page(**PAGES["form"])), rng.integers(0, 256, (200, 300), dtype=np.uint8)]
    pages.append(np.clip(rng.normal(235, 6, (200, 300)), 0, 255).astype(np.uint8))  # nearly white paper
    pages[-1][50:60, 50:200] = 215  # faint print: Otsu's threshold lands above 200
    for grey in pages:
        threshold, _ = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        slow = (grey <= min(threshold, 200.0)).astype(np.uint8)
        assert np.array_equal(normalise.ink_mask(grey), slow)
    assert cv2.threshold(pages[-1], 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[0] > 200


@pytest.mark.parametrize("dpi", [(204.0, 98.0), (200.0, 200.0), (300.0, 300.0), (600.0, 600.0)])
def test_specks_found_in_their_boxes_are_those_of_the_page_sized_lookup(dpi: tuple[float, float]) -> None:
    rng = np.random.default_rng(5)
    grey = np.asarray(_page(**PAGES["form"])).copy()
    for size in (1, 2, 3, 4, 5):  # clusters of specks up to 5 pixels a side, on the edges too
        ys, xs = rng.integers(0, grey.shape[0], 80), rng.integers(0, grey.shape[1], 80)
        for y, x in zip(ys, xs, strict=True):
            block = grey[y : y + size, x : x + size]
            block[rng.random(block.shape) < 0.6] = 0
    grey[0, 0] = grey[-1, -1] = grey[0, -2] = 0
    ink = normalise.ink_mask(grey)
    out_grey, out_ink, _ = normalise.despeckle_and_count(grey, ink, dpi)
    max_area = max(2, round(2.0 * dpi[0] * dpi[1] / (200.0 * 200.0)))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] <= max_area
    small[0] = False
    speck = small[labels]
    assert speck.sum() > 100
    assert np.array_equal(out_grey, np.where(speck, 255, grey))
    assert np.array_equal(out_ink, np.where(speck, 0, ink))


def _slow_gaps(ink: np.ndarray, dpi: int, rows: list[RawWord], skip: list[tuple[int, int, int, int]]) -> list:
    """coverage.gaps as it was: the whole page labelled, covered and dilated."""
    glyphs = coverage._glyph_mask(ink, dpi, skip)
    covered = np.zeros_like(glyphs)
    pad = max(1, round(coverage._COVER_PAD_IN * dpi))
    for r in rows:
        if r.conf < 0 or not r.text.strip():
            continue
        covered[
            max(0, r.top - pad) : r.top + r.height + pad, max(0, r.left - pad) : r.left + r.width + pad
        ] = 1
    loose = glyphs & (1 - covered)
    join = max(3, round(coverage._JOIN_IN * dpi))
    runs = cv2.dilate(loose, cv2.getStructuringElement(cv2.MORPH_RECT, (join, 1)))
    out = []
    for y0, y1 in normalise.row_bands(runs):
        out.extend(coverage._band_gaps(loose[y0:y1], runs[y0:y1], y0, coverage._GAP_MIN_W_IN * dpi))
    return out


@pytest.mark.parametrize("name", sorted(PAGES))
def test_gaps_from_the_bands_with_unread_ink_are_those_of_the_whole_page(name: str) -> None:
    grey = np.asarray(_page(**PAGES[name]))
    ink = (grey < 128).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    every = [RawWord("w", int(x), int(y), int(w), int(h), 90.0, 1, 1, 1) for x, y, w, h, _ in stats[1:]]
    skip = [(130, 990, 190, 1050)]
    for rows in ([], every, every[::2], every[1::3], [_without_text(r) for r in every]):
        fast = coverage.gaps(ink, 300, rows, skip=skip)
        assert fast == _slow_gaps(ink, 300, rows, skip)
    assert coverage.gaps(ink, 300, every[::2], skip=skip)  # some stretch left unread


def _without_text(row: RawWord) -> RawWord:
    """A row that covers nothing (no text)."""
    return RawWord(" ", row.left, row.top, row.width, row.height, row.conf, row.block, row.par, row.line)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_squares_found_band_by_band_are_those_of_the_whole_page_labelling(name: str) -> None:
    grey = np.asarray(_page(**PAGES[name]))
    ink = normalise.ink_mask(grey)
    whole = tuple(normalise._squares_in(ink, 300, 0))  # the page labelled at once
    assert normalise.find_squares(grey, 300) == whole
    assert len(whole) == (3 if "form" in name else 0)
