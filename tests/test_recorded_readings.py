"""Recorded readings (reading/recorded.py): the corpus's OCR kept on disk, used only while current."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest

from common.models import BBox, Document, Page, Word, WordSource
from common.settings import Settings
from evaluation.corpus import RECORDINGS, load_corpus
from reading.recorded import Recordings, fingerprint

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"


def _document(sha: str = "ab" * 32) -> Document:
    word = Word(text="VRd", bbox=BBox(x0=0.1, y0=0.1, x1=0.2, y1=0.12), confidence=0.9, source=WordSource.OCR)
    return Document(
        sha256=sha,
        source_type="tiff",
        pages=(Page(number=1, width=1728, height=2200, words=(word,), source=WordSource.OCR),),
    )


def test_a_recording_reads_back_as_the_same_document(tmp_path: Path) -> None:
    settings = Settings()
    recordings = Recordings(tmp_path)
    recordings.put(_document(), settings)
    assert recordings.get("ab" * 32, settings) == _document()


def test_a_recording_made_under_other_settings_is_never_used(tmp_path: Path) -> None:
    recordings = Recordings(tmp_path)
    recordings.put(_document(), Settings(ocr_dpi=300))
    assert recordings.get("ab" * 32, Settings(ocr_dpi=200)) is None
    assert fingerprint(Settings(ocr_dpi=300)) != fingerprint(Settings(ocr_dpi=200))


def test_the_same_reading_writes_the_same_bytes(tmp_path: Path) -> None:
    first = Recordings(tmp_path / "a").put(_document(), Settings()).read_bytes()
    second = Recordings(tmp_path / "b").put(_document(), Settings()).read_bytes()
    assert first == second


def test_a_damaged_recording_is_a_cache_miss(tmp_path: Path) -> None:
    (tmp_path / f"{'ab' * 32}.json.gz").write_bytes(b"not gzip")
    assert Recordings(tmp_path).get("ab" * 32, Settings()) is None


@pytest.mark.ocr
def test_corpus_recordings_are_current() -> None:
    """The reading stage changed and the corpus was not recorded again: run
    `nice -n 10 intake eval fixtures/corpus --ocr record` (15-20 minutes on two shared cores) and commit
    the recordings."""
    recordings = Recordings(CORPUS / RECORDINGS)
    assert not recordings.stale(Settings()), (
        "stale OCR recordings: run `intake eval fixtures/corpus --ocr record`"
    )
    image_docs = [
        d for d in load_corpus(CORPUS) if d.path.suffix in {".tif", ".tiff"} or d.rendering == "scan.pdf"
    ]
    recorded = {p.name.removesuffix(".json.gz") for p in (CORPUS / RECORDINGS).glob("*.json.gz")}
    missing = [
        d.path.name for d in image_docs if hashlib.sha256(d.path.read_bytes()).hexdigest() not in recorded
    ]
    assert not missing, f"not recorded: {missing}"


def test_a_plain_text_export_is_never_recorded_so_its_layout_is_outside_the_fingerprint() -> None:
    """text.py lays out EHR exports on every run; were a text document recorded, a change to
    that layout could replay an old reading, so the fingerprint's exclusion rests on this."""
    from reading.recorded import _NOT_IN_IMAGE_READINGS, needs_ocr
    from reading.text import text_pages

    pages = tuple(text_pages("Test\t05/08/2026\tUnits\nSPEP M-protein\t0.4\tg/dL\n"))
    document = Document(sha256="cd" * 32, source_type="text", pages=pages)
    assert not needs_ocr(document)
    assert {"text.py", "second.py", "recorded.py"} == _NOT_IN_IMAGE_READINGS


def test_a_recording_holds_tesseract_alone_so_the_second_reader_is_outside_the_fingerprint(
    tmp_path: Path,
) -> None:
    """The second reader runs after the reading, on a recorded reading as on a live one;
    a recording that held its words would replay an old second reading (and an older
    checkout could not load it)."""
    word = Word(
        text="VRd",
        bbox=BBox(x0=0.1, y0=0.1, x1=0.2, y1=0.2),
        confidence=0.3,
        source=WordSource.OCR,
        second="VRA",
    )
    page = Page(number=1, width=100, height=100, source=WordSource.OCR, words=(word,))
    document = Document(sha256="ef" * 32, source_type="tiff", pages=(page,))
    written = Recordings(tmp_path).put(document, Settings())
    body = json.loads(gzip.decompress(written.read_bytes()))
    assert "second" not in body["document"]["pages"][0]["words"][0]
    for path in sorted((CORPUS / RECORDINGS).glob("*.json.gz"))[:20]:
        pages = json.loads(gzip.decompress(path.read_bytes()))["document"]["pages"]
        assert all("second" not in w for p in pages for w in p["words"]), path.name
