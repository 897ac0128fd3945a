"""Watched-folder intake: every file dropped in a folder is kept, read and reported.

A file is taken only once its size has stopped changing (a fax server may still
be writing it).  It is moved into the store before reading, so nothing is lost
when it cannot be read; its error is written beside the report folder.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from common.errors import IntakeError
from common.settings import Settings
from intake.store import OriginalStore
from pipeline.composer import process_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    name: str
    sha256: str
    determination: str | None
    error_code: str | None


def _stable_files(inbox: Path, settle_s: float) -> list[Path]:
    first = {p: p.stat().st_size for p in inbox.iterdir() if p.is_file() and not p.name.startswith(".")}
    if settle_s > 0:
        time.sleep(settle_s)
    return sorted(p for p, size in first.items() if p.exists() and p.stat().st_size == size)


def drain(inbox: Path, store: OriginalStore, settings: Settings, settle_s: float = 1.0) -> Iterator[Outcome]:
    for path in _stable_files(inbox, settle_s):
        digest, kept = store.keep(path.read_bytes(), path.name)
        path.unlink()
        try:
            done = process_file(kept, settings=settings)
        except IntakeError as err:
            store.save_error(digest, err)
            log.warning("document %s not readable: %s", digest[:12], err.code)
            yield Outcome(path.name, digest, None, err.code)
            continue
        store.save_report(digest, done.report)
        yield Outcome(path.name, digest, done.report.determination, None)


def watch(inbox: Path, store: OriginalStore, settings: Settings, *, once: bool, poll_s: float = 2.0) -> int:
    handled = 0
    while True:
        for outcome in drain(inbox, store, settings, settle_s=0.0 if once else 1.0):
            handled += 1
            # File names from fax servers can carry a patient's name: print the hash only.
            print(f"{outcome.sha256[:12]}\t{outcome.determination or outcome.error_code}")
        if once:
            return handled
        time.sleep(poll_s)
