"""One attempt at one job, the same in an embedded worker and in a Celery worker.

The pipeline is built once per worker process (:meth:`JobRunner.warm`).  While
a job runs, a heartbeat thread renews its lease and enforces the time limit:
an attempt over the limit is recorded as such and its process ends, because a
stuck OCR call cannot be interrupted from inside (the worker is restarted).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from common.errors import (
    ConfigError,
    InputError,
    IntakeError,
    JobCrashed,
    JobTimeLimit,
)
from common.settings import Settings
from intake.config import ServiceConfig
from intake.store.blobs import BlobStore
from intake.store.cases import Case, CaseStore, Status

log = logging.getLogger(__name__)

EXIT_TIME_LIMIT = 75  # the worker process ends after an attempt over its time limit


def new_owner() -> str:
    """A lease holder's name: which machine and process, and which attempt."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _exit_process() -> None:
    os._exit(EXIT_TIME_LIMIT)


class Heartbeat:
    """Renews a job's lease every third of its length; acts when the time limit passes."""

    def __init__(
        self,
        store: CaseStore,
        case_id: str,
        owner: str,
        config: ServiceConfig,
        on_time_limit: Callable[[], None],
    ) -> None:
        self.store, self.case_id, self.owner, self.config = store, case_id, owner, config
        self.on_time_limit = on_time_limit
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{case_id[:8]}", daemon=True)
        self.lost = False

    def __enter__(self) -> Heartbeat:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        interval = self.config.job_lease_s / 3
        deadline = self._started + self.config.job_time_limit_s
        while not self._stop.wait(min(interval, max(0.05, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                self._time_up()
                return
            try:
                if not self.store.renew(self.case_id, self.owner, self.config.job_lease_s):
                    self.lost = True  # another worker has it now; our result will be refused
                    log.warning("job %s: lease lost", self.case_id)
                    return
            except Exception:  # the database may be briefly unreachable; try again next beat
                log.warning("job %s: lease renewal failed", self.case_id, exc_info=True)

    def _time_up(self) -> None:
        limit = self.config.job_time_limit_s
        err = JobTimeLimit(f"the attempt took longer than the limit of {limit:.0f} s and was stopped.")
        status = self.store.fail_attempt(self.case_id, self.owner, err, retry=True)
        log.error("job %s: over its time limit (%.0f s); now %s", self.case_id, limit, status)
        self.on_time_limit()


class JobRunner:
    def __init__(
        self,
        store: CaseStore,
        blobs: BlobStore,
        config: ServiceConfig,
        settings: Settings,
        *,
        on_time_limit: Callable[[], None] = _exit_process,
    ) -> None:
        self.store, self.blobs, self.config = store, blobs, config
        # One OCR process per job: the worker processes are the parallelism.
        self.settings = settings.model_copy(update={"workers": 1})
        self.on_time_limit = on_time_limit

    def warm(self) -> None:
        """Build the NLP pipeline now, once for this process, not on the first job."""
        from extractors.nlp import build_nlp

        started = time.monotonic()
        build_nlp()
        if self.settings.second_reader:
            from reading.second import default_readers

            default_readers(max(1, self.settings.workers))
        log.info("worker %d ready (pipeline built in %.1f s)", os.getpid(), time.monotonic() - started)

    def run(self, case: Case, owner: str) -> Status | None:
        """Process a job this worker holds; returns its new status."""
        started = time.monotonic()
        with Heartbeat(self.store, case.id, owner, self.config, self.on_time_limit):
            try:
                status = self._process(case, owner)
            except BaseException:
                # The worker is stopping (SIGTERM, Ctrl-C): give the job back, attempt uncounted.
                self.store.release(case.id, owner)
                log.info("job %s released: worker stopping", case.id)
                raise
        log.info(
            "job %s %s in %.2f s (attempt %d)", case.id, status, time.monotonic() - started, case.attempts
        )
        return status

    def _process(self, case: Case, owner: str) -> Status | None:
        from intake.service import named_for_users
        from outputs.fhir import to_fhir_bundle
        from pipeline.composer import process_file

        path: Path = self.blobs.path(case.sha256)
        try:
            done = process_file(
                path, settings=self.settings, policy_id=case.policy_id, received=case.received_at.date()
            )
            report = done.report.model_dump(mode="json")
            fhir = to_fhir_bundle(done)
        except (InputError, ConfigError) as err:
            # The same bytes fail the same way every time: no retry.
            log.warning("job %s: %s", case.id, err.code)
            return self.store.fail_attempt(case.id, owner, named_for_users(err, path), retry=False)
        except IntakeError as err:
            log.warning("job %s: %s (attempt %d)", case.id, err.code, case.attempts)
            return self.store.fail_attempt(case.id, owner, named_for_users(err, path), retry=True)
        except Exception as err:
            # Only the exception's type: its text may quote the document.
            log.error("job %s crashed: %s (attempt %d)", case.id, type(err).__name__, case.attempts)
            log.debug("job %s traceback", case.id, exc_info=True)
            crash = JobCrashed(f"processing stopped on an unexpected {type(err).__name__}.")
            return self.store.fail_attempt(case.id, owner, crash, retry=True)
        ok = self.store.finish(
            case.id,
            owner,
            report=report,
            fhir=fhir,
            determination=done.report.determination,
            pages=done.report.document.pages,
        )
        if not ok:
            log.warning("job %s: finished after its lease was taken; result dropped", case.id)
            return None
        return "done"
