"""Traps in telling file types apart, trusting text layers, fax resolutions,
plain-text layout, and mapping boxes back through turns."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_ocr_engine import GOOD_ROWS, FakeEngine

from common.models import BBox, Page, Word, WordSource
from common.settings import Settings
from reading.normalise import Affine, _turn_cw, box_to_original, effective_dpi, upright_bbox
from reading.quality import score_tokens
from reading.reader import read_document
from reading.sniff import Kind, sniff
from reading.text import page_text, page_text_with_confidence, text_pages


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        pytest.param(b"%PDF-1.7\n%\xe2\xe3", Kind.PDF, id="pdf"),
        pytest.param(b"\r\n\x00junk from the fax server%PDF-1.4", Kind.PDF, id="pdf-header-after-junk"),
        pytest.param(b"II*\x00\x08\x00\x00\x00", Kind.TIFF, id="tiff-little-endian"),
        pytest.param(b"MM\x00*\x00\x00\x00\x08", Kind.TIFF, id="tiff-big-endian"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00", Kind.PNG, id="png"),
        pytest.param(b"\xff\xd8\xff\xe0\x00\x10JFIF", Kind.JPEG, id="jpeg"),
        pytest.param(b"\xef\xbb\xbf  <!DOCTYPE html><html>", Kind.HTML, id="html-with-bom"),
        pytest.param(b"<!-- portal -->\n<html lang=en>", Kind.HTML, id="html-after-comment"),
        pytest.param(b"\n\n<script>var x;</script><title>Error 404</title>", Kind.HTML, id="html-fragment"),
        pytest.param(b"<b>Dx</b> multiple myeloma, relapsed\n", Kind.TEXT, id="text-starting-with-a-tag"),
        pytest.param(b"Progress note\nPatient: Fictive\n", Kind.TEXT, id="ehr-text"),
        pytest.param("Zoë née".encode("latin-1"), Kind.TEXT, id="latin-1-is-text-to-sniff"),
        pytest.param(b"PK\x03\x04\x14\x00", Kind.UNKNOWN, id="zip"),
        pytest.param(b"GIF89a\x01\x00", Kind.UNKNOWN, id="gif"),
        pytest.param(b"\x00\x00\x01\x00binary", Kind.UNKNOWN, id="binary"),
    ],
)
def test_sniff_by_magic_bytes(head: bytes, kind: Kind) -> None:
    assert sniff(head) is kind


@pytest.mark.parametrize(
    ("tokens", "readable"),
    [
        pytest.param(
            [
                "Patient",
                "has",
                "relapsed",
                "multiple",
                "myeloma",
                "after",
                "4",
                "prior",
                "lines",
                "(VRd,",
                "DPd).",
            ],
            True,
            id="clinical-prose",
        ),
        pytest.param(["Date:", "03/14/2026", "Hgb", "9.8", "g/dL", "Plt", "112", "K/uL"], True, id="labs"),
        pytest.param(
            ["xkcdfgh", "qwrtzp", "mnbvcx", "lkjhgf", "~|\\", "##@!", "zzxv"],
            False,
            id="invisible-ocr-garbage",
        ),
        pytest.param(["\ue000\ue001\ue002", "\ue003\ue004", "\ufffd\ufffd"], False, id="private-use-glyphs"),
        pytest.param([], False, id="nothing"),
        pytest.param(
            ["Tlie", "pat1ent", "lias", "rnyel0ma", "wi1h", "re1apse", "aftcr", "f0ur", "1ines"],
            False,
            id="digits-inside-words",
        ),
        pytest.param(
            ("Multiple myeloma relapsed refractory daratumumab pomalidomide dexamethasone " * 6).split(),
            False,
            id="prose-length-word-salad-without-function-words",
        ),
        pytest.param(
            ("Hgb 9.8 g/dL WBC 4.5 K/uL Plt 112 Creatinine 1.1 mg/dL " * 6).split(), True, id="long-lab-table"
        ),
        pytest.param(
            ["Dx", "C90.00", "HCPCS", "Q2055", "CD38+", "IgG-kappa", "10mg", "x4"], True, id="codes-and-doses"
        ),
        pytest.param(
            ("The patient received four prior lines of therapy and is refractory to an IMiD. " * 5).split(),
            True,
            id="long-prose",
        ),
    ],
)
def test_text_layer_scoring(tokens: list[str], readable: bool) -> None:
    assert score_tokens(tokens).readable is readable


@pytest.mark.parametrize(
    ("size", "tag", "dpi"),
    [
        pytest.param((1728, 2200), (204.0, 196.0), (204.0, 196.0), id="fax-fine"),
        pytest.param((1728, 1078), (204.0, 98.0), (204.0, 98.0), id="fax-normal"),
        pytest.param(
            (1728, 1078), None, (1728 / 8.5, 1728 / 8.5 * 98 / 204), id="fax-normal-untagged-by-shape"
        ),
        pytest.param((2550, 3300), (72.0, 72.0), (300.0, 300.0), id="bogus-72dpi-tag-on-a-300dpi-scan"),
        pytest.param((2550, 3300), None, (300.0, 300.0), id="untagged-scan"),
    ],
)
def test_effective_dpi(
    size: tuple[int, int], tag: tuple[float, float] | None, dpi: tuple[float, float]
) -> None:
    assert effective_dpi(size, tag) == pytest.approx(dpi)


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_box_maps_back_through_a_turn(rotation: int) -> None:
    """A box found on the turned image maps back to the stored page, and forward again."""
    w, h = 400, 600
    stored = BBox(x0=0.1, y0=0.2, x1=0.3, y1=0.25)
    turn = _turn_cw(rotation, w, h)
    corners = np.array([[stored.x0 * w, stored.y0 * h], [stored.x1 * w, stored.y1 * h]])
    turned = turn.apply(corners)
    (left, top), (right, bottom) = turned.min(axis=0), turned.max(axis=0)
    back = box_to_original(turn, left, top, right, bottom, size=(w, h))
    assert [back.x0, back.y0, back.x1, back.y1] == pytest.approx([0.1, 0.2, 0.3, 0.25])
    tw, th = (h, w) if rotation in (90, 270) else (w, h)
    up = upright_bbox(stored, rotation)
    assert [up.x0 * tw, up.y0 * th, up.x1 * tw, up.y1 * th] == pytest.approx(
        [*turned.min(axis=0), *turned.max(axis=0)]
    )
    assert Affine.identity().then(turn).inverse().then(turn).m == pytest.approx(np.eye(3))


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
@pytest.mark.parametrize("skew", [0.0, 0.7, -3.0])
def test_the_closed_form_inverse_undoes_square_turn_and_deskew(rotation: int, skew: float) -> None:
    """Every word's box goes back through the inverse, so it is computed in closed form, not
    by LAPACK (whose threads cost 5 ms a call on a loaded machine); it must equal the general one."""
    import cv2

    from reading.normalise import _scale

    forward = _scale(1.0, 2.0).then(_turn_cw(rotation, 1700, 2200))
    forward = forward.then(Affine.from_2x3(cv2.getRotationMatrix2D((850.0, 1100.0), skew, 1.0)))
    assert forward.inverse().m == pytest.approx(np.linalg.inv(forward.m))
    assert forward.inverse() is forward.inverse()  # once per transform, not once per word


def test_plain_text_pages_break_on_form_feed_and_every_60_lines() -> None:
    text = "Patient: Fictive\nHistory\f" + "\n".join(f"line {i}" for i in range(130))
    pages = text_pages(text)
    assert [len({w.line for w in p.words}) for p in pages] == [2, 60, 60, 10]
    assert all(p.source is WordSource.PLAIN_TEXT for p in pages)
    first = pages[0].words[1]
    assert first.text == "Fictive" and first.line == 0
    # Column 9 of an 80-column virtual page, first line.
    assert first.bbox.x0 == pytest.approx((36 + 9 * (540 / 80)) / 612)
    assert page_text(pages[0]) == "Patient: Fictive\nHistory"


def test_plain_text_reader_keeps_crlf_and_bom_out_of_words(tmp_path: Path) -> None:
    path = tmp_path / "export.dat"
    path.write_bytes("\ufeffMRN 000-TEST\r\nDx: multiple myeloma\r\n".encode())
    doc = read_document(path, Settings())
    assert doc.source_type == "text"
    assert page_text(doc.pages[0]) == "MRN 000-TEST\nDx: multiple myeloma"


def test_confidence_listing_format() -> None:
    box = BBox(x0=0, y0=0, x1=0.1, y1=0.1)
    page = Page(
        number=1,
        width=100,
        height=100,
        source=WordSource.OCR,
        words=(
            Word(text="VRd", bbox=box, confidence=0.934, source=WordSource.OCR, line=0),
            Word(text="x4", bbox=box, confidence=0.5, source=WordSource.OCR, line=0),
            Word(text="Dara", bbox=box, confidence=1.0, source=WordSource.OCR, line=1),
        ),
    )
    assert page_text_with_confidence(page) == "VRd[0.93] x4[0.50]\nDara[1.00]"


# ------------------------------------------------------------------ mixed PDFs


def _scan_image() -> Image.Image:
    img = Image.new("L", (1700, 2200), 255)
    arr = np.array(img)
    for row in range(20):  # rows of "glyphs": enough ink not to be blank
        for col in range(30):
            y, x = 200 + row * 80, 150 + col * 45
            arr[y : y + 30, x : x + 20] = 0
    return Image.fromarray(arr)


def _mixed_pdf(out: Path) -> Path:
    """Page 1 born digital; page 2 a scan with an invisible garbage OCR layer;
    page 3 a scan with a RECEIVED stamp printed on it."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    _scan_image().save(buf, format="PNG")
    c = canvas.Canvas(str(out), pagesize=(612, 792), invariant=1)
    c.setFont("Helvetica", 11)
    c.drawString(72, 700, "Cover letter: request for idecabtagene vicleucel (synthetic).")
    c.showPage()
    buf.seek(0)
    c.drawImage(ImageReader(buf), 0, 0, width=612, height=792)
    t = c.beginText(72, 700)
    t.setTextRenderMode(3)  # invisible, like an old OCR layer
    t.textLine("xkcdfgh qwrtzp ~|\\ mnbvcx ##@! lkjhgf zzxv wqpt")
    c.drawText(t)
    c.showPage()
    buf.seek(0)
    c.drawImage(ImageReader(buf), 0, 0, width=612, height=792)
    c.drawString(400, 760, "RECEIVED 03/14/2026")
    c.showPage()
    c.save()
    return out


def test_mixed_pdf_is_decided_page_by_page(tmp_path: Path) -> None:
    engine = FakeEngine(rows=GOOD_ROWS)
    doc = read_document(_mixed_pdf(tmp_path / "mixed.pdf"), Settings(workers=2), engine=engine)
    assert [p.source for p in doc.pages] == [WordSource.TEXT_LAYER, WordSource.OCR, WordSource.OCR]
    assert "idecabtagene" in page_text(doc.pages[0])
    # Two pages read whole (ink the fake's words do not cover is read again in strips).
    assert sum(1 for _, h in engine.sizes if h >= 1500) == 2
    ignored = [(n.page, n.message) for p in doc.pages for n in p.warnings if n.code == "text_layer_ignored"]
    assert [p for p, _ in ignored] == [2, 3]
    assert "not readable" in ignored[0][1] and "stamp" in ignored[1][1]


# ------------------------------------------------------------------ single images


@pytest.mark.parametrize(
    ("fmt", "source_type"),
    [pytest.param("PNG", "png", id="png"), pytest.param("JPEG", "jpeg", id="jpeg")],
)
def test_png_and_jpeg_pages(tmp_path: Path, fmt: str, source_type: str) -> None:
    path = tmp_path / "page.bin"  # the name says nothing; the bytes decide
    _scan_image().convert("RGB").save(path, format=fmt, dpi=(200, 200))
    doc = read_document(path, Settings(), engine=FakeEngine(rows=GOOD_ROWS))
    assert doc.source_type == source_type
    page = doc.pages[0]
    assert (page.width, page.height) == (1700, 2200)
    assert page.dpi == pytest.approx((200, 200), abs=0.1)  # PNG stores pixels per metre


def test_jpeg_exif_orientation_is_applied_before_reading(tmp_path: Path) -> None:
    """A phone photo stored sideways with EXIF Orientation=6 is the upright page in any viewer."""
    path = tmp_path / "photo.jpg"
    stored = _scan_image().rotate(90, expand=True)  # stored turned; EXIF says turn it back
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.convert("RGB").save(path, format="JPEG", exif=exif)
    doc = read_document(path, Settings(), engine=FakeEngine(rows=GOOD_ROWS))
    assert (doc.pages[0].width, doc.pages[0].height) == (1700, 2200)
