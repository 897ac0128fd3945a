"""What tesseract makes of checkbox glyphs on faxes, measured; the source of the misreadings
listed in lexicons/structure/checkboxes.json.

Every glyph style, ticked and unticked, in three fonts and two sizes, is printed beside a
label, faxed at 204x196 and 204x98 and read with real tesseract.  The words read where each
glyph was printed must never say the opposite state: an unticked box read as a ticked
glyph would make a statement the form never made.  Run this file with ``-s`` to see the
readings (the lexicon's "measured" rows come from it).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import letter
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas
from structure_docs import _fonts, fax

from common.settings import Settings
from extractors.structure.forms import glyph_key
from extractors.structure.geometry import Frame
from extractors.structure.vocabulary import load_structure_lexicon
from reading.reader import read_document

GLYPHS: dict[str, tuple[str, ...]] = {
    "ticked": ("[X]", "[x]", "(x)", "_X_", "\u2612", "\u2611", "\u25a0", "\u2713", "\u2714"),
    "unticked": ("[ ]", "( )", "___", "\u2610", "\u25a1"),
}
FONTS = (("Helvetica", False), ("Courier", False), ("DejaVu", True))


def _layout() -> list[tuple[str, str, str, float, float, float]]:
    """(state, glyph, font, size, x, baseline y) of every printed glyph."""
    out = []
    y = 740.0
    for font, unicode_ok in FONTS:
        for size in (10.0, 12.0):
            x = 54.0
            for state, glyphs in GLYPHS.items():
                for glyph in glyphs:
                    if not unicode_ok and any(ord(ch) > 127 for ch in glyph):
                        continue
                    for _ in range(2):
                        out.append((state, glyph, font, size, x, y))
                        x += 78
                        if x > 520:
                            x, y = 54.0, y - (size + 12)
            y -= size + 20
    return out


def _write(out: Path) -> Path:
    _fonts()
    c = canvas.Canvas(str(out), pagesize=letter, invariant=1)
    for _, glyph, font, size, x, y in _layout():
        c.setFont(font, size)
        c.drawString(x, y, glyph)
        c.setFont("Helvetica", size)
        c.drawString(x + pdfmetrics.stringWidth("[X]", "Helvetica", size) + 6, y, "Option")
    c.showPage()
    c.save()
    return out


def _readings(rendering: str, root: Path) -> dict[tuple[str, str], Counter[str]]:
    pdf = _write(root / "glyphs.pdf")
    document = read_document(fax(pdf, rendering, root / f"glyphs.{rendering}.tif"), Settings(workers=2))
    page = document.pages[0]
    frame = Frame.of(page)
    boxes = [(w.text, frame.box(w.bbox)) for w in page.words]
    found: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for state, glyph, font, size, x, y in _layout():
        width = pdfmetrics.stringWidth(glyph, font if font != "DejaVu" else "DejaVu", size)
        top, bottom = 792 - (y + 0.8 * size), 792 - (y - 0.2 * size)
        over = [
            t
            for t, (x0, y0, x1, y1) in boxes
            if min(x1, x + width) - max(x0, x) > 0.3 * width and min(y1, bottom) - max(y0, top) > 0
        ]
        found[(state, glyph)][" ".join(over) or "(nothing)"] += 1
    return found


@pytest.mark.ocr
@pytest.mark.parametrize("rendering", ["fine", "normal"])
def test_no_unticked_glyph_reads_as_a_ticked_one(rendering: str, tmp_path: Path) -> None:
    lexicon = load_structure_lexicon()
    found = _readings(rendering, tmp_path)
    opposite: list[str] = []
    for (state, glyph), readings in sorted(found.items()):
        print(f"{rendering} {state:9} {glyph!r:8} -> {dict(readings)}")
        for text in readings:
            # a glued label ("[X]Option") counts by its glyph; every word read over the glyph counts
            for word in text.split():
                reading = lexicon.glyphs.get(glyph_key(word))
                if reading is not None and reading.state != state:
                    opposite.append(
                        f"{glyph!r} ({state}) read {word!r}, which the lexicon says is {reading.state}"
                    )
    assert not opposite, opposite
