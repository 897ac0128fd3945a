"""A job's attempt: its time limit, its errors, and a queue that is down."""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi.testclient import TestClient
from intake_support import Docs, docs
from service_inline import client_for, open_service

from common.settings import Settings
from intake.queue.runner import JobRunner, new_owner

__all__ = ["docs"]

DATA = Path(__file__).parent / "data"


def test_an_attempt_over_its_time_limit_is_recorded_and_its_process_told_to_end(
    tmp_path: Path, docs: Docs
) -> None:
    service = open_service(tmp_path, job_time_limit_s=0.2, max_attempts=1)
    client, auth = client_for(service)
    doc_id = client.post(
        "/v1/documents", files={"file": ("f.tif", docs.get("normal-g3.tif").read_bytes())}, headers=auth
    ).json()["id"]
    ended = threading.Event()
    runner = JobRunner(service.store, service.blobs, service.config, Settings(), on_time_limit=ended.set)
    owner = new_owner()
    case = service.store.claim_next(owner, service.config.job_lease_s)
    assert case is not None
    runner.run(case, owner)  # the OCR takes seconds: the limit passes first
    assert ended.is_set()  # a real worker process ends here (os._exit) and is started again
    got = client.get(f"/v1/documents/{doc_id}", headers=auth).json()
    assert got["status"] == "failed" and got["error"]["code"] == "E502_TIME_LIMIT"
    assert got["report"] is None  # the late result was refused
    service.close()


def test_a_crash_is_retried_then_failed_with_its_reason(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pipeline.composer

    def broken(*_: object, **__: object) -> None:
        raise KeyError("Testpatient, Alpha")  # an exception whose text quotes the document

    monkeypatch.setattr(pipeline.composer, "process_file", broken)
    service = open_service(tmp_path, max_attempts=2)
    client, auth = client_for(service)
    doc_id = client.post(
        "/v1/documents", files={"file": ("a.txt", (DATA / "letter-met.txt").read_bytes())}, headers=auth
    ).json()["id"]
    runner = JobRunner(service.store, service.blobs, service.config, Settings())
    for expected in ("queued", "failed"):
        owner = new_owner()
        case = service.store.claim_next(owner, 30)
        assert case is not None
        assert runner.run(case, owner) == expected
    got = client.get(f"/v1/documents/{doc_id}", headers=auth).json()
    assert got["attempts"] == 2 and got["error"]["code"] == "E503_JOB_CRASHED"
    assert "Testpatient" not in got["error"]["message"]  # only the exception's type is kept
    service.close()


def test_with_the_broker_down_uploads_are_kept_and_ready_says_so(tmp_path: Path) -> None:
    service = open_service(tmp_path, broker_url="redis://127.0.0.1:9/0")  # nothing listens there
    client, auth = client_for(service)
    resp = client.post(
        "/v1/documents", files={"file": ("a.txt", (DATA / "letter-met.txt").read_bytes())}, headers=auth
    )
    assert resp.status_code == 202  # the case is in the table: the sweeper sends it when the broker is back
    assert service.store.unsent(900) == [resp.json()["id"]]
    ready = TestClient(client.app).get("/ready")
    assert ready.status_code == 503 and ready.json()["error"]["code"] == "E504_SERVICE_UNAVAILABLE"
    service.close()
