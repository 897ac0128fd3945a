"""fixtures.render makes the same bytes every time, and files that look like faxes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PIL import Image

from fixtures.render import degrade, fax_pages, rasterise_pdf, save_fax_tiff, save_scanned_pdf, text_pdf

LINES = [
    "Progress note (synthetic) for a fictional patient.",
    "A long line that has to wrap because it is far wider than a letter page can hold in Courier ten point.",
    "|Regimen|Start|End|Line",
    "|VRd|2019-04|2019-09|1",
]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _all_kinds(root: Path) -> list[Path]:
    pdf = text_pdf(LINES, root / "note.pdf", title="Consult")
    pages = fax_pages(
        pdf, dpi=(204, 98), seed=4, skew_deg=1.0, speckle=0.003, header="03/14/2026 FROM: 555-0100"
    )
    return [
        pdf,
        save_fax_tiff(pages, root / "g3.tif", dpi=(204, 98), compression="group3"),
        save_fax_tiff(pages, root / "g3-2d.tif", dpi=(204, 98), compression="group3_2d"),
        save_fax_tiff(pages, root / "g4.tif", dpi=(204, 98), compression="group4"),
        save_scanned_pdf(rasterise_pdf(pdf, (150, 150)), root / "scan.pdf"),
    ]


def test_rendering_is_byte_for_byte_repeatable(tmp_path: Path) -> None:
    first = [_sha(p) for p in _all_kinds(tmp_path / "a")]
    second = [_sha(p) for p in _all_kinds(tmp_path / "b")]
    assert first == second


@pytest.mark.parametrize(
    ("compression", "tiff_code", "t4_options"),
    [("group3", 3, None), ("group3_2d", 3, 1), ("group4", 4, None)],
)
def test_fax_tiff_tags(tmp_path: Path, compression: str, tiff_code: int, t4_options: int | None) -> None:
    page = Image.new("L", (1728, 1078), 255)
    out = save_fax_tiff([page, page], tmp_path / "f.tif", dpi=(204, 98), compression=compression)  # type: ignore[arg-type]
    from PIL import TiffImagePlugin

    with Image.open(out) as img:
        assert isinstance(img, TiffImagePlugin.TiffImageFile)
        assert img.n_frames == 2
        assert img.mode == "1"
        assert img.tag_v2[259] == tiff_code  # Compression
        assert img.tag_v2.get(292) == t4_options  # T4Options: bit 0 = 2-D coding
        assert img.info["dpi"] == (204.0, 98.0)


def test_fax_normal_pixels_are_twice_as_tall(tmp_path: Path) -> None:
    pdf = text_pdf(LINES, tmp_path / "note.pdf")
    fine, normal = rasterise_pdf(pdf, (204, 196))[0], rasterise_pdf(pdf, (204, 98))[0]
    assert fine.width == normal.width == 1734  # 8.5 in at 204 dpi
    assert normal.height == pytest.approx(fine.height / 2, abs=1)


def test_degrade_turns_the_page_clockwise_and_swaps_dpi() -> None:
    page = Image.new("L", (100, 200), 255)
    page.info["dpi"] = (204, 98)
    turned = degrade(page, seed=1, rotate=90)
    assert turned.size == (200, 100)
    assert turned.info["dpi"] == (98, 204)


def test_scanned_pdf_has_no_text_layer(tmp_path: Path) -> None:
    import pdfplumber

    pdf = text_pdf(LINES, tmp_path / "note.pdf")
    scan = save_scanned_pdf(rasterise_pdf(pdf, (100, 100)), tmp_path / "scan.pdf")
    with pdfplumber.open(scan) as doc:
        assert doc.pages[0].extract_words() == []
        assert len(doc.pages[0].images) == 1
        assert (doc.pages[0].width, doc.pages[0].height) == pytest.approx((612, 792), abs=1)
