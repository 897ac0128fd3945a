"""Read a document: bytes in, typed pages out.

The recipe: check the path, sniff the type by magic bytes, validate (size,
page count, page dimensions, encryption) before decoding anything, then take
each page's words from its text layer when it has a good one and from OCR
otherwise.  Only :class:`common.errors.IntakeError` subclasses leave this module.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from common.errors import (
    CorruptFile,
    EmptyFile,
    FileMissing,
    HtmlNotDocument,
    InputError,
    IntakeError,
    NotUtf8Text,
    TooManyPages,
    UnknownFileType,
)
from common.models import Document, Notice, Page, SourceType
from common.settings import Settings
from reading import images, pdf
from reading.ocr import Loader, OcrEngine, default_engine, ocr_pages
from reading.sniff import Kind, describe_other, sniff
from reading.text import text_pages

log = logging.getLogger(__name__)


def _read_bytes(path: Path, settings: Settings) -> bytes:
    try:
        if not path.is_file():
            raise FileMissing(f"{path} does not exist or is not a file.")
        size = path.stat().st_size
        if size == 0:
            raise EmptyFile(f"{path.name} is empty (0 bytes).")
        if size > settings.max_file_bytes:
            raise InputError(
                f"{path.name} is {size / 1e6:.0f} MB; the limit is {settings.max_file_bytes / 1e6:.0f} MB.",
                hint="Split the document, or raise INTAKE_MAX_FILE_BYTES if it is genuine.",
            )
        return path.read_bytes()
    except PermissionError as err:
        raise FileMissing(f"{path} cannot be read: permission denied.") from err
    except OSError as err:
        raise FileMissing(f"{path} cannot be read: {err.strerror or err}.") from err


def _decode_text(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise NotUtf8Text(f"{name} is UTF-16 text, not UTF-8.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise NotUtf8Text(
            f"{name} is not valid UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); "
            "it may be Latin-1 or Windows-1252."
        ) from err


def read_document(path: Path, settings: Settings, *, engine: OcrEngine | None = None) -> Document:
    """Read ``path`` into a :class:`Document`; see :mod:`reading.normalise` for box coordinates."""
    path = Path(path)
    data = _read_bytes(path, settings)
    sha = hashlib.sha256(data).hexdigest()
    kind = sniff(data[:8192])
    engine = engine or default_engine(settings)
    try:
        return _read(data, sha, kind, path.name, settings, engine)
    except IntakeError:
        raise
    except MemoryError as err:
        raise CorruptFile(f"{path.name} needs more memory to decode than any fax should.") from err
    except (OSError, ValueError, SyntaxError, EOFError, KeyError, IndexError) as err:
        # Libraries raise these on damaged files; the user gets a message, not a traceback.
        log.debug("decoding failed", exc_info=True)  # no file name: it may carry a patient's name
        raise CorruptFile(f"{path.name} could not be decoded: {type(err).__name__}: {err}.") from err


def _read(data: bytes, sha: str, kind: Kind, name: str, settings: Settings, engine: OcrEngine) -> Document:
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
        pages = text_pages(_decode_text(data, name))
        _check_count(len(pages), settings)
        return Document(sha256=sha, source_type="text", pages=tuple(pages))
    if kind is Kind.PDF:
        return _read_pdf(data, sha, settings, engine)
    return _read_image(data, sha, kind, settings, engine)


def _check_count(count: int, settings: Settings) -> None:
    if count > settings.max_pages:
        raise TooManyPages(
            f"the document has {count} pages; the limit is {settings.max_pages} (INTAKE_MAX_PAGES)."
        )


def _read_pdf(data: bytes, sha: str, settings: Settings, engine: OcrEngine) -> Document:
    opened = pdf.open_pdf(data, settings)
    try:
        count = len(opened.sizes)
        layered, notices = pdf.text_layers(data, count)
        jobs: list[tuple[int, Loader]] = [
            (n, pdf.page_loader(opened, n - 1, settings, native=True))
            for n in range(1, count + 1)
            if n not in layered
        ]
        ocred = ocr_pages(jobs, engine=engine, settings=settings)
    finally:
        opened.close()
    # An OCR'd PDF page has no original image resolution, only the one we rendered at.
    pages = [layered.get(n) or ocred[n].model_copy(update={"dpi": None}) for n in range(1, count + 1)]
    return _document(sha, "pdf", pages, notices)


def _read_image(data: bytes, sha: str, kind: Kind, settings: Settings, engine: OcrEngine) -> Document:
    count = images.count_and_check(data, kind, settings)
    jobs: list[tuple[int, Loader]] = [
        (i + 1, images.frame_loader(data, kind, i, settings)) for i in range(count)
    ]
    ocred = ocr_pages(jobs, engine=engine, settings=settings)
    source: SourceType = "tiff" if kind is Kind.TIFF else "png" if kind is Kind.PNG else "jpeg"
    return _document(sha, source, [ocred[n] for n in range(1, count + 1)], [])


def _document(sha: str, source: SourceType, pages: list[Page], notices: list[Notice]) -> Document:
    # Page-level text-layer notices travel with their page so reports show them once.
    by_page: dict[int, list[Notice]] = {}
    doc_notices: list[Notice] = []
    for notice in notices:
        (by_page.setdefault(notice.page, []) if notice.page else doc_notices).append(notice)
    out = [
        p.model_copy(update={"warnings": (*by_page[p.number], *p.warnings)}) if p.number in by_page else p
        for p in pages
    ]
    if all(p.blank for p in out):
        doc_notices.append(Notice(code="all_pages_blank", message="every page of the document is blank."))
    return Document(sha256=sha, source_type=source, pages=tuple(out), warnings=tuple(doc_notices))
