"""The watched folder, the way fax servers hand files over.

A file dropped in INBOX is taken once its size and time have stopped changing
(the fax server may still be writing it): it is moved to ``INBOX/processing/``
and submitted like an upload.  When its job ends it moves to ``processed/``
with ``NAME.report.json`` beside it, or to ``failed/`` with ``NAME.error.json``.
Nothing is deleted.  After a restart the files in ``processing/`` are submitted
again; their bytes already have a case, so they are waited for, not redone.
Output names the case id, never the file: fax servers name files after patients.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from intake.service import Service
from intake.store.blobs import write_private

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    case_id: str
    status: str  # done or failed
    determination: str | None
    error_code: str | None
    moved_to: Path


def _unique(folder: Path, name: str, case_id: str) -> Path:
    target = folder / name
    if not target.exists():
        return target
    p = Path(name)
    return folder / f"{p.stem}.{case_id[:8]}{p.suffix}"


class FolderWatcher:
    def __init__(self, inbox: Path, service: Service, *, settle_s: float = 2.0) -> None:
        self.inbox, self.service, self.settle_s = inbox, service, settle_s
        self.processing = inbox / "processing"
        self.processed = inbox / "processed"
        self.failed = inbox / "failed"
        for folder in (inbox, self.processing, self.processed, self.failed):
            folder.mkdir(parents=True, exist_ok=True)
        self._seen: dict[Path, tuple[int, int, float]] = {}  # size, mtime_ns, since when unchanged
        self._inflight: dict[Path, str] = {}  # file in processing/ -> case id

    # ------------------------------------------------------------------ taking files

    def _candidates(self) -> list[Path]:
        return sorted(p for p in self.inbox.iterdir() if p.is_file() and not p.name.startswith("."))

    def stable_files(self, now: float) -> list[Path]:
        """Files whose size and modification time have not changed for ``settle_s``."""
        ready: list[Path] = []
        current = set(self._candidates())
        for path in current:
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            seen = self._seen.get(path)
            if seen is None or seen[:2] != (st.st_size, st.st_mtime_ns):
                self._seen[path] = (st.st_size, st.st_mtime_ns, now)
                if self.settle_s > 0:
                    continue
            if now - self._seen[path][2] >= self.settle_s:
                ready.append(path)
        for gone in set(self._seen) - current:
            del self._seen[gone]
        return sorted(ready)

    def take(self, path: Path) -> None:
        target = _unique(self.processing, path.name, format(time.time_ns(), "x"))
        try:
            os.replace(path, target)
        except FileNotFoundError:
            return  # taken away by someone else meanwhile
        self._seen.pop(path, None)
        self._submit(target)

    def _submit(self, target: Path) -> None:
        try:
            accepted = self.service.accept_file(target)
        except Exception as err:  # store down: stays in processing/, submitted on the next pass
            log.warning("watched file not submitted yet: %s", type(err).__name__)
            return
        self._inflight[target] = accepted.case.id
        log.info("watched file taken as case %s", accepted.case.id)

    def resume(self) -> None:
        """Submit what a previous run left in processing/ (its case is found by its bytes)."""
        for path in sorted(self.processing.iterdir()):
            if path.is_file() and path not in self._inflight:
                self._submit(path)

    # ------------------------------------------------------------------ finishing files

    def finish_ended(self) -> Iterator[Outcome]:
        for path, case_id in list(self._inflight.items()):
            case = self.service.store.get(case_id)
            if case is None or case.status not in ("done", "failed"):
                continue
            if case.status == "done":
                target = _unique(self.processed, path.name, case.id)
                report = self.service.report(case.id)
                beside = {"id": case.id, "report": report}
                write_private(
                    target.with_name(target.name + ".report.json"), json.dumps(beside, indent=2).encode()
                )
            else:
                target = _unique(self.failed, path.name, case.id)
                err = case.error
                error = {"code": err.code, "message": err.message, "hint": err.hint} if err else None
                beside = {"id": case.id, "error": error}
                write_private(
                    target.with_name(target.name + ".error.json"), json.dumps(beside, indent=2).encode()
                )
            # The report is written before the file moves: a crash between leaves the file
            # in processing/, to be matched with its case again, never a file without its report.
            os.replace(path, target)
            del self._inflight[path]
            yield Outcome(
                case_id=case.id,
                status=case.status,
                determination=case.determination,
                error_code=case.error.code if case.error and case.status == "failed" else None,
                moved_to=target,
            )

    # ------------------------------------------------------------------ the loop

    def pass_once(self) -> list[Outcome]:
        self.resume()
        for path in self.stable_files(time.monotonic()):
            self.take(path)
        return list(self.finish_ended())

    def busy(self) -> bool:
        return bool(self._inflight) or any(self.processing.iterdir()) or bool(self._candidates())

    def run(self, *, once: bool, poll_s: float = 1.0, report: bool = True) -> int:
        """Watch until stopped; ``once``: take what is there, wait for it to end, stop."""
        handled = 0
        while True:
            for outcome in self.pass_once():
                handled += 1
                if report:
                    print(
                        f"{outcome.case_id}\t{outcome.status}\t{outcome.determination or outcome.error_code}",
                        flush=True,
                    )
            if once and not self.busy():
                return handled
            time.sleep(poll_s)
