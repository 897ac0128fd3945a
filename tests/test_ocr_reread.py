"""Second readings: table rules removed, and words tesseract gave up on read again alone.

Trap: in a treatment table tesseract read "VRd" as "VRA" at confidence 0 beside
the cell borders; cut out alone the same word reads right.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from reading.normalise import remove_rules
from reading.ocr import reread_doubtful
from reading.tesseract import OsdResult, TsvWord


def _row(text: str, conf: float, left: int = 100, top: int = 100) -> TsvWord:
    return TsvWord(text=text, left=left, top=top, width=60, height=30, conf=conf, block=1, par=1, line=1)


class StripEngine:
    """Answers the second reading with the given words, placed in the strip's first band."""

    def __init__(self, answer: Sequence[tuple[str, float]]) -> None:
        self.answer = answer
        self.calls = 0

    def recognise(self, image: Image.Image, *, dpi: int, timeout: float) -> Sequence[TsvWord]:
        self.calls += 1
        # The first cut-out sits one gap below the strip's top edge.
        top = 20
        return [_row(text, conf, left=30 + 70 * i, top=top) for i, (text, conf) in enumerate(self.answer)]

    def orientation(self, image: Image.Image, *, dpi: int, timeout: float) -> OsdResult | None:
        return None


PAGE = Image.new("L", (800, 400), 255)


def test_doubtful_word_is_replaced_by_a_surer_reading_alone() -> None:
    rows = [_row("Line", 96), _row("VRA", 0, left=300)]
    out = reread_doubtful(StripEngine([("VRd", 86)]), PAGE, rows, dpi=300, timeout=10)
    assert [(r.text, r.conf) for r in out] == [("Line", 96), ("VRd", 86)]
    assert (out[1].left, out[1].top) == (300, 100)  # the box stays the first reading's


def test_less_sure_second_reading_is_ignored() -> None:
    rows = [_row("VRA", 10)]
    out = reread_doubtful(StripEngine([("VKd", 5)]), PAGE, rows, dpi=300, timeout=10)
    assert out[0].text == "VRA"


def test_second_reading_split_in_two_is_ignored() -> None:
    rows = [_row("VRA", 10)]
    out = reread_doubtful(StripEngine([("V", 90), ("Rd", 90)]), PAGE, rows, dpi=300, timeout=10)
    assert out[0].text == "VRA"


def test_no_doubtful_word_costs_no_second_call() -> None:
    engine = StripEngine([("x", 99)])
    rows = [_row("lenalidomide", 95), _row("VRd", 88)]
    assert reread_doubtful(engine, PAGE, rows, dpi=300, timeout=10) == rows
    assert engine.calls == 0


def test_table_rules_are_removed_and_text_kept() -> None:
    img = Image.new("L", (900, 300), 255)
    draw = ImageDraw.Draw(img)
    draw.line((20, 50, 880, 50), fill=0, width=3)  # a table's horizontal rule
    draw.line((300, 20, 300, 280), fill=0, width=3)  # a column rule
    draw.text((60, 120), "VRd 01/2020 - 05/2020", fill=0)
    grey = np.array(img)
    cleaned = remove_rules(grey, 300)
    assert (cleaned[50, 100:800] == 255).all()
    assert (cleaned[100:250, 300] == 255).all()
    text = (slice(110, 140), slice(55, 250))
    assert (cleaned[text] < 128).sum() == (grey[text] < 128).sum()  # glyphs untouched


# ------------------------------------------------------------------ labels beside boxes


def _box_page() -> tuple[Image.Image, list[tuple[int, int, int, int]]]:
    """A row of two checkboxes, each with a one-character label tesseract tends to drop."""
    img = Image.new("L", (2550, 200), 255)  # a letter page's width at 300 dpi: tags are believed
    draw = ImageDraw.Draw(img)
    boxes = [(100, 80, 134, 114), (400, 80, 434, 114)]
    for x0, y0, x1, y1 in boxes:
        draw.rectangle((x0, y0, x1, y1), outline=0, width=3)
    draw.line((100, 80, 134, 114), fill=0, width=3)  # the first box is ticked
    draw.rectangle((160, 84, 168, 112), fill=0)  # its label, a "1"
    draw.rectangle((460, 84, 468, 112), fill=0)  # the second's
    return img, boxes


class CountingEngine(StripEngine):
    def __init__(self, answer: Sequence[tuple[str, float]]) -> None:
        super().__init__(answer)
        self.strips: list[Image.Image] = []

    def recognise(self, image: Image.Image, *, dpi: int, timeout: float) -> Sequence[TsvWord]:
        self.strips.append(image)
        return super().recognise(image, dpi=dpi, timeout=timeout)


def _prepared(img: Image.Image) -> object:
    from reading import normalise

    return normalise.orient(normalise.square(img, (300, 300), 300), 0, deskew=False)


def test_a_label_ocr_dropped_beside_a_box_is_read_again() -> None:
    """Regression: "☒ 1" on a 204x98 form came out as nothing; the box was found in the
    ink, so the band right of it is read again on its own."""
    from reading.ocr import read_beside_squares

    img, _ = _box_page()
    prepared = _prepared(img)
    assert len(prepared.squares) == 2  # type: ignore[attr-defined]
    engine = CountingEngine([("1", 90.0)])
    rows = read_beside_squares(engine, prepared, [], timeout=5)  # type: ignore[arg-type]
    assert len(engine.strips) == 1  # one engine call for the page, whatever the number of boxes
    (word,) = [r for r in rows if r.text == "1"]
    assert 134 < word.left < 200 and 40 < word.top < 120  # mapped back beside the first box


def test_a_box_whose_label_was_read_costs_no_second_reading() -> None:
    from reading.ocr import read_beside_squares

    img, _ = _box_page()
    prepared = _prepared(img)
    read = [_row("1", 90.0, left=158, top=84), _row("2", 90.0, left=458, top=84)]
    engine = CountingEngine([("1", 90.0)])
    assert read_beside_squares(engine, prepared, read, timeout=5) == read  # type: ignore[arg-type]
    assert engine.strips == []
