"""The fax-intake service as a library: what the API, the watched folder and the
workers share.  Nothing here knows HTTP.

An upload is kept (content-addressed, on disk) before anything reads it; then it
is checked without OCR (``intake.precheck``), so a file that can never
be read is answered with its code at once and kept as a failed case; otherwise
a queued case is written, and only then is the job handed to the queue.
"""

from __future__ import annotations

import copy
import logging
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.errors import (
    BadParameter,
    InputError,
    IntakeError,
    NotFound,
    NotReady,
    ServiceUnavailable,
    error_class,
)
from common.settings import Settings
from intake.config import ServiceConfig
from intake.queue import Dispatcher, TableDispatcher
from intake.store import db
from intake.store.accounts import AccountStore
from intake.store.blobs import BlobStore, Incoming, write_private
from intake.store.cases import PRIORITIES, Case, CaseStore, Priority
from intake.store.reviews import ReviewStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Accepted:
    case: Case
    created: bool
    rejected: IntakeError | None  # the file can never be read: the case is failed at once


def parse_priority(value: str | None) -> Priority:
    if value is None or value == "":
        return "standard"
    for p in PRIORITIES:
        if value == p:
            return p
    raise BadParameter(f"priority must be one of {', '.join(PRIORITIES)}; got {value[:40]!r}.")


def named_for_users(err: IntakeError, path: Path) -> IntakeError:
    """The same error, with the stored file's path (its hash) told as "the file"."""
    message = err.message.replace(str(path), "the file").replace(path.name, "the file")
    if message == err.message:
        return err
    renamed = copy.copy(err)
    renamed.message = message
    renamed.args = (message,)
    return renamed


def check_policy(policy_id: str | None) -> str | None:
    if not policy_id:
        return None
    from criteria.policy import list_policies

    known = [p.id for p in list_policies()]
    if policy_id not in known:
        raise BadParameter(f"no policy {policy_id[:80]!r}; known: {', '.join(known)}.")
    return policy_id


class Service:
    def __init__(
        self, config: ServiceConfig, store: CaseStore, blobs: BlobStore, dispatcher: Dispatcher
    ) -> None:
        self.config, self.store, self.blobs, self.dispatcher = config, store, blobs, dispatcher
        self.accounts = AccountStore(store)
        self.reviews = ReviewStore(store)
        self.settings = Settings()
        self._outbox: queue.SimpleQueue[str] | None = None
        self._outbox_lock = threading.Lock()

    @classmethod
    def open(cls, config: ServiceConfig, *, migrate: bool = True, pooled: bool = True) -> Service:
        blobs = BlobStore(config.data_dir)
        engine = db.make_engine(config.sqlalchemy_url, pooled=pooled)
        if migrate:
            db.upgrade(engine)
        store = CaseStore(engine, max_attempts=config.max_attempts)
        dispatcher: Dispatcher
        if config.embedded:
            dispatcher = TableDispatcher()
        else:
            from intake.queue.celery_app import CeleryDispatcher

            dispatcher = CeleryDispatcher(config)
        return cls(config, store, blobs, dispatcher)

    def close(self) -> None:
        self.store.engine.dispose()

    def _hand_over(self, case_id: str) -> None:
        """Send a new job to the broker from a thread of its own: a slow or absent broker
        never holds up the answer to an upload (the case is committed; unsent jobs are
        sent by the sweeper)."""
        if self.config.embedded:
            return
        with self._outbox_lock:
            if self._outbox is None:
                self._outbox = queue.SimpleQueue()
                threading.Thread(target=self._send_loop, name="outbox", daemon=True).start()
        self._outbox.put(case_id)

    def _send_loop(self) -> None:
        assert self._outbox is not None
        while True:
            batch = [self._outbox.get()]
            while not self._outbox.empty() and len(batch) < 100:
                batch.append(self._outbox.get())
            try:
                self.store.mark_sent(self.dispatcher.send(batch))
            except Exception as err:  # the store is down: the sweeper sends them later
                log.warning("jobs not handed to the broker yet: %s", type(err).__name__)

    # ------------------------------------------------------------------ intake

    def accept(
        self,
        incoming: Incoming,
        *,
        priority: Priority,
        policy_id: str | None,
        submitted_by: tuple[str, int | None] | None = None,
    ) -> Accepted:
        """Keep the bytes, then open a case for them (or return the case they already have)."""
        path = self.blobs.keep(incoming)
        return self._open_case(incoming.sha256, path, incoming.size, priority, policy_id, submitted_by)

    def accept_file(self, source: Path, *, priority: Priority = "standard") -> Accepted:
        sha256, path, size = self.blobs.keep_file(source)
        return self._open_case(sha256, path, size, priority, None, ("watched folder", None))

    def _open_case(
        self,
        sha256: str,
        path: Path,
        size: int,
        priority: Priority,
        policy_id: str | None,
        submitted_by: tuple[str, int | None] | None,
    ) -> Accepted:
        existing = self.store.by_sha(sha256)
        if existing is not None:
            return Accepted(existing, created=False, rejected=_rejection(existing))
        rejected: IntakeError | None = None
        pages: int | None = None
        try:
            from intake.precheck import check_document

            pages = check_document(path, self.settings)
        except InputError as err:
            rejected = named_for_users(err, path)
        except Exception as err:  # the job will meet it again and record it properly
            log.warning("pre-check of %s failed: %s", sha256[:12], type(err).__name__)
        case, created = self.store.create(
            sha256=sha256,
            size_bytes=size,
            priority=priority,
            policy_id=policy_id,
            pages=pages,
            rejected=rejected,
            submitted_by=submitted_by,
        )
        if created and rejected is None:
            self._hand_over(case.id)
        if created:
            log.info(
                "case %s received: %s, %s bytes, %s page(s), %s",
                case.id,
                case.priority,
                size,
                pages if pages is not None else "?",
                rejected.code if rejected else "queued",
            )
        return Accepted(case, created=created, rejected=rejected if created else _rejection(case))

    # ------------------------------------------------------------------ reading

    def case(self, case_id: str) -> Case:
        found = self.store.get(case_id) if _plausible_id(case_id) else None
        if found is None:
            raise NotFound(f"no document with id {case_id[:40]!r}.")
        return found

    def report(self, case_id: str) -> dict[str, Any] | None:
        report, _ = self.store.documents_of(case_id)
        return report

    def fhir(self, case_id: str) -> dict[str, Any]:
        """The bundle made with the report, with the reviewer's answers and outcome beside
        the service's (outputs.review_fhir); the stored bundle is never changed."""
        from intake.reviews import reviewed_fhir

        return reviewed_fhir(self, case_id, self.stored_fhir(case_id))

    def stored_fhir(self, case_id: str) -> dict[str, Any]:
        case = self.case(case_id)
        if case.status == "failed":
            code = case.error.code if case.error else "unknown"
            raise NotReady(f"the document failed ({code}); it has no FHIR bundle.", hint="See its error.")
        if case.status != "done":
            raise NotReady(f"the document is {case.status}; its FHIR bundle is made when it is done.")
        _, bundle = self.store.documents_of(case_id)
        if bundle is None:
            raise NotReady("the document's FHIR bundle was not made.")
        return bundle

    def page_png(self, case_id: str, number: int) -> bytes:
        from intake.pages import page_png

        case = self.case(case_id)
        cached = self.blobs.cache_path(case.sha256, f"page-{number}.png")
        if cached.is_file():
            return cached.read_bytes()
        png = page_png(self.blobs.path(case.sha256), number, self.settings)
        write_private(cached, png)
        return png

    def ready(self) -> dict[str, str]:
        """Raises ServiceUnavailable naming what is down."""
        checks: dict[str, str] = {}
        try:
            db.ping(self.store.engine)
            checks["store"] = "ok"
        except Exception as err:
            raise ServiceUnavailable(f"the store cannot be reached ({type(err).__name__}).") from err
        if not self.blobs.originals.is_dir():
            raise ServiceUnavailable(f"the data folder {self.blobs.root} is missing.")
        try:
            self.dispatcher.ping()
            checks["queue"] = "ok" if not self.config.embedded else "ok (embedded: the job table)"
        except Exception as err:
            raise ServiceUnavailable(f"the queue cannot be reached ({type(err).__name__}).") from err
        return checks


def _rejection(case: Case) -> IntakeError | None:
    """The error a case was refused with at upload (a failed case with no attempts)."""
    if case.status != "failed" or case.attempts or case.error is None:
        return None
    return error_class(case.error.code)(case.error.message, hint=case.error.hint)


def _plausible_id(case_id: str) -> bool:
    return len(case_id) == 32 and all(c in "0123456789abcdef" for c in case_id)
