"""Scale-out: jobs as Celery messages on Redis, workers on any machine.

Late acknowledgement: a message is acknowledged when its task ends, so a worker
killed mid-job leaves it unacknowledged and the broker hands it out again
(at once when only the pool process died, ``reject_on_worker_lost``; after the
visibility timeout, a few leases long, when the whole worker went, with the
messages it had reserved).  The job table stays the truth:
a message for a job that is done, failed or held by a live lease does nothing,
and the sweeper re-sends what the broker may have lost.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from celery import Celery
from celery.signals import (
    setup_logging,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)

from intake.config import ServiceConfig

log = logging.getLogger(__name__)

TASK = "intake.process"
QUEUE = "intake"


def make_celery(config: ServiceConfig) -> Celery:
    app = Celery("intake", broker=config.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        task_default_queue=QUEUE,
        worker_prefetch_multiplier=1,  # a worker holds one message per process, not a backlog
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        # Messages a worker took and never acknowledged (it vanished, with the messages it
        # had reserved) come back after this.  Short, because a copy handed out while the
        # job still runs is harmless (the job table refuses it: the lease is held), while a
        # long timeout leaves a vanished worker's reserved jobs waiting that long.
        # Running workers look for such messages every 10 s (kombu's default: every 100 s).
        broker_transport_options={
            "visibility_timeout": int(max(60.0, 4 * config.job_lease_s)),
            "unacked_restore_interval": 10,
            "unacked_restore_throttle": 1,
        },
        # Our own limit (runner.Heartbeat) acts first; this one catches a worker whose
        # heartbeat thread could not run.
        task_time_limit=int(config.job_time_limit_s + 2 * config.job_lease_s),
    )
    return app


class CeleryDispatcher:
    def __init__(self, config: ServiceConfig) -> None:
        self.app = make_celery(config)

    def send(self, case_ids: Sequence[str]) -> list[str]:
        sent: list[str] = []
        for case_id in case_ids:
            try:
                self.app.send_task(TASK, args=[case_id], queue=QUEUE, retry=False)
            except Exception as err:  # broker down: the sweeper sends it later
                log.warning(
                    "broker unreachable (%s); %d jobs wait to be sent", type(err).__name__, len(case_ids)
                )
                break
            sent.append(case_id)
        return sent

    def ping(self) -> None:
        with self.app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)


# ------------------------------------------------------------------ the worker side

_runtime: dict[str, Any] = {}


def worker_app(config: ServiceConfig) -> Celery:
    """The Celery app of ``intake worker``, with the task and the per-process set-up."""
    app = make_celery(config)

    @app.task(name=TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
    def process(case_id: str) -> str:
        from intake.queue.runner import new_owner

        service, runner = _runtime["service"], _runtime["runner"]
        owner = new_owner()
        case = service.store.claim(case_id, owner, config.job_lease_s)
        if case is None:
            return "not claimable"  # done, failed, or another worker holds it
        return str(runner.run(case, owner))

    @setup_logging.connect(weak=False)
    def _logging(**_: Any) -> None:
        # Our logging as set by the CLI (ids and codes only), not Celery's own set-up.
        from intake.cli import setup_logging as ours

        ours(logging.getLogger().getEffectiveLevel())

    @worker_process_init.connect(weak=False)
    def _init(**_: Any) -> None:
        # After the fork: a process of its own needs its own database connections.
        from common.settings import Settings
        from intake.queue.runner import JobRunner
        from intake.service import Service

        os.nice(config.worker_nice)
        service = Service.open(config, migrate=False)
        _runtime["service"] = service
        _runtime["runner"] = JobRunner(service.store, service.blobs, config, Settings())

    @worker_process_shutdown.connect(weak=False)
    def _close(**_: Any) -> None:
        if "service" in _runtime:
            _runtime.pop("service").close()

    @worker_ready.connect(weak=False)
    def _sweep(**_: Any) -> None:
        from intake.queue.sweeper import Sweeper
        from intake.service import Service

        # pooled=False: no connection stays open across the pool's forks.
        service = Service.open(config, migrate=False, pooled=False)
        _runtime["sweeper"] = Sweeper(service.store, CeleryDispatcher(config), config).start()

    @worker_shutdown.connect(weak=False)
    def _stop_sweep(**_: Any) -> None:
        if "sweeper" in _runtime:
            _runtime.pop("sweeper").stop()

    return app
