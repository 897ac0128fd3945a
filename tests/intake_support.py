"""Generated inputs for the intake tests: a synthetic clinical note rendered as a
text PDF, fax TIFFs at both fax resolutions, a scanned PDF, and turned pages.

Everything is made once per session into a temp folder and each document is
read once (``read_cached``), so the CER checks and the box checks share OCR work.
The patient is fictional.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from common.models import Document
from common.settings import Settings

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

CLINICAL_NOTE = """\
HEMATOLOGY ONCOLOGY CONSULTATION - PRIOR AUTHORIZATION SUPPORT
Patient: Quentin Sampleton (fictional)    MRN: 000-TEST-417
Date of service: 03/14/2026    Referring: Dr. Imaginary Example
History of present illness: 67 year old man with IgG kappa multiple
myeloma diagnosed in 2019 with anemia and lytic lesions of the spine.
He received induction with bortezomib, lenalidomide and dexamethasone
(VRd) for six cycles from April to September 2019, followed by high dose
melphalan and autologous stem cell transplant in November 2019.
Lenalidomide maintenance continued until progression in June 2021.
Second line: daratumumab, pomalidomide and dexamethasone (DPd) from
July 2021 to March 2023, stopped for biochemical progression.
Third line: carfilzomib and dexamethasone from April 2023 to May 2024,
discontinued for progression and fatigue. He is refractory to an
immunomodulatory agent, a proteasome inhibitor and an anti-CD38
monoclonal antibody (triple-class refractory disease).
Fourth line: elotuzumab, pomalidomide and dexamethasone from June 2024
to January 2026 with progressive disease on the latest restaging.
Current status: relapsed and refractory multiple myeloma with rising
serum M-protein of 2.4 g/dL and new bone marrow plasmacytosis of 40%.
ECOG performance status 1. Creatinine clearance 58 mL/min.
No active infection, no central nervous system involvement, and no prior
BCMA-directed therapy. Left ventricular ejection fraction is 55%.
Plan: idecabtagene vicleucel (Abecma) single infusion after
lymphodepleting chemotherapy with fludarabine and cyclophosphamide.
The treating center is certified and tocilizumab is available on site.
Two doses of tocilizumab are reserved for cytokine release syndrome.
The patient will stay within two hours of the center for four weeks.
Labs on 02/27/2026: hemoglobin 9.8 g/dL, platelets 112 K/uL,
absolute neutrophil count 1.6 K/uL, calcium 9.4 mg/dL, albumin 3.6.
Imaging: PET-CT shows new lytic lesions in the pelvis and left femur.
Assessment: four prior lines of therapy including an IMiD, a PI and an
anti-CD38 antibody; eligible for BCMA CAR-T cell therapy per label.
Requesting authorization for one infusion of idecabtagene vicleucel
(HCPCS Q2055) with the associated apheresis and manufacturing.
Signed electronically by Dr. Imaginary Example, MD, on 03/14/2026.
"""


FAX_HEADER = "03/14/2026 09:12 FROM: 555-0100 ONCOLOGY"


def source_lines() -> list[str]:
    return CLINICAL_NOTE.strip("\n").split("\n")


def source_text() -> str:
    return " ".join(CLINICAL_NOTE.split())


class Docs:
    """The session's generated documents, built lazily by name and kept."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._made: dict[str, Path] = {}

    def get(self, name: str) -> Path:
        if name not in self._made:
            self._made[name] = _MAKERS[name](self.root / name, self)
        return self._made[name]


def _text_pdf(out: Path, _: Docs) -> Path:
    from fixtures.render import text_pdf

    return text_pdf(source_lines(), out)


def _fax(dpi: tuple[int, int], compression: str, **degrade: object) -> Callable[[Path, Docs], Path]:
    def make(out: Path, docs: Docs) -> Path:
        from fixtures.render import fax_pages, save_fax_tiff

        pages = fax_pages(docs.get("note.pdf"), dpi=dpi, seed=7, **degrade)  # type: ignore[arg-type]
        return save_fax_tiff(pages, out, dpi=dpi, compression=compression)  # type: ignore[arg-type]

    return make


def _scan(out: Path, docs: Docs) -> Path:
    from fixtures.render import fax_pages, save_scanned_pdf

    pages = fax_pages(docs.get("note.pdf"), dpi=(200, 200), seed=11, skew_deg=1.5, speckle=0.001)
    return save_scanned_pdf(pages, out)


def _ten_pages(out: Path, _: Docs) -> Path:
    from fixtures.render import text_pdf

    return text_pdf("\f".join([CLINICAL_NOTE] * 10), out)


def _three_small_pages(out: Path, _: Docs) -> Path:
    from PIL import Image

    from fixtures.render import save_fax_tiff

    return save_fax_tiff([Image.new("L", (200, 100), 255)] * 3, out, dpi=(204, 98))


def _shaded_photo(out: Path, docs: Docs) -> Path:
    """A phone-like JPEG: low contrast, a shadow darkening one side of the page."""
    import numpy as np
    from PIL import Image

    from fixtures.render import rasterise_pdf

    page = np.asarray(rasterise_pdf(docs.get("note.pdf"), (200, 200))[0]).astype(np.float64)
    h, w = page.shape
    yy, xx = np.mgrid[0:h, 0:w]
    shade = 0.35 + 0.65 * (xx / w) * (0.6 + 0.4 * yy / h)
    photo = (60 + (page * shade).clip(0, 255) * 0.7).astype(np.uint8)
    Image.fromarray(photo).save(out, format="JPEG", quality=70, dpi=(200, 200))
    return out


_FAX_NOISE: dict[str, object] = {"skew_deg": 1.2, "speckle": 0.002}

_MAKERS: dict[str, Callable[[Path, Docs], Path]] = {
    "note.pdf": _text_pdf,
    "fine-g4.tif": _fax((204, 196), "group4", **_FAX_NOISE),
    "normal-g3.tif": _fax((204, 98), "group3", **_FAX_NOISE),
    "normal-g3-2d.tif": _fax((204, 98), "group3_2d", **_FAX_NOISE),
    "normal-g4.tif": _fax((204, 98), "group4", **_FAX_NOISE),
    "fine-g3.tif": _fax((204, 196), "group3", **_FAX_NOISE),
    "fine-lzw.tif": _fax((204, 196), "lzw"),
    "fine-packbits.tif": _fax((204, 196), "packbits"),
    "fine-raw.tif": _fax((204, 196), "none"),
    "upright-fine.tif": _fax((204, 196), "group4", skew_deg=0.8),
    "upside-down-fine.tif": _fax((204, 196), "group4", skew_deg=0.8, rotate=180),
    "sideways-fine.tif": _fax((204, 196), "group4", skew_deg=0.8, rotate=90),
    "scan.pdf": _scan,
    "shaded-photo.jpg": _shaded_photo,
    "normal-skew9-header.tif": _fax((204, 98), "group3", skew_deg=9.0, speckle=0.003, header=FAX_HEADER),
    "fine-skew6-noisy-header.tif": _fax((204, 196), "group4", skew_deg=-6.0, speckle=0.01, header=FAX_HEADER),
    "ten-pages.pdf": _ten_pages,
    "three-page.tif": _three_small_pages,
}


@cache
def _docs(root: str) -> Docs:
    return Docs(Path(root))


_READ: dict[tuple[str, str], Document] = {}


def read_cached(path: Path, settings: Settings | None = None) -> Document:
    """Read each generated document once per session (OCR is the expensive part)."""
    from reading.reader import read_document

    settings = settings or Settings(workers=2)
    key = (str(path), settings.model_dump_json())
    if key not in _READ:
        _READ[key] = read_document(path, settings)
    return _READ[key]


@pytest.fixture(scope="session")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Docs:
    return _docs(str(tmp_path_factory.mktemp("intake-docs")))


# ------------------------------------------------------------------ hand-made bad files


def pdf_without_pages() -> bytes:
    """A well-formed PDF (correct xref) whose page tree is empty."""
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[]/Count 0>>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<</Size {len(objects) + 1}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def tiff_header(width: int, height: int) -> bytes:
    """A bilevel TIFF whose header claims width x height; one strip of 16 bytes of data."""
    import struct

    entries = [
        (256, 4, 1, width),  # ImageWidth, LONG
        (257, 4, 1, height),  # ImageLength
        (258, 3, 1, 1),  # BitsPerSample
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 0),  # Photometric: white is zero
        (273, 4, 1, 8 + 2 + 12 * 8 + 4),  # StripOffsets: right after the IFD
        (278, 4, 1, height),  # RowsPerStrip
        (279, 4, 1, 16),  # StripByteCounts
    ]
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        packed = struct.pack("<HHI", tag, typ, count)
        packed += struct.pack("<HH", value, 0) if typ == 3 else struct.pack("<I", value)
        ifd += packed
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\x00" * 16


def png_header(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height (valid CRCs, almost no pixel data)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00"))
        + chunk(b"IEND", b"")
    )
