"""Collects jobs whose worker is gone, and hands unsent jobs to the broker.

Runs in ``intake serve`` and in every ``intake worker``; several at once are
harmless (each change is a conditional update, a second message a no-op).
"""

from __future__ import annotations

import logging
import threading

from intake.config import ServiceConfig
from intake.queue import Dispatcher
from intake.store.cases import CaseStore

log = logging.getLogger(__name__)


def sweep_once(store: CaseStore, dispatcher: Dispatcher | None, config: ServiceConfig) -> int:
    """One pass; returns how many jobs it changed or sent."""
    swept = store.sweep()
    for case_id in swept.requeued:
        log.warning("job %s: its worker stopped; queued again", case_id)
    for case_id in swept.failed:
        log.error("job %s: its worker stopped on every attempt; failed", case_id)
    sent: list[str] = []
    if dispatcher is not None:
        unsent = store.unsent(config.resend_after_s)
        if unsent:
            sent = dispatcher.send(unsent)
            store.mark_sent(sent)
    return len(swept.requeued) + len(swept.failed) + len(sent)


class Sweeper:
    def __init__(self, store: CaseStore, dispatcher: Dispatcher | None, config: ServiceConfig) -> None:
        self.store, self.dispatcher, self.config = store, dispatcher, config
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sweeper", daemon=True)

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.config.sweep_s):
            try:
                sweep_once(self.store, self.dispatcher, self.config)
            except Exception as err:  # the database or broker may be down for a while
                log.warning("sweep failed: %s", type(err).__name__)
