"""Watched-folder intake: every dropped file is kept and gets a report or a coded error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from common.settings import Settings
from intake.store import OriginalStore
from intake.watch import drain

DATA = Path(__file__).parent / "data"


def test_every_file_is_kept_good_and_bad(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(DATA / "letter-met.txt", inbox / "a.txt")
    (inbox / "b.pdf").write_bytes(b"<!DOCTYPE html><html><body>Session expired</body></html>")
    store = OriginalStore(tmp_path / "store")

    outcomes = {o.name: o for o in drain(inbox, store, Settings(workers=1), settle_s=0)}

    assert set(outcomes) == {"a.txt", "b.pdf"}
    assert outcomes["a.txt"].determination is not None
    assert outcomes["b.pdf"].error_code == "E104_HTML_PAGE"
    assert list(inbox.iterdir()) == []  # taken from the inbox ...
    assert len(list((tmp_path / "store" / "originals").iterdir())) == 2  # ... and kept
    saved = json.loads((tmp_path / "store" / "errors" / f"{outcomes['b.pdf'].sha256}.json").read_text())
    assert saved["code"] == "E104_HTML_PAGE"
