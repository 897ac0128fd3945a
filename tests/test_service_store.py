"""The job table's rules, on SQLite and on PostgreSQL: one holder per job, lapsed
leases taken again, attempts counted, a failure's reason kept, nothing lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from service_support import Servers, servers

from common.errors import EngineError, WorkerLost
from intake.store import db
from intake.store.cases import CaseStore, now_utc

__all__ = ["servers"]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CaseStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'intake.sqlite3'}"
    else:
        found: Servers = request.getfixturevalue("servers")
        url = found.fresh_database()
    engine = db.make_engine(url)
    db.upgrade(engine)
    yield CaseStore(engine, max_attempts=2)
    engine.dispose()


def _new(store: CaseStore, n: int = 0, priority: str = "standard") -> str:
    case, created = store.create(
        sha256=f"{n:064x}",
        size_bytes=10,
        priority=priority,
        policy_id=None,
        pages=1,  # type: ignore[arg-type]
    )
    assert created
    return case.id


def test_schema_from_migrations_matches_the_tables(store: CaseStore) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from intake.store.tables import metadata

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_upgrading_twice_is_harmless(store: CaseStore) -> None:
    db.upgrade(store.engine)
    db.upgrade(store.engine)


def test_one_case_per_bytes(store: CaseStore) -> None:
    first = _new(store, 1)
    again, created = store.create(
        sha256=f"{1:064x}", size_bytes=10, priority="expedited", policy_id=None, pages=1
    )
    assert not created and again.id == first and again.priority == "standard"


def test_concurrent_claims_never_give_one_job_twice(store: CaseStore) -> None:
    ids = {_new(store, n) for n in range(30)}
    got: list[str] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        while (case := store.claim_next(f"w{k}", 30)) is not None:
            with lock:
                got.append(case.id)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == sorted(ids)  # each exactly once


def test_expedited_is_taken_first(store: CaseStore) -> None:
    _new(store, 1)
    urgent = _new(store, 2, priority="expedited")
    case = store.claim_next("w", 30)
    assert case is not None and case.id == urgent


def test_a_lapsed_lease_is_queued_again_then_failed_with_its_reason(store: CaseStore) -> None:
    doc = _new(store)
    first = store.claim_next("dead-1", 0.01)
    assert first is not None and first.attempts == 1
    time.sleep(0.05)
    assert store.sweep().requeued == (doc,)
    queued = store.get(doc)
    assert queued is not None and queued.status == "queued" and queued.error is not None
    assert queued.error.code == WorkerLost.code  # the last attempt's reason stays visible
    assert store.finish(doc, "dead-1", report={}, fhir=None, determination=None, pages=1) is False
    second = store.claim_next("dead-2", 0.01)
    assert second is not None and second.attempts == 2
    time.sleep(0.05)
    assert store.sweep().failed == (doc,)  # attempts used up
    failed = store.get(doc)
    assert failed is not None and failed.status == "failed" and failed.error is not None
    assert failed.error.code == WorkerLost.code and "2 attempts" in failed.error.message


def test_a_renewed_lease_is_not_collected(store: CaseStore) -> None:
    doc = _new(store)
    assert store.claim_next("alive", 0.2) is not None
    for _ in range(4):
        time.sleep(0.1)
        assert store.renew(doc, "alive", 0.2)
        assert store.sweep().requeued == ()
    assert not store.renew(doc, "someone-else", 0.2)


def test_a_retryable_error_requeues_until_the_limit(store: CaseStore) -> None:
    doc = _new(store)
    err = EngineError("tesseract crashed")
    store.claim_next("w", 30)
    assert store.fail_attempt(doc, "w", err, retry=True) == "queued"
    store.claim_next("w", 30)
    assert store.fail_attempt(doc, "w", err, retry=True) == "failed"
    case = store.get(doc)
    assert case is not None and case.error is not None and case.error.code == "E300_OCR_ENGINE"


def test_a_released_job_keeps_its_attempt(store: CaseStore) -> None:
    doc = _new(store)
    store.claim_next("stopping", 30)
    assert store.release(doc, "stopping")
    case = store.get(doc)
    assert case is not None and case.status == "queued" and case.attempts == 0


def test_the_report_is_written_once(store: CaseStore) -> None:
    doc = _new(store)
    store.claim_next("w", 30)
    assert store.finish(doc, "w", report={"determination": "x"}, fhir={"a": 1}, determination="x", pages=1)
    assert not store.finish(doc, "w", report={"determination": "y"}, fhir=None, determination="y", pages=1)
    assert store.documents_of(doc) == ({"determination": "x"}, {"a": 1})


def test_unsent_jobs_are_found_and_marked(store: CaseStore) -> None:
    a, b = _new(store, 1), _new(store, 2)
    assert set(store.unsent(900)) == {a, b}
    store.mark_sent([a])
    assert store.unsent(900) == [b]
    with store.engine.begin() as conn:  # sent long ago: the broker may have lost it
        from intake.store.tables import documents

        conn.execute(
            sa.update(documents).where(documents.c.id == a).values(enqueued_at=now_utc() - timedelta(hours=1))
        )
    assert set(store.unsent(900)) == {a, b}
