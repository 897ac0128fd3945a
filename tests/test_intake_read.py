"""Reading real generated documents with real tesseract: accuracy (CER against the
source text), fax resolutions, turned pages, and boxes that land on the words."""

from __future__ import annotations

import subprocess

import pytest
from intake_support import FAX_HEADER, Docs, docs, read_cached, source_text

from common.models import BBox, Document, WordSource
from evaluation.bench import char_error_rate, document_text
from reading.normalise import upright_bbox

__all__ = ["docs"]

pytestmark = pytest.mark.ocr


def _cer(doc: Document) -> float:
    return char_error_rate(document_text(doc), source_text())


def _bare_tesseract_cer(path: str) -> float:
    out = subprocess.run(["tesseract", path, "stdout"], capture_output=True, text=True, check=True).stdout
    return char_error_rate(out, source_text())


def test_text_pdf_is_read_from_its_layer_exactly(docs: Docs) -> None:
    doc = read_cached(docs.get("note.pdf"))
    assert doc.source_type == "pdf"
    assert [p.source for p in doc.pages] == [WordSource.TEXT_LAYER]
    assert all(w.confidence is None for w in doc.pages[0].words)
    assert _cer(doc) == 0.0


def test_fine_fax_204x196_cer_within_3_percent(docs: Docs) -> None:
    doc = read_cached(docs.get("fine-g4.tif"))
    assert doc.source_type == "tiff"
    assert doc.pages[0].dpi == (204.0, 196.0)
    assert _cer(doc) <= 0.03


def test_normal_fax_204x98_cer_within_5_percent_and_beats_bare_tesseract(docs: Docs) -> None:
    """Regression: fax normal resolution (pixels twice as tall as wide) loses lines unless squared."""
    path = docs.get("normal-g3.tif")
    ours = _cer(read_cached(path))
    bare = _bare_tesseract_cer(str(path))
    print(f"CER 204x98 G3: ours {ours:.4f}, bare tesseract {bare:.4f}")
    assert ours <= 0.05
    assert ours <= bare


def test_shadowed_low_contrast_photo_is_flattened_before_reading(docs: Docs) -> None:
    """Regression: a shadow across a photo became a black region and the page read as nothing."""
    doc = read_cached(docs.get("shaded-photo.jpg"))
    assert doc.source_type == "jpeg"
    assert _cer(doc) <= 0.03


@pytest.mark.parametrize(
    ("name", "rotation"),
    [
        pytest.param("upside-down-fine.tif", 180, id="upside-down"),
        pytest.param("sideways-fine.tif", 270, id="sideways-clockwise"),
    ],
)
def test_turned_page_reads_as_well_as_upright(docs: Docs, name: str, rotation: int) -> None:
    upright = read_cached(docs.get("upright-fine.tif"))
    turned = read_cached(docs.get(name))
    page = turned.pages[0]
    assert page.rotation == rotation
    assert "page_rotated" in [n.code for n in page.warnings]
    assert _cer(turned) <= _cer(upright) + 0.01


def _find(doc: Document, text: str) -> BBox:
    boxes = [w.bbox for p in doc.pages for w in p.words if w.text == text]
    assert boxes, f"{text!r} not read"
    return boxes[0]


def _close(a: BBox, b: BBox, tol: float) -> bool:
    return all(
        abs(x - y) <= tol for x, y in zip((a.x0, a.y0, a.x1, a.y1), (b.x0, b.y0, b.x1, b.y1), strict=True)
    )


@pytest.mark.parametrize("word", ["HEMATOLOGY", "vicleucel", "ECOG", "authorization"])
def test_ocr_boxes_land_where_the_text_layer_says(docs: Docs, word: str) -> None:
    """The 204x98 fax was squashed, skewed 1.2 degrees and squared again: boxes still match."""
    truth = _find(read_cached(docs.get("note.pdf")), word)
    for name in ("fine-g4.tif", "normal-g3.tif"):
        got = _find(read_cached(docs.get(name)), word)
        assert _close(got, truth, 0.03), (name, got, truth)


@pytest.mark.parametrize("name", ["upside-down-fine.tif", "sideways-fine.tif"])
def test_boxes_on_a_turned_page_are_on_the_stored_image(docs: Docs, name: str) -> None:
    """Boxes are relative to the page as stored; turning them by Page.rotation gives the upright box."""
    upright = _find(read_cached(docs.get("upright-fine.tif")), "vicleucel")
    turned_doc = read_cached(docs.get(name))
    stored = _find(turned_doc, "vicleucel")
    assert not _close(stored, upright, 0.05)  # really on the turned image
    assert _close(upright_bbox(stored, turned_doc.pages[0].rotation), upright, 0.02)


def test_ocr_words_carry_confidence_and_lines_in_reading_order(docs: Docs) -> None:
    page = read_cached(docs.get("fine-g4.tif")).pages[0]
    assert all(w.source is WordSource.OCR and w.confidence is not None for w in page.words)
    assert page.mean_confidence is not None and page.mean_confidence > 0.85
    lines = [w.line for w in page.words]
    assert lines == sorted(lines)
    first = [w.text for w in page.words if w.line == lines[0]]
    assert first[:3] == ["HEMATOLOGY", "ONCOLOGY", "CONSULTATION"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("fine-g3.tif", 0.03),
        ("normal-g4.tif", 0.05),
        ("normal-g3-2d.tif", 0.05),
        ("fine-lzw.tif", 0.03),
        ("fine-packbits.tif", 0.03),
        ("fine-raw.tif", 0.03),
        ("scan.pdf", 0.03),
    ],
)
def test_cer_matrix(docs: Docs, name: str, target: float) -> None:
    doc = read_cached(docs.get(name))
    cer = _cer(doc)
    print(f"CER {name}: {cer:.4f}")
    assert cer <= target


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "target"),
    [
        pytest.param("normal-skew9-header.tif", 0.05, id="204x98-skewed-9-degrees"),
        pytest.param("fine-skew6-noisy-header.tif", 0.03, id="204x196-skewed-6-degrees-1pct-speckle"),
    ],
)
def test_crooked_noisy_faxes_with_a_header_line(docs: Docs, name: str, target: float) -> None:
    path = docs.get(name)
    reference = f"{FAX_HEADER} P.1/1 {source_text()}"
    ours = char_error_rate(document_text(read_cached(path)), reference)
    out = subprocess.run(
        ["tesseract", str(path), "stdout"], capture_output=True, text=True, check=True
    ).stdout
    bare = char_error_rate(out, reference)
    print(f"CER {name}: ours {ours:.4f}, bare tesseract {bare:.4f}")
    assert ours <= target
    assert ours < bare
