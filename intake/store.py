"""Keeps every original exactly as received, before anything reads it.

Fax-intake staff need nothing lost: the bytes are written (atomically, named by
their sha256) before sniffing or OCR can fail, and a failed document keeps its
error beside the original so it can be looked at and re-run.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from common.errors import IntakeError
from common.models import Report


class OriginalStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "originals").mkdir(parents=True, exist_ok=True)
        (root / "reports").mkdir(parents=True, exist_ok=True)
        (root / "errors").mkdir(parents=True, exist_ok=True)

    def keep(self, data: bytes, filename: str) -> tuple[str, Path]:
        """Store the bytes; returns (sha256, path).  The same fax twice is stored once."""
        digest = hashlib.sha256(data).hexdigest()
        # The suffix is kept only as a hint for people browsing the folder; type is sniffed.
        suffix = "".join(Path(filename).suffixes[-1:])[:10] if filename else ""
        target = self.root / "originals" / f"{digest}{suffix}"
        if not target.exists():
            fd, tmp = tempfile.mkstemp(dir=target.parent)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, target)
        return digest, target

    def save_report(self, digest: str, report: Report) -> Path:
        path = self.root / "reports" / f"{digest}.json"
        path.write_text(report.model_dump_json(indent=2))
        return path

    def load_report(self, digest: str) -> Report | None:
        path = self.root / "reports" / f"{digest}.json"
        return Report.model_validate_json(path.read_text()) if path.exists() else None

    def save_error(self, digest: str, err: IntakeError) -> Path:
        path = self.root / "errors" / f"{digest}.json"
        path.write_text(json.dumps(err.as_dict(), indent=2))
        return path

    def load_error(self, digest: str) -> dict[str, str] | None:
        path = self.root / "errors" / f"{digest}.json"
        return json.loads(path.read_text()) if path.exists() else None
