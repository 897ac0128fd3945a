"""A second reader for the words tesseract doubts.

Tesseract's confidence is low on exactly the tokens a policy turns on: regimen codes,
lab values, dates in table cells, drug names a fax line smeared.  Each word it read
below ``settings.second_read_below`` is cut out of the page image (the page as stored,
at square pixels, turned upright) and read again by a second engine of another kind:
the PP-OCR recognition model that ships inside the ``rapidocr`` wheel (Apache-2.0), run
by onnxruntime on one thread.  Measured on the corpus's fax pages against their source
text (the closing note of 2026-12-02 gives the figures), it reads about 70% of those
words right where tesseract reads 40%.

What is kept (:func:`combine`):

* both engines read the same word (case and edge punctuation folded): the word stands
  with the higher confidence, since two readers of different kinds agreeing is better
  evidence than either's own score;
* they differ and the second reader is confident (``second_trusted``) and more so than
  tesseract: its text replaces the word, but the word keeps tesseract's low confidence,
  so whatever rests on it still goes to a reviewer.  The lexicons' words judge between
  them where they can: a reading that turns a known word into an unknown one is refused
  ("Proteasome" to "Proteagome"), one that turns an unknown word into a known one is
  taken ("anu-BCMA" to "anti-BCMA");
* the second reading is, whole, a lexicon term (every run of letters in it a known word,
  none shorter than three letters, or the token itself a term such as "Dara-Kd", "mg/L",
  "Q2055") where tesseract's reading was none (its letters no known word, or no word at
  all: "my/L", "92055"), and the second reader is sure of it (``second_lifts``): the word
  takes the second reader's confidence.  Measured on the corpus's fax pages (closing note
  of 2026-12-02, second session): where tesseract's letters made an unknown word, such
  readings were the source's word 265 times in 282, every miss a lexicon word misspelt
  into another spelling of itself or a non-drug word ("Hem/One"), none a drug put where
  the page printed none; where tesseract's reading held no word (units, codes), 82 in
  86, the four others a box matched to the wrong source word.  A smeared "IsaKd" that
  tesseract read "brake" no longer sends a complete history to a reviewer;
* otherwise the word is left as tesseract read it.

One kind of sure word is read again too: a whole number of two to four digits
(:func:`_undotted`).  On a normal-mode fax a decimal point is one row of pixels, and
tesseract drops it while staying sure: "57.0" mg/L read "570" at 0.95.  Measured on the
corpus's fax pages, the second reader saw a point tesseract lost in 25 of 2,342 sure
numbers, and was right in 18 (a sure "74" it read "7.4" at 0.86 was an age); so where it
sees one (the same digits with a point) and is sure of it, the two readings are in
dispute: the second reader's text is kept and the word's confidence falls below the
low-confidence line (:func:`dispute`),
so a lab value that rests on it goes to a reviewer instead of passing a threshold ten
times too high.

The other engine's text is kept on the word (``Word.second``) whenever it differs from
the text kept, so a reviewer can see both readings.

This is a stage of its own, run on the document after it is read (from the original
file), so the recorded tesseract output of the corpus (:mod:`reading.recorded`) stays
tesseract's alone, as OCRmyPDF records its engine's output.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from common.models import Document, Page, Word, WordSource
from common.settings import Settings
from reading import images, pdf
from reading.normalise import effective_dpi
from reading.sniff import Kind, sniff

log = logging.getLogger(__name__)

_EDGE = "()[]{}\"'“”‘’.,:;!?*|_"
# a crop shorter than this reads as noise to either engine
_MIN_SIDE = 6
# pixels of page kept around a word's box: enough for the glyphs' edges, not enough to
# take in a neighbour's (a wider margin was measured to read worse)
_PAD = 4


class SecondReader(Protocol):
    name: str

    def read(self, crop: Image.Image) -> tuple[str, float] | None:
        """The text of one word's crop and the engine's confidence (0..1)."""


class RapidReader:
    """PP-OCR recognition (no detection: each crop is one word) through rapidocr."""

    name = "rapidocr"

    def __init__(self) -> None:
        from rapidocr import RapidOCR

        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        self._engine = RapidOCR(
            params={
                "Global.use_det": False,
                "Global.use_cls": False,
                "Global.log_level": "error",
                # one thread: the pipeline parallelises over pages and documents
                "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )
        self._lock = threading.Lock()

    def read(self, crop: Image.Image) -> tuple[str, float] | None:
        with self._lock:
            out = self._engine(np.asarray(crop.convert("RGB")), use_det=False, use_cls=False, use_rec=True)
        # recognition alone answers with its texts and scores, one per crop
        texts: Sequence[str] = getattr(out, "txts", None) or ()
        scores: Sequence[float] = getattr(out, "scores", None) or ()
        if not texts or not scores:
            return None
        return str(texts[0]), float(scores[0])


_READERS: list[SecondReader] = []
_READER_LOCK = threading.Lock()
_UNAVAILABLE = False


def default_readers(count: int) -> list[SecondReader]:
    """Up to ``count`` second readers for this process, built once (one per thread that
    reads pages: onnxruntime lets go of the GIL while it infers); empty (with one warning)
    when the engine cannot load, so the first reading still stands."""
    global _UNAVAILABLE
    with _READER_LOCK:
        while len(_READERS) < count and not _UNAVAILABLE:
            try:
                _READERS.append(RapidReader())
            except Exception as err:  # ImportError, a missing model file, onnxruntime
                _UNAVAILABLE = True
                log.warning("the second reader is not available (%s): words stay as tesseract read them", err)
        return _READERS[:count]


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip(_EDGE).casefold()


def _plain(text: str, beside: str) -> bool:
    """No letter outside ASCII unless tesseract read one too: the recognition model also
    reads Chinese and accented Latin ("réceived"), which a fax of this service never
    prints in a word tesseract read plain."""
    if any(ord(ch) > 127 for ch in beside if ch.isalpha()):
        return True
    return not any(ord(ch) > 127 for ch in text if ch.isalpha())


_WORD = re.compile(r"[a-z]{3,}")


@lru_cache(maxsize=1)
def _lexicon_strings() -> tuple[str, ...]:
    """Every string of the lexicon files, keys and values: drug names, aliases, regimen
    codes, classes, section titles, cue words."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(k)
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for entry in resources.files("lexicons").iterdir():
        if entry.name.endswith(".json"):
            walk(json.loads(entry.read_text("utf-8")))
    return tuple(found)


@lru_cache(maxsize=1)
def known_words() -> frozenset[str]:
    """Every word of three letters or more in the lexicons: a reading that makes a known
    word unknown is the second reader's error, as a reading that makes an unknown word
    known is tesseract's."""
    return frozenset(w for text in _lexicon_strings() for w in _WORD.findall(text.casefold()))


@lru_cache(maxsize=1)
def known_terms() -> frozenset[str]:
    """Every string of the lexicons, folded, as a whole."""
    return frozenset(fold(text) for text in _lexicon_strings())


def _known(text: str) -> bool | None:
    """Whether the word is a lexicon term ("mg/L", "VRd") or its letters make lexicon
    words; None for a token with neither (a number, a date, a code), where the lexicons
    cannot judge."""
    if fold(text) in known_terms():
        return True
    words = _WORD.findall(fold(text))
    if not words:
        return None
    vocabulary = known_words()
    return all(w in vocabulary for w in words)


def _term(text: str) -> bool:
    """The whole token is a lexicon term: every run of letters a known word of three
    letters or more ("anti-E", read from a smeared "anti-BCMA", is not), or the token
    itself one of the lexicons' terms ("Dara-Kd")."""
    token = fold(text)
    if token in known_terms():
        return True
    runs = re.findall(r"[a-z]+", token)
    return bool(runs) and all(len(r) >= 3 for r in runs) and bool(_known(text))


def combine(word: Word, other: tuple[str, float] | None, *, trusted: float, lifts: float = 1.01) -> Word:
    """The word to keep, given the second reader's text and confidence."""
    if other is None:
        return word
    text, conf = other
    if " " not in word.text:
        # one word's crop: the recogniser sometimes puts a space before a stop or a slash
        text = text.replace(" ", "")
    if not text or not _plain(text, word.text):
        return word
    mine = word.confidence or 0.0
    if fold(text) == fold(word.text) and fold(text):
        return word.model_copy(update={"confidence": max(mine, conf)})
    known_mine, known_other = _known(word.text), _known(text)
    replace = conf >= trusted and conf > mine
    if known_mine and not known_other:
        replace = False  # "Proteasome" is not to become "Proteagome", nor "mg/L" "mg/1"
    elif known_other and known_mine is False:
        replace = conf >= trusted  # "anu-BCMA" becomes "anti-BCMA"
    if replace and not known_mine and conf >= lifts and _term(text):
        return word.model_copy(update={"text": text, "second": word.text, "confidence": conf})
    if replace:
        return word.model_copy(update={"text": text, "second": word.text})
    return word.model_copy(update={"second": text})


_WHOLE = re.compile(r"[(\[]?(\d{2,4})[)\],;:]?")


def _undotted(word: Word) -> bool:
    """A whole number that could be a decimal whose point the fax lost."""
    return _WHOLE.fullmatch(word.text) is not None


def dispute(word: Word, other: tuple[str, float] | None, *, trusted: float, doubt: float) -> Word:
    """A sure whole number against the second reader's reading of its crop: a point it is
    sure of between the same digits puts the word in doubt (``doubt`` is below the
    low-confidence line); anything else leaves it as tesseract read it."""
    if other is None:
        return word
    text, conf = other[0].replace(" ", ""), other[1]
    digits = _WHOLE.fullmatch(word.text)
    seen = re.fullmatch(r"[(\[]?(\d+)\.(\d+)[)\],;:]?", text)
    if digits is None or seen is None or seen.group(1) + seen.group(2) != digits.group(1) or conf < trusted:
        return word
    return word.model_copy(
        update={"text": text, "confidence": min(word.confidence or 0.0, doubt), "second": word.text}
    )


def _crop(image: Image.Image, word: Word, rotation: int) -> Image.Image | None:
    w, h = image.size
    b = word.bbox
    box = (
        max(0, int(b.x0 * w) - _PAD),
        max(0, int(b.y0 * h) - _PAD),
        min(w, int(b.x1 * w) + _PAD),
        min(h, int(b.y1 * h) + _PAD),
    )
    if box[2] - box[0] < _MIN_SIDE or box[3] - box[1] < _MIN_SIDE:
        return None
    crop = image.crop(box)
    # stored boxes are on the page as stored; read the word upright
    return crop.rotate(-rotation, expand=True) if rotation else crop


def reread_page(page: Page, image: Image.Image, reader: SecondReader, settings: Settings) -> Page:
    if page.source is not WordSource.OCR:
        return page
    words = list(page.words)
    changed = False
    for i, word in enumerate(words):
        if word.confidence is None:
            continue
        if word.confidence >= settings.second_read_below:
            if _undotted(word) and (crop := _crop(image, word, page.rotation)) is not None:
                doubted = dispute(
                    word,
                    reader.read(crop),
                    trusted=settings.second_trusted,
                    doubt=settings.second_read_below / 2,
                )
                if doubted is not word:
                    words[i], changed = doubted, True
            continue
        if not any(ch.isalnum() for ch in word.text):
            # brackets and strokes are a checkbox's parts (read by geometry, not words):
            # a recogniser turns "]" into "1"
            continue
        crop = _crop(image, word, page.rotation)
        if crop is None:
            continue
        kept = combine(word, reader.read(crop), trusted=settings.second_trusted, lifts=settings.second_lifts)
        if kept is not word:
            words[i], changed = kept, True
    return page.model_copy(update={"words": tuple(words)}) if changed else page


def _square(image: Image.Image, dpi: tuple[float, float] | None) -> Image.Image:
    """The page at square pixels (a normal-mode fax has half as many rows as columns per
    inch), its resolution judged as the OCR judged it (:func:`normalise.effective_dpi`);
    boxes are relative, so they fit it unchanged."""
    dx, dy = effective_dpi(image.size, dpi)
    if abs(dx - dy) > 1:
        return image.resize((image.width, round(image.height * dx / dy)), Image.Resampling.BICUBIC)
    return image


def _image_loader(data: bytes, kind: Kind, settings: Settings) -> Callable[[int], Image.Image]:
    """A page's image by number, for a TIFF, PNG or JPEG."""

    def load(n: int) -> Image.Image:
        got = images.frame_loader(data, kind, n - 1, settings)()
        return _square(got.image.convert("L"), got.dpi)

    return load


def second_reading(
    document: Document, path: Path, settings: Settings, *, reader: SecondReader | None = None
) -> Document:
    """The document with the words tesseract doubts read again by a second engine, one
    page image in memory at a time.  A PDF's OCR pages are rendered as the OCR rendered
    them."""
    if not settings.second_reader:
        return document
    doubted = [
        p
        for p in document.pages
        if p.source is WordSource.OCR
        and any(
            w.confidence is not None and (w.confidence < settings.second_read_below or _undotted(w))
            for w in p.words
        )
    ]
    if not doubted:
        return document
    readers = [reader] if reader is not None else default_readers(max(1, settings.workers))
    if not readers:
        return document
    data = path.read_bytes()
    kind = sniff(data[:8192])
    opened = None
    if kind in (Kind.TIFF, Kind.PNG, Kind.JPEG):
        load = _image_loader(data, kind, settings)
    elif kind is Kind.PDF:
        opened = pdf.open_pdf(data, settings)
        scan = opened

        def load(n: int) -> Image.Image:
            return pdf.page_loader(scan, n - 1, settings, native=True)().image

    else:
        return document

    free: queue.Queue[SecondReader] = queue.Queue()
    for r in readers:
        free.put(r)

    def one(page: Page) -> Page:
        # a reader per thread at a time; one page image in memory per thread
        held = free.get()
        try:
            return reread_page(page, load(page.number), held, settings)
        finally:
            free.put(held)

    try:
        with ThreadPoolExecutor(max_workers=len(readers), thread_name_prefix="second-reader") as pool:
            done = {p.number: kept for p, kept in zip(doubted, pool.map(one, doubted), strict=True)}
    finally:
        if opened is not None:
            opened.close()
    pages = tuple(done.get(page.number, page) for page in document.pages)
    return document.model_copy(update={"pages": pages})
