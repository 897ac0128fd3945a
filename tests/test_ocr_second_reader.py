"""The second reader: words tesseract doubts, read again by an engine of another kind.

Traps:
* two readers agreeing lift a doubt; one reader alone never does (a confident misread of
  "754" as "734" must still reach a reviewer);
* the recogniser turns a checkbox's "]" into "1", and a known word into an unknown one
  ("Proteasome" into "Proteagome": the class name, and with it the form's answer, lost);
* it reads accented Latin ("réceived") that no fax here prints;
* a crop of one word comes back with a space before its stop ("C90.02) .");
* a sure reading of a lexicon term where tesseract's letters made no known word ("brake"
  for a smeared "IsaKd") takes the second reader's confidence, but a term cut short
  ("anti-E" for "anti-BCMA") does not, and a term tesseract read ("mg/L.") is not made
  a non-term ("mg/1.");
* a sure whole number may be a decimal whose point the fax lost ("570" for "57.0"): when
  the second reader is sure of the point, the word goes to a reviewer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from common.models import BBox, Document, Page, Word, WordSource
from common.settings import Settings
from reading.second import RapidReader, combine, dispute, reread_page, second_reading

FONT = Path(__file__).resolve().parents[1] / "fixtures" / "fonts" / "DejaVuSansMono.ttf"


def word(text: str, conf: float | None, box: BBox | None = None) -> Word:
    return Word(
        text=text,
        bbox=box or BBox(x0=0.1, y0=0.1, x1=0.3, y1=0.2),
        confidence=conf,
        source=WordSource.OCR,
    )


COMBINE = [
    # (trap, tesseract, second reader, kept text, kept confidence, kept second)
    ("both agree: the doubt is lifted", ("SPEP", 0.52), ("SPEP", 0.96), "SPEP", 0.96, None),
    (
        "agreement folds case and edge stops",
        ("ixazomib):", 0.23),
        ("Ixazomib)", 0.98),
        "ixazomib):",
        0.98,
        None,
    ),
    (
        "a confident different reading replaces the text, not the doubt",
        ("Z2-000102", 0.2),
        ("ZZ-000102", 1.0),
        "ZZ-000102",
        0.2,
        "Z2-000102",
    ),
    (
        "an unsure different reading is only noted",
        ("eyeles", 0.48),
        ("cycles", 0.7),
        "eyeles",
        0.48,
        "cycles",
    ),
    (
        "a known word is not made unknown",
        ("Proteasome", 0.26),
        ("Proteagome", 0.95),
        "Proteasome",
        0.26,
        "Proteagome",
    ),
    (
        "an unknown word made known is taken",
        ("anu-BCMA", 0.08),
        ("anti-BCMA", 0.93),
        "anti-BCMA",
        0.08,
        "anu-BCMA",
    ),
    (
        "accents no fax here prints are refused",
        ("received", 0.47),
        ("réceived", 0.97),
        "received",
        0.47,
        None,
    ),
    (
        "a space inside one word's crop is dropped",
        ("C90,02).", 0.33),
        ("C90.02) .", 0.99),
        "C90.02).",
        0.33,
        "C90,02).",
    ),
]


@pytest.mark.parametrize(
    ("trap", "mine", "other", "text", "conf", "second"), COMBINE, ids=[c[0] for c in COMBINE]
)
def test_what_is_kept(
    trap: str, mine: tuple[str, float], other: tuple[str, float], text: str, conf: float, second: str | None
) -> None:
    kept = combine(word(*mine), other, trusted=0.9)
    assert (kept.text, kept.confidence, kept.second) == (text, pytest.approx(conf), second)


def test_no_reading_leaves_the_word() -> None:
    w = word("VRd", 0.3)
    assert combine(w, None, trusted=0.9) is w
    assert combine(w, ("", 0.9), trusted=0.9) is w


class Answers:
    """A second reader that answers from a table, counting its calls."""

    name = "table"

    def __init__(self, answers: dict[int, tuple[str, float]]) -> None:
        self.answers = answers
        self.calls: list[tuple[int, int]] = []

    def read(self, crop: Image.Image) -> tuple[str, float] | None:
        self.calls.append(crop.size)
        return self.answers.get(len(self.calls))


def test_only_doubted_words_with_letters_or_digits_are_read_again() -> None:
    """Confident words, text-layer pages and a checkbox's bracket are left alone."""
    page = Page(
        number=1,
        width=800,
        height=400,
        source=WordSource.OCR,
        words=(
            word("lenalidomide", 0.95),
            word("]", 0.41, BBox(x0=0.4, y0=0.1, x1=0.42, y1=0.2)),
            word("Yes", 0.22, BBox(x0=0.5, y0=0.1, x1=0.6, y1=0.2)),
        ),
    )
    reader = Answers({1: ("Yes", 1.0)})
    out = reread_page(page, Image.new("L", (800, 400), 255), reader, Settings())
    assert len(reader.calls) == 1
    assert [(w.text, w.confidence) for w in out.words] == [("lenalidomide", 0.95), ("]", 0.41), ("Yes", 1.0)]


def test_the_crop_is_read_upright_on_a_turned_page() -> None:
    """Boxes are on the page as stored; a page read upside down gives an upside-down crop,
    turned before it is read."""
    page = Page(
        number=1,
        width=800,
        height=400,
        source=WordSource.OCR,
        rotation=90,
        words=(word("VRd", 0.3, BBox(x0=0.1, y0=0.1, x1=0.15, y1=0.5)),),
    )
    reader = Answers({})
    reread_page(page, Image.new("L", (800, 400), 255), reader, Settings())
    (width, height) = reader.calls[0]
    assert width > height  # a tall box on the stored page is a wide word upright


def _rendered_word(text: str, path: Path) -> tuple[Path, BBox]:
    img = Image.new("L", (600, 120), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(FONT), 40)
    draw.text((40, 30), text, fill=0, font=font)
    left, top, right, bottom = draw.textbbox((40, 30), text, font=font)
    img.save(path, dpi=(200, 200))
    return path, BBox(x0=left / 600, y0=top / 120, x1=right / 600, y1=bottom / 120)


def test_the_real_engine_reads_a_word_and_lifts_tesseracts_doubt(tmp_path: Path) -> None:
    """rapidocr with the PP-OCR model inside its wheel, on a rendered word: no network, no
    stub.  Tesseract's reading (given here at a low confidence) is confirmed."""
    path, box = _rendered_word("lenalidomide", tmp_path / "word.png")
    page = Page(
        number=1, width=600, height=120, source=WordSource.OCR, words=(word("lenalidomide", 0.2, box),)
    )
    document = Document(sha256="ab" * 32, source_type="png", pages=(page,))
    out = second_reading(document, path, Settings(), reader=RapidReader())
    (kept,) = out.pages[0].words
    assert kept.text == "lenalidomide"
    assert kept.confidence is not None and kept.confidence >= 0.9


def test_switched_off_it_reads_nothing(tmp_path: Path) -> None:
    path, box = _rendered_word("VRd", tmp_path / "word.png")
    page = Page(number=1, width=600, height=120, source=WordSource.OCR, words=(word("VRA", 0.1, box),))
    document = Document(sha256="ab" * 32, source_type="png", pages=(page,))
    reader = Answers({1: ("VRd", 0.99)})
    assert second_reading(document, path, Settings(second_reader=False), reader=reader) is document
    assert not reader.calls


LIFTS = [
    # (trap, tesseract, second reader, kept text, kept confidence)
    (
        "a smeared regimen read as a term takes the sure reading's confidence",
        ("brake", 0.41),
        ("IsaKd", 0.94),
        "IsaKd",
        0.94,
    ),
    ("a smeared class name read whole", ("anu-BCMA", 0.08), ("anti-BCMA", 0.95), "anti-BCMA", 0.95),
    ("a term cut short keeps the doubt", ("antic", 0.31), ("anti-E", 0.93), "anti-E", 0.31),
    ("an unsure term is no lift", ("brake", 0.41), ("IsaKd", 0.85), "brake", 0.41),
    ("a unit tesseract read is not made a non-term", ("mg/L.", 0.0), ("mg/1.", 0.99), "mg/L.", 0.0),
    ("a smeared unit read as a unit", ("my/L", 0.31), ("mg/L", 0.998), "mg/L", 0.998),
    ("a smeared code read as a code", ("92055", 0.4), ("Q2055", 1.0), "Q2055", 1.0),
    ("a reading that is no term keeps the doubt", ("my/24", 0.0), ("mg/24", 0.99), "mg/24", 0.0),
]


@pytest.mark.parametrize(("trap", "mine", "other", "text", "conf"), LIFTS, ids=[c[0] for c in LIFTS])
def test_a_lexicon_term_read_sure_lifts_the_doubt(
    trap: str, mine: tuple[str, float], other: tuple[str, float], text: str, conf: float
) -> None:
    kept = combine(word(*mine), other, trusted=0.9, lifts=0.9)
    assert (kept.text, kept.confidence) == (text, pytest.approx(conf))


DECIMALS = [
    # (trap, tesseract, second reader, kept text, kept confidence)
    ("a lost point the second reader is sure of: in doubt", ("570", 0.95), ("57.0", 1.0), "57.0", 0.3),
    ("an unsure point is no dispute (an age read '7.4')", ("74", 0.96), ("7.4", 0.86), "74", 0.96),
    ("other digits are no dispute", ("570", 0.95), ("57.6", 1.0), "570", 0.95),
    ("the same number is no dispute", ("570", 0.95), ("570", 1.0), "570", 0.95),
]


@pytest.mark.parametrize(("trap", "mine", "other", "text", "conf"), DECIMALS, ids=[c[0] for c in DECIMALS])
def test_a_point_the_fax_lost_puts_the_number_in_doubt(
    trap: str, mine: tuple[str, float], other: tuple[str, float], text: str, conf: float
) -> None:
    kept = dispute(word(*mine), other, trusted=0.9, doubt=0.3)
    assert (kept.text, kept.confidence) == (text, pytest.approx(conf))
