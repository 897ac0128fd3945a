"""The watched folder: a file is taken only when it has stopped growing, moved to
processed/ or failed/ with its report or error beside it, and never deleted."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from service_inline import open_service, run_jobs

from intake.watch import FolderWatcher

DATA = Path(__file__).parent / "data"
HTML = b"<!DOCTYPE html><html><body>Session expired</body></html>"


def test_every_file_ends_beside_its_report_or_error(tmp_path: Path) -> None:
    service = open_service(tmp_path)
    inbox = tmp_path / "inbox"
    watcher = FolderWatcher(inbox, service, settle_s=0)
    shutil.copy(DATA / "letter-met.txt", inbox / "Testpatient_Alpha.txt")
    (inbox / "b.pdf").write_bytes(HTML)

    early = watcher.pass_once()  # the bad file ends at once; the good one waits for its job
    assert [o.error_code for o in early] == ["E104_HTML_PAGE"]
    assert sorted(p.name for p in (inbox / "processing").iterdir()) == ["Testpatient_Alpha.txt"]
    assert not any(p.is_file() for p in inbox.iterdir())  # taken from the inbox, not deleted
    run_jobs(service)
    late = watcher.pass_once()
    assert [o.status for o in late] == ["done"]

    done = inbox / "processed" / "Testpatient_Alpha.txt"
    assert done.read_bytes() == (DATA / "letter-met.txt").read_bytes()
    beside = json.loads((inbox / "processed" / "Testpatient_Alpha.txt.report.json").read_text())
    assert beside["id"] == late[0].case_id and beside["report"]["determination"]
    error = json.loads((inbox / "failed" / "b.pdf.error.json").read_text())
    assert error["error"]["code"] == "E104_HTML_PAGE"
    assert (inbox / "failed" / "b.pdf").read_bytes() == HTML
    assert list((inbox / "processing").iterdir()) == []
    service.close()


def test_a_file_still_growing_is_left_alone(tmp_path: Path) -> None:
    service = open_service(tmp_path)
    inbox = tmp_path / "inbox"
    watcher = FolderWatcher(inbox, service, settle_s=5)
    growing = inbox / "incoming.tif"
    growing.write_bytes(b"II*\x00")
    assert watcher.stable_files(now=100.0) == []
    growing.write_bytes(b"II*\x00" + b"\x00" * 100)  # the fax server is still writing
    os.utime(growing, ns=(1, 1))
    assert watcher.stable_files(now=104.0) == []
    assert watcher.stable_files(now=108.0) == []  # changed at 104: not yet 5 s still
    assert watcher.stable_files(now=109.5) == [growing]
    service.close()


def test_a_restart_picks_up_what_was_in_flight(tmp_path: Path) -> None:
    service = open_service(tmp_path)
    inbox = tmp_path / "inbox"
    first = FolderWatcher(inbox, service, settle_s=0)
    shutil.copy(DATA / "letter-met.txt", inbox / "a.txt")
    assert first.pass_once() == []  # submitted; the watcher "dies" here
    run_jobs(service)

    again = FolderWatcher(inbox, service, settle_s=0)  # a new run finds processing/a.txt
    outcomes = again.pass_once()
    assert [o.status for o in outcomes] == ["done"]
    assert (inbox / "processed" / "a.txt.report.json").is_file()
    assert service.store.counts()["done"] == 1  # the same case, not a second job
    service.close()


def test_the_same_name_twice_keeps_both_files(tmp_path: Path) -> None:
    service = open_service(tmp_path)
    inbox = tmp_path / "inbox"
    watcher = FolderWatcher(inbox, service, settle_s=0)
    for body in (HTML, HTML + b" "):
        (inbox / "fax.pdf").write_bytes(body)
        watcher.pass_once()
    second = service.store.by_sha(hashlib.sha256(HTML + b" ").hexdigest())
    assert second is not None
    kept = sorted(p.name for p in (inbox / "failed").iterdir() if not p.name.endswith(".json"))
    assert kept == sorted(["fax.pdf", f"fax.{second.id[:8]}.pdf"])
    service.close()
