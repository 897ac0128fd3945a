"""Recorded readings: a document's pages as the reading stage produced them, kept on disk.

OCRmyPDF keeps its engine's output for its test suite so most tests need no engine.
We keep whole :class:`Document` readings of the corpus's image documents, so the
extraction tests and the evaluation run on real tesseract output in seconds.

A recording is used only while it is *current*: its fingerprint (the source of this
package, the tesseract version, and the settings that change what OCR reads) equals
the running one.  Any change to the reading stage makes every recording stale, and a
stale recording is never used: the document is read again, and ``intake eval
--ocr record`` writes fresh ones.  So a recorded run gives the figures a live run
would, or it falls back to a live run.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
from functools import lru_cache
from importlib import resources
from pathlib import Path

from common.models import Document
from common.settings import Settings
from reading.tesseract import tesseract_cmd

FORMAT = 1


@lru_cache(maxsize=1)
def _tesseract_version() -> str:
    try:
        done = subprocess.run([tesseract_cmd(), "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "unavailable"
    return (done.stdout or done.stderr).splitlines()[0].strip() if (done.stdout or done.stderr) else "unknown"


def _engine_version(settings: Settings) -> str:
    if settings.ocr_engine == "binary":
        return _tesseract_version()
    return _cached_engine_version(settings.ocr_engine)


@lru_cache(maxsize=4)
def _cached_engine_version(name: str) -> str:
    from reading.ocr import engine_version

    return engine_version(Settings(ocr_engine=name))


# Modules no recorded reading runs through.  Only documents that need OCR are recorded
# (:func:`needs_ocr`); a plain-text export is laid out by ``text.py`` on every run and
# never recorded, so a change to its layout must not make the faxes' readings stale.
# ``second.py`` (the second reader) runs after the reading, on recorded and live readings
# alike: a recording holds tesseract's words only.  ``recorded.py`` keeps readings and
# makes none (a change to what it stores changes ``FORMAT``).
_NOT_IN_IMAGE_READINGS = frozenset({"text.py", "second.py", "recorded.py"})


@lru_cache(maxsize=1)
def _source_digest() -> str:
    digest = hashlib.sha256()
    package = resources.files("reading")
    names = (p.name for p in package.iterdir() if p.name.endswith(".py"))
    for name in sorted(n for n in names if n not in _NOT_IN_IMAGE_READINGS):
        digest.update(name.encode())
        digest.update(package.joinpath(name).read_bytes())
    return digest.hexdigest()


def fingerprint(settings: Settings) -> str:
    """What a reading depends on besides the file's bytes."""
    parts = {
        "format": FORMAT,
        "source": _source_digest(),
        "tesseract": _engine_version(settings),
        "dpi": settings.ocr_dpi,
        "language": settings.ocr_language,
        "engine": settings.ocr_engine,
        "workers": 1,  # readings do not depend on parallelism; fixed so the key is stable
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


class Recordings:
    """Readings kept in a folder, one gzip'd JSON file per document, named by its sha256."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, sha256: str) -> Path:
        return self.folder / f"{sha256}.json.gz"

    def get(self, sha256: str, settings: Settings) -> Document | None:
        path = self._path(sha256)
        if not path.is_file():
            return None
        try:
            data = json.loads(gzip.decompress(path.read_bytes()))
        except (OSError, ValueError):
            return None  # a damaged recording is only a cache miss
        if data.get("fingerprint") != fingerprint(settings):
            return None
        return Document.model_validate(data["document"])

    def put(self, document: Document, settings: Settings) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        body = {
            "fingerprint": fingerprint(settings),
            # tesseract's words alone: the second reader's field is not a reading's
            "document": document.model_dump(
                mode="json", exclude={"pages": {"__all__": {"words": {"__all__": {"second"}}}}}
            ),
        }
        path = self._path(document.sha256)
        # mtime 0: the same reading gives the same bytes, so git sees no change
        path.write_bytes(gzip.compress(json.dumps(body, separators=(",", ":")).encode(), mtime=0))
        return path

    def stale(self, settings: Settings) -> list[Path]:
        """Recordings whose fingerprint is not the running one."""
        current = fingerprint(settings)
        out = []
        for path in sorted(self.folder.glob("*.json.gz")):
            try:
                data = json.loads(gzip.decompress(path.read_bytes()))
            except (OSError, ValueError):
                out.append(path)
                continue
            if data.get("fingerprint") != current:
                out.append(path)
        return out


def needs_ocr(document: Document) -> bool:
    return any(page.source == "ocr" for page in document.pages)
