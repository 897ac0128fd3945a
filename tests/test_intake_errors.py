"""Bad inputs: each kind gets a small generated file, a stable error code and a
message that says what was wrong.  None of them may leak a library exception."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from intake_support import Docs, docs, pdf_without_pages, png_header, tiff_header

from common import errors
from common.settings import Settings
from reading.reader import read_document

__all__ = ["docs"]  # the session fixture, re-exported for pytest

REPO = Path(__file__).resolve().parent.parent


def _bytes(data: bytes) -> Callable[[Path, Docs], bytes]:
    return lambda _tmp, _docs: data


def _truncated(name: str, share: float) -> Callable[[Path, Docs], bytes]:
    def make(_tmp: Path, docs: Docs) -> bytes:
        data = docs.get(name).read_bytes()
        return data[: int(len(data) * share)]

    return make


def _encrypted(tmp: Path, _docs: Docs) -> bytes:
    from reportlab.pdfgen import canvas

    out = tmp / "locked.pdf"
    c = canvas.Canvas(str(out), encrypt="secret", invariant=1)
    c.drawString(72, 700, "Prior authorization request (synthetic)")
    c.showPage()
    c.save()
    return out.read_bytes()


def _giant_page(tmp: Path, _docs: Docs) -> bytes:
    from reportlab.pdfgen import canvas

    out = tmp / "giant.pdf"
    c = canvas.Canvas(str(out), pagesize=(200_000, 200_000), invariant=1)
    c.drawString(72, 700, "a page 2,700 inches wide")
    c.showPage()
    c.save()
    return out.read_bytes()


def _pdf_garbage_body(_tmp: Path, _docs: Docs) -> bytes:
    return b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"


HTML_ERROR_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Session expired</title></head>"
    b"<body><h1>Your session has expired</h1><p>Please log in again.</p></body></html>\n"
)

# (name of the trap, file name, how to make its bytes, settings overrides, error class, words in the message)
CASES: list[tuple[str, str, Callable[[Path, Docs], bytes], dict[str, int], type[errors.IntakeError], str]] = [
    ("empty file", "fax.pdf", _bytes(b""), {}, errors.EmptyFile, "empty"),
    (
        "unknown binary",
        "fax.tif",
        _bytes(b"\x00\x01\x02\x03binary\xfe" * 40),
        {},
        errors.UnknownFileType,
        "not a PDF",
    ),
    ("zip named .pdf", "fax.pdf", _bytes(b"PK\x03\x04" + b"\x00" * 200), {}, errors.UnknownFileType, "ZIP"),
    ("html saved as .pdf", "fax.pdf", _bytes(HTML_ERROR_PAGE), {}, errors.HtmlNotDocument, "HTML"),
    (
        "latin-1 text",
        "note.txt",
        _bytes("Patient: Zoë Fictive, née 1950\n".encode("latin-1")),
        {},
        errors.NotUtf8Text,
        "not valid UTF-8",
    ),
    (
        "utf-16 text",
        "note.txt",
        _bytes("Patient: Fictive\n".encode("utf-16")),
        {},
        errors.NotUtf8Text,
        "UTF-16",
    ),
    ("truncated pdf", "fax.pdf", _truncated("note.pdf", 0.6), {}, errors.CorruptFile, "truncated"),
    ("pdf with garbage body", "fax.pdf", _pdf_garbage_body, {}, errors.CorruptFile, "cannot be read"),
    (
        "truncated tiff (IFD at end lost)",
        "fax.tif",
        _truncated("fine-g4.tif", 0.6),
        {},
        errors.CorruptFile,
        "cannot be read",
    ),
    (
        "truncated tiff (strip cut short)",
        "fax.tif",
        _bytes(tiff_header(1728, 2200)),
        {},
        errors.CorruptFile,
        "could not be decoded",
    ),
    ("encrypted pdf", "fax.pdf", _encrypted, {}, errors.EncryptedPdf, "password"),
    ("pdf with no pages", "fax.pdf", _bytes(pdf_without_pages()), {}, errors.NoPages, "no pages"),
    (
        "tiff header claims 10 gigapixels",
        "fax.tif",
        _bytes(tiff_header(100_000, 100_000)),
        {},
        errors.DecompressionBomb,
        "larger than any fax",
    ),
    (
        "tiff header over our pixel cap",
        "fax.tif",
        _bytes(tiff_header(10_000, 10_000)),
        {},
        errors.DecompressionBomb,
        "100 megapixels",
    ),
    (
        "png header claims 10 gigapixels",
        "fax.png",
        _bytes(png_header(100_000, 100_000)),
        {},
        errors.DecompressionBomb,
        "larger than any fax",
    ),
    ("pdf with a giant MediaBox", "fax.pdf", _giant_page, {}, errors.DecompressionBomb, "inches"),
    (
        "too many pdf pages",
        "fax.pdf",
        lambda _t, d: d.get("ten-pages.pdf").read_bytes(),
        {"max_pages": 3},
        errors.TooManyPages,
        "limit is 3",
    ),
    (
        "too many tiff pages",
        "fax.tif",
        lambda _t, d: d.get("three-page.tif").read_bytes(),
        {"max_pages": 2},
        errors.TooManyPages,
        "more than 2 pages",
    ),
    (
        "too many text pages",
        "note.txt",
        _bytes(b"page\f" * 5),
        {"max_pages": 2},
        errors.TooManyPages,
        "limit is 2",
    ),
]


@pytest.mark.parametrize(
    ("make", "filename", "overrides", "error", "words"),
    [pytest.param(c[2], c[1], c[3], c[4], c[5], id=c[0]) for c in CASES],
)
def test_bad_input_raises_its_own_error(
    tmp_path: Path,
    docs: Docs,
    make: Callable[[Path, Docs], bytes],
    filename: str,
    overrides: dict[str, int],
    error: type[errors.IntakeError],
    words: str,
) -> None:
    path = tmp_path / filename
    path.write_bytes(make(tmp_path, docs))
    with pytest.raises(errors.IntakeError) as caught:
        read_document(path, Settings.model_validate(overrides))
    assert type(caught.value) is error, caught.value
    assert words in caught.value.message
    assert caught.value.hint  # says what to do


def test_missing_file_is_file_missing(tmp_path: Path) -> None:
    with pytest.raises(errors.FileMissing, match="does not exist"):
        read_document(tmp_path / "nowhere.pdf", Settings())


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(errors.FileMissing):
        read_document(tmp_path, Settings())


def test_file_over_the_byte_cap(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 2048)
    with pytest.raises(errors.InputError, match="limit is"):
        read_document(path, Settings(max_file_bytes=1024))


def test_owner_password_only_pdf_is_read(tmp_path: Path) -> None:
    """Permissions-only encryption (no password to open) is common and harmless."""
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    out = tmp_path / "restricted.pdf"
    enc = pdfencrypt.StandardEncryption("", ownerPassword="owner-only", canPrint=1)
    c = canvas.Canvas(str(out), encrypt=enc, invariant=1)
    c.drawString(72, 700, "Multiple myeloma, relapsed after four prior lines")
    c.showPage()
    c.save()
    doc = read_document(out, Settings())
    assert "myeloma," in [w.text for w in doc.pages[0].words]


@pytest.mark.parametrize(
    ("filename", "content", "code"),
    [
        pytest.param("empty.pdf", b"", "E102_EMPTY_FILE", id="empty"),
        pytest.param("portal.pdf", HTML_ERROR_PAGE, "E104_HTML_PAGE", id="html-as-pdf"),
        pytest.param("fax.tif", tiff_header(100_000, 100_000), "E108_TOO_LARGE_IMAGE", id="bomb"),
    ],
)
def test_cli_reports_code_without_traceback(tmp_path: Path, filename: str, content: bytes, code: str) -> None:
    path = tmp_path / filename
    path.write_bytes(content)
    intake = Path(sys.executable).parent / "intake"
    done = subprocess.run(
        [str(intake), "ocr", str(path)], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert done.returncode != 0
    assert code in done.stderr
    assert "what to do:" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
