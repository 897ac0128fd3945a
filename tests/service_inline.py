"""The service in the test process: a real Service on SQLite in a temp folder, the
API through FastAPI's TestClient, and jobs run on the spot by the real JobRunner
(the pipeline is built once per test session)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from common.settings import Settings
from intake.api import create_app
from intake.auth import create_token
from intake.config import ServiceConfig
from intake.queue.runner import JobRunner, new_owner
from intake.service import Service


class Stuck(Exception):
    pass


def _no_exit() -> None:
    raise Stuck("time limit")  # the real runner ends its process; a test must not


def open_service(tmp_path: Path, **config: object) -> Service:
    return Service.open(ServiceConfig(data_dir=tmp_path / "data", **config))  # type: ignore[arg-type]


def run_jobs(service: Service, settings: Settings | None = None) -> int:
    """Run every queued job now, soonest due first; returns how many ran."""
    runner = JobRunner(
        service.store, service.blobs, service.config, settings or Settings(), on_time_limit=_no_exit
    )
    ran = 0
    while True:
        owner = new_owner()
        case = service.store.claim_next(owner, service.config.job_lease_s)
        if case is None:
            return ran
        runner.run(case, owner)
        ran += 1


def client_for(service: Service) -> tuple[TestClient, dict[str, str]]:
    token = create_token(service.store, "tester")
    return TestClient(create_app(service)), {"Authorization": f"Bearer {token}"}
