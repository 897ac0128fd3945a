"""The embedded workers: processes ``intake serve`` starts and restarts.

Each worker builds the pipeline once, then takes the queued job due soonest
from the table, over and over.  A worker dies with its parent (Linux's
parent-death signal): when the service is killed, nothing keeps running
unsupervised, and its jobs' leases lapse and are taken again on restart.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from multiprocessing.process import BaseProcess
from typing import Any

from intake.config import ServiceConfig

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


class Stopping(BaseException):
    """Raised in a worker by SIGTERM or SIGINT, so the job in hand is given back."""


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _raise_stopping(_signum: int, _frame: Any) -> None:
    raise Stopping


def worker_main(config_json: str, log_level: int, parent_pid: int) -> None:
    """Entry point of a worker process (spawned: nothing inherited but the arguments)."""
    _die_with_parent()
    if os.getppid() != parent_pid:  # the parent died before the death signal was armed
        return
    os.nice(ServiceConfig.model_validate_json(config_json).worker_nice)
    from intake.cli import setup_logging

    setup_logging(log_level)
    signal.signal(signal.SIGTERM, _raise_stopping)
    signal.signal(signal.SIGINT, _raise_stopping)
    from common.settings import Settings
    from intake.queue.runner import JobRunner, new_owner
    from intake.service import Service

    config = ServiceConfig.model_validate_json(config_json)
    service = Service.open(config, migrate=False)
    runner = JobRunner(service.store, service.blobs, config, Settings())
    try:
        runner.warm()
        while os.getppid() == parent_pid:
            owner = new_owner()
            case = service.store.claim_next(owner, config.job_lease_s)
            if case is None:
                time.sleep(config.poll_s)
                continue
            runner.run(case, owner)
    except Stopping:
        pass
    finally:
        service.close()


class WorkerPool:
    """Starts ``count`` worker processes and restarts any that ends."""

    def __init__(self, config: ServiceConfig, count: int) -> None:
        self.config, self.count = config, count
        self._ctx = multiprocessing.get_context("spawn")
        self._procs: list[BaseProcess] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._supervise, name="worker-pool", daemon=True)

    def _spawn(self) -> BaseProcess:
        proc = self._ctx.Process(
            target=worker_main,
            args=(self.config.model_dump_json(), logging.getLogger().getEffectiveLevel(), os.getpid()),
            name="intake-worker",
            daemon=False,
        )
        proc.start()
        return proc

    def start(self) -> WorkerPool:
        self._procs = [self._spawn() for _ in range(self.count)]
        log.info("started %d worker processes", self.count)
        self._thread.start()
        return self

    def alive(self) -> int:
        return sum(1 for p in self._procs if p.is_alive())

    def _supervise(self) -> None:
        while not self._stop.wait(0.5):
            for i, proc in enumerate(self._procs):
                if not proc.is_alive() and not self._stop.is_set():
                    log.warning("worker %s ended (exit %s); starting another", proc.pid, proc.exitcode)
                    self._procs[i] = self._spawn()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask every worker to stop (each gives back its job), then make sure they did."""
        self._stop.set()
        self._thread.join(timeout=5)
        for proc in self._procs:
            if proc.is_alive() and proc.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self._procs:
            proc.join(max(0.1, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join(2)
