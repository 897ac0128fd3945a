"""The checks the reader makes before it reads a word, run at upload time.

So that a file that can never be read (empty, a web page, encrypted, truncated,
a decompression bomb, over the page cap) is answered with its code at once and
kept as a failed case, instead of becoming a job.  Image frames are decoded
(cheap for a fax); nothing is rendered or OCR'd.

It calls the reader's own checks (``reading.reader``'s helpers, ``reading.pdf``,
``reading.images``), never copies of them.  It lives here rather than in
``reading/`` because every change to a file of that package makes the corpus's
recorded OCR stale (``reading.recorded`` fingerprints its sources).
"""

from __future__ import annotations

import logging
from pathlib import Path

from common.errors import CorruptFile, HtmlNotDocument, IntakeError, UnknownFileType
from common.settings import Settings
from reading import images, pdf
from reading.reader import _check_count, _decode_text, _read_bytes
from reading.sniff import Kind, describe_other, sniff
from reading.text import text_pages

log = logging.getLogger(__name__)


def check_document(path: Path, settings: Settings) -> int:
    """Raise the reader's error for a file it can never read; else return its page count."""
    data = _read_bytes(path, settings)
    kind = sniff(data[:8192])
    name = path.name
    try:
        return _check(data, kind, name, settings)
    except IntakeError:
        raise
    except MemoryError as err:
        raise CorruptFile(f"{name} needs more memory to decode than any fax should.") from err
    except (OSError, ValueError, SyntaxError, EOFError, KeyError, IndexError) as err:
        log.debug("decoding failed", exc_info=True)
        raise CorruptFile(f"{name} could not be decoded: {type(err).__name__}: {err}.") from err


def _check(data: bytes, kind: Kind, name: str, settings: Settings) -> int:
    if kind is Kind.HTML:
        raise HtmlNotDocument(f"{name} is an HTML web page, not a document.")
    if kind is Kind.UNKNOWN:
        what = describe_other(data[:64])
        raise UnknownFileType(
            f"{name} is {what}, not a fax document."
            if what
            else f"{name} is not a PDF, TIFF, PNG, JPEG or text file."
        )
    if kind is Kind.TEXT:
        count = len(text_pages(_decode_text(data, name)))
        _check_count(count, settings)
        return count
    if kind is Kind.PDF:
        opened = pdf.open_pdf(data, settings)
        opened.close()
        return len(opened.sizes)
    count = images.count_and_check(data, kind, settings)
    for index in range(count):
        try:
            images.frame_loader(data, kind, index, settings)()
        except (OSError, ValueError, SyntaxError, EOFError) as err:
            raise CorruptFile(f"page {index + 1} could not be decoded: {err}.") from err
    return count
