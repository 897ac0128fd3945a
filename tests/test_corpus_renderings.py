"""The committed corpus is what the manifest says, and regenerates byte for byte.

Each rendering carries the traps it claims: fax TIFFs in G3/G4 at fax
resolutions with a header on every page, blank and upside-down pages where
flagged, text PDFs with a text layer, scanned PDFs without one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageSequence

from fixtures.generate import generate

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "corpus"
MANIFEST: dict[str, Any] = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
DOCS = MANIFEST["documents"]
FAXES = [d for d in DOCS if d["rendering"].endswith(".tif")]


def _ink(page: Image.Image) -> np.ndarray:
    return np.asarray(page.convert("L")) < 128


@pytest.mark.parametrize("doc", FAXES, ids=lambda d: d["file"])
def test_fax_tiff_is_what_the_manifest_says(doc: dict[str, Any]) -> None:
    kind, res = doc["rendering"].removesuffix(".tif").split("-")
    x, y = (int(v) for v in res.split("x"))
    with Image.open(CORPUS / doc["file"]) as tif:
        pages = [p.copy() for p in ImageSequence.Iterator(tif)]
        assert tif.info["compression"] == {"g3": "group3", "g4": "group4"}[kind]
        assert tuple(round(v) for v in tif.info["dpi"]) == (x, y)
    assert len(pages) == doc["pages"]
    for page in pages:
        assert page.mode == "1"
    ink_top = [_ink(p)[: p.height // 12].mean() for p in pages]
    # The fax header line sits at the top of every upright page (the turned page has it at the bottom).
    assert sum(v > 0.002 for v in ink_top) >= len(pages) - 1
    if "blank_page" in doc["rendering_traps"]:
        body = [_ink(p)[p.height // 10 :].mean() for p in pages]
        assert min(body) < 0.01  # only speckle below the header
    if "upside_down_page" in doc["rendering_traps"]:
        last = _ink(pages[-1])
        assert last[-last.shape[0] // 12 :].mean() > 0.002  # its header is now at the bottom
    truth = json.loads((CORPUS / doc["truth"]).read_text(encoding="utf-8"))
    assert truth["pages"][doc["rendering"]]["pages"] == len(pages)


@pytest.mark.parametrize("doc", [d for d in DOCS if d["rendering"].endswith(".pdf")], ids=lambda d: d["file"])
def test_pdf_text_layer_only_when_born_digital(doc: dict[str, Any]) -> None:
    import pdfplumber

    with pdfplumber.open(CORPUS / doc["file"]) as pdf:
        text = "".join(page.extract_text() or "" for page in pdf.pages)
        assert len(pdf.pages) == doc["pages"]
    if doc["rendering"] == "text.pdf":
        truth = json.loads((CORPUS / doc["truth"]).read_text(encoding="utf-8"))
        assert truth["policy"]["brand"] in text
        assert "|" not in text  # tables are drawn with real columns
    else:
        assert text.strip() == ""


@pytest.mark.parametrize("doc", [d for d in DOCS if d["rendering"].endswith(".txt")], ids=lambda d: d["file"])
def test_ehr_export_is_utf8_text(doc: dict[str, Any]) -> None:
    text = (CORPUS / doc["file"]).read_bytes().decode("utf-8")
    truth = json.loads((CORPUS / doc["truth"]).read_text(encoding="utf-8"))
    assert truth["policy"]["brand"] in text and "\f" not in text


@pytest.mark.slow
def test_regenerates_byte_for_byte(tmp_path: Path) -> None:
    """The whole corpus again into a temporary folder (about 90 s): every hash and truth file equal."""
    generate(tmp_path)
    for doc in DOCS:
        digest = hashlib.sha256((tmp_path / doc["file"]).read_bytes()).hexdigest()
        assert digest == doc["sha256"], doc["file"]
    for truth in CORPUS.glob("*.json"):
        assert (tmp_path / truth.name).read_bytes() == truth.read_bytes(), truth.name
