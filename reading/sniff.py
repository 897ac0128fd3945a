"""What kind of file is this?  Decided by its bytes, never by its name.

Portals save their error pages under the document's name (``fax_0412.pdf`` that
is really ``<html>...``), fax servers name TIFFs ``.fax`` or nothing at all, and
EHR exports arrive as ``.dat``.  Only the leading bytes are trusted.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Kind(StrEnum):
    PDF = "pdf"
    TIFF = "tiff"
    PNG = "png"
    JPEG = "jpeg"
    TEXT = "text"
    HTML = "html"
    UNKNOWN = "unknown"


# Other formats people send, named so the error message can say what arrived.
_OTHER_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"PK\x03\x04", "a ZIP archive (or a Word/Excel .docx/.xlsx file)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office file (.doc/.xls)"),
    (b"{\\rtf", "an RTF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"RIFF", "a RIFF file (WebP image or audio)"),
    (b"\x00\x00\x00\x0cjP  ", "a JPEG 2000 image"),
    (b"II+\x00", "a BigTIFF image"),
    (b"MM\x00+", "a BigTIFF image"),
)

# Markup that starts with a tag and names itself HTML somewhere in the first 4 KB
# (portal error pages start with <!DOCTYPE>, <html>, <?xml ...>, <meta>, <script> ...).
_HTML_MARKERS = re.compile(rb"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<meta\s|<title>", re.I)

# The PDF spec lets a header sit anywhere in the first 1024 bytes (some fax
# servers prepend junk); a header further in is not a PDF.
_PDF_WINDOW = 1024


def sniff(head: bytes) -> Kind:
    """Classify by the first few KB of the file (at least 2 KB for text detection)."""
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return Kind.TIFF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Kind.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return Kind.JPEG
    if b"%PDF-" in head[:_PDF_WINDOW]:
        return Kind.PDF
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    window = body[:4096].lstrip()
    if window.startswith(b"<") and _HTML_MARKERS.search(window):
        return Kind.HTML
    # UTF-16 text is full of NUL bytes; its BOM says it is text (in the wrong encoding).
    if looks_like_text(head) or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Kind.TEXT
    return Kind.UNKNOWN


def describe_other(head: bytes) -> str | None:
    """A name for a known non-document format, for the error message."""
    for magic, name in _OTHER_MAGIC:
        if head.startswith(magic):
            return name
    return None


def looks_like_text(head: bytes) -> bool:
    """Text in some encoding: no NUL bytes and few control characters.

    Whether it is *UTF-8* text is decided later, so that Latin-1 text gets the
    "export as UTF-8" message rather than "unknown file type".
    """
    if not head or b"\x00" in head:
        return False
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls / len(head) < 0.01
