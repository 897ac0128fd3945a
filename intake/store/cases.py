"""Every change of a job's state, each one statement or one short transaction.

The documents table is the truth.  A worker holds a job by a lease it renews;
every write a worker makes names its lease, so a worker that lost its job (its
lease lapsed and another took it) can change nothing.  A lapsed lease is
collected by :meth:`CaseStore.sweep`: the job is queued again, or failed with
its reason once it has used its attempts.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from common.errors import BadParameter, IntakeError, WorkerLost
from intake.store.tables import audit, documents, tokens

Status = Literal["queued", "processing", "done", "failed"]
Priority = Literal["standard", "expedited"]
STATUSES: tuple[Status, ...] = ("queued", "processing", "done", "failed")
PRIORITIES: tuple[Priority, ...] = ("standard", "expedited")

# The decision timeframes payers are held to for prior authorization (CMS-0057-F for
# Medicare Advantage, Medicaid and exchange plans; most state laws are the same or shorter):
# 7 calendar days for a standard request, 72 hours for an expedited one.
DECISION_TIMEFRAME: dict[Priority, timedelta] = {
    "standard": timedelta(days=7),
    "expedited": timedelta(hours=72),
}


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class JobError:
    code: str
    message: str
    hint: str

    @staticmethod
    def of(err: IntakeError) -> JobError:
        return JobError(code=err.code, message=err.message, hint=err.hint)


@dataclass(frozen=True)
class Case:
    id: str
    sha256: str
    status: Status
    priority: Priority
    policy_id: str | None
    size_bytes: int
    pages: int | None
    received_at: datetime
    due_at: datetime
    attempts: int
    max_attempts: int
    lease_owner: str | None
    lease_expires_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    error: JobError | None
    determination: str | None

    @staticmethod
    def of(row: sa.Row[Any]) -> Case:
        m = row._mapping
        error = (
            JobError(code=m["error_code"], message=m["error_message"] or "", hint=m["error_hint"] or "")
            if m["error_code"]
            else None
        )
        return Case(
            id=m["id"],
            sha256=m["sha256"],
            status=m["status"],
            priority=m["priority"],
            policy_id=m["policy_id"],
            size_bytes=m["size_bytes"],
            pages=m["pages"],
            received_at=m["received_at"],
            due_at=m["due_at"],
            attempts=m["attempts"],
            max_attempts=m["max_attempts"],
            lease_owner=m["lease_owner"],
            lease_expires_at=m["lease_expires_at"],
            started_at=m["started_at"],
            finished_at=m["finished_at"],
            error=error,
            determination=m["determination"],
        )


# Every column but the two large documents, for lists and state checks.
_CASE_COLUMNS = [c for c in documents.c if c.name not in ("report", "fhir")]


@dataclass(frozen=True)
class Sweep:
    requeued: tuple[str, ...]
    failed: tuple[str, ...]


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    actor: str
    action: str
    document_id: str | None
    page: int | None


def _error_columns(err: JobError | None) -> dict[str, str | None]:
    if err is None:
        return {"error_code": None, "error_message": None, "error_hint": None}
    return {"error_code": err.code, "error_message": err.message, "error_hint": err.hint}


def encode_cursor(due_at: datetime, case_id: str) -> str:
    raw = json.dumps([due_at.isoformat(), case_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        due, case_id = json.loads(raw)
        return datetime.fromisoformat(due), str(case_id)
    except (ValueError, TypeError) as err:
        raise BadParameter(
            "cursor is not one this service gave out.", hint="Pass next_cursor as given."
        ) from err


class CaseStore:
    def __init__(self, engine: sa.Engine, *, max_attempts: int = 3) -> None:
        self.engine = engine
        self.max_attempts = max_attempts
        self._sqlite = engine.dialect.name == "sqlite"
        self._sqlite_lock = threading.Lock()

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        # SQLite has one writer at a time, and a writer that finds the lock taken sleeps in
        # growing steps (up to 100 ms) before it tries again: threads of one process queue
        # on a lock of their own instead, so 20 uploads at once are written in turn, not
        # after rounds of sleeping.  PostgreSQL needs no such thing.
        lock = self._sqlite_lock if self._sqlite else contextlib.nullcontext()
        with lock, self.engine.connect() as conn:
            conn = conn.execution_options(immediate=True)
            with conn.begin():
                yield conn

    def transaction(self) -> contextlib.AbstractContextManager[sa.Connection]:
        """A write transaction, queued as every write of this store is (for the stores beside it)."""
        return self._write()

    # ------------------------------------------------------------------ intake

    def create(
        self,
        *,
        sha256: str,
        size_bytes: int,
        priority: Priority,
        policy_id: str | None,
        pages: int | None,
        rejected: IntakeError | None = None,
        submitted_by: tuple[str, int | None] | None = None,
        now: datetime | None = None,
    ) -> tuple[Case, bool]:
        """A new case for these bytes, or the existing one: (case, created).  ``submitted_by``
        (actor, token id) is written to the audit log in the same transaction."""
        now = now or now_utc()
        case_id = uuid.uuid4().hex
        values = {
            "id": case_id,
            "sha256": sha256,
            "status": "failed" if rejected else "queued",
            "priority": priority,
            "policy_id": policy_id,
            "size_bytes": size_bytes,
            "pages": pages,
            "received_at": now,
            "due_at": now + DECISION_TIMEFRAME[priority],
            "attempts": 0,
            "max_attempts": self.max_attempts,
            "finished_at": now if rejected else None,
            **_error_columns(JobError.of(rejected) if rejected else None),
        }
        try:
            with self._write() as conn:
                existing = conn.execute(sa.select(*_CASE_COLUMNS).where(documents.c.sha256 == sha256)).first()
                if existing is not None:
                    return Case.of(existing), False
                conn.execute(documents.insert().values(**values))
                if submitted_by is not None:
                    actor, token_id = submitted_by
                    conn.execute(
                        audit.insert().values(
                            at=now, actor=actor, token_id=token_id, action="submit", document_id=case_id
                        )
                    )
        except sa.exc.IntegrityError:
            # Two uploads of the same bytes at once (PostgreSQL): the other one won.
            found = self.by_sha(sha256)
            if found is None:
                raise
            return found, False
        made = self.get(case_id)
        assert made is not None
        return made, True

    def get(self, case_id: str) -> Case | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(*_CASE_COLUMNS).where(documents.c.id == case_id)).first()
        return Case.of(row) if row else None

    def by_sha(self, sha256: str) -> Case | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(*_CASE_COLUMNS).where(documents.c.sha256 == sha256)).first()
        return Case.of(row) if row else None

    def documents_of(self, case_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The stored report and FHIR bundle, as written when the job ended."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(documents.c.report, documents.c.fhir).where(documents.c.id == case_id)
            ).first()
        return (row.report, row.fhir) if row else (None, None)

    def list_cases(
        self,
        *,
        status: Status | None = None,
        determination: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[Case], str | None]:
        """The queue, soonest due first; keyset pages so new arrivals never shift a page."""
        query = sa.select(*_CASE_COLUMNS)
        if status:
            query = query.where(documents.c.status == status)
        if determination:
            query = query.where(documents.c.determination == determination)
        if cursor:
            due, after = decode_cursor(cursor)
            query = query.where(
                sa.or_(
                    documents.c.due_at > due,
                    sa.and_(documents.c.due_at == due, documents.c.id > after),
                )
            )
        query = query.order_by(documents.c.due_at, documents.c.id).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = [Case.of(r) for r in conn.execute(query)]
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, (encode_cursor(rows[-1].due_at, rows[-1].id) if more and rows else None)

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(documents.c.status, sa.func.count()).group_by(documents.c.status)
            ).all()
        return {s: 0 for s in STATUSES} | {r[0]: int(r[1]) for r in rows}

    # ------------------------------------------------------------------ workers

    def claim_next(self, owner: str, lease_s: float) -> Case | None:
        """Take the queued job due soonest (embedded workers)."""
        with self.engine.connect() as conn:  # idle workers look without taking the write lock
            if (
                conn.execute(sa.select(documents.c.id).where(documents.c.status == "queued").limit(1)).first()
                is None
            ):
                return None
        with self._write() as conn:
            query = (
                sa.select(documents.c.id)
                .where(documents.c.status == "queued")
                .order_by(documents.c.due_at, documents.c.id)
                .limit(1)
            )
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            found = conn.execute(query).scalar()
            if found is None:
                return None
            claimed = self._take(conn, found, owner, lease_s)
        return claimed

    def claim(self, case_id: str, owner: str, lease_s: float) -> Case | None:
        """Take this job if it is queued (a broker's message); None if done, failed or held."""
        with self._write() as conn:
            return self._take(conn, case_id, owner, lease_s)

    def _take(self, conn: sa.Connection, case_id: str, owner: str, lease_s: float) -> Case | None:
        now = now_utc()
        result = conn.execute(
            documents.update()
            .where(documents.c.id == case_id, documents.c.status == "queued")
            .values(
                status="processing",
                attempts=documents.c.attempts + 1,
                lease_owner=owner,
                lease_expires_at=now + timedelta(seconds=lease_s),
                started_at=now,
            )
        )
        if result.rowcount != 1:
            return None
        row = conn.execute(sa.select(*_CASE_COLUMNS).where(documents.c.id == case_id)).one()
        return Case.of(row)

    def _held(self, case_id: str, owner: str) -> sa.ColumnElement[bool]:
        return sa.and_(
            documents.c.id == case_id,
            documents.c.status == "processing",
            documents.c.lease_owner == owner,
        )

    def renew(self, case_id: str, owner: str, lease_s: float) -> bool:
        with self._write() as conn:
            result = conn.execute(
                documents.update()
                .where(self._held(case_id, owner))
                .values(lease_expires_at=now_utc() + timedelta(seconds=lease_s))
            )
        return result.rowcount == 1

    def finish(
        self,
        case_id: str,
        owner: str,
        *,
        report: dict[str, Any],
        fhir: dict[str, Any] | None,
        determination: str | None,
        pages: int | None,
    ) -> bool:
        """Store the report, once; False if this worker no longer holds the job."""
        with self._write() as conn:
            result = conn.execute(
                documents.update()
                .where(self._held(case_id, owner))
                .values(
                    status="done",
                    report=report,
                    fhir=fhir,
                    determination=determination,
                    pages=pages,
                    finished_at=now_utc(),
                    lease_owner=None,
                    lease_expires_at=None,
                    **_error_columns(None),
                )
            )
        return result.rowcount == 1

    def fail_attempt(self, case_id: str, owner: str, err: IntakeError, *, retry: bool) -> Status | None:
        """End this attempt with an error: queued again while attempts remain and ``retry``,
        else failed.  Returns the new status, or None if the job was no longer held."""
        with self._write() as conn:
            row = conn.execute(
                sa.select(documents.c.attempts, documents.c.max_attempts).where(self._held(case_id, owner))
            ).first()
            if row is None:
                return None
            again = retry and row.attempts < row.max_attempts
            status: Status = "queued" if again else "failed"
            conn.execute(
                documents.update()
                .where(self._held(case_id, owner))
                .values(
                    status=status,
                    lease_owner=None,
                    lease_expires_at=None,
                    enqueued_at=None,  # to be handed to the broker again
                    finished_at=None if again else now_utc(),
                    **_error_columns(JobError.of(err)),
                )
            )
        return status

    def release(self, case_id: str, owner: str) -> bool:
        """Give a job back unfinished (the worker is stopping): the attempt does not count."""
        with self._write() as conn:
            result = conn.execute(
                documents.update()
                .where(self._held(case_id, owner))
                .values(
                    status="queued",
                    attempts=documents.c.attempts - 1,
                    lease_owner=None,
                    lease_expires_at=None,
                    enqueued_at=None,
                )
            )
        return result.rowcount == 1

    def sweep(self, now: datetime | None = None) -> Sweep:
        """Jobs whose worker is gone (lease lapsed): queued again, or failed after the last attempt."""
        now = now or now_utc()
        lapsed = sa.and_(documents.c.status == "processing", documents.c.lease_expires_at < now)
        lost = WorkerLost(
            "the worker processing this document stopped before it finished "
            "(killed, out of memory or the machine went down)."
        )
        requeued: list[str] = []
        failed: list[str] = []
        with self._write() as conn:
            rows = conn.execute(
                sa.select(documents.c.id, documents.c.attempts, documents.c.max_attempts).where(lapsed)
            ).all()
            for row in rows:
                last = row.attempts >= row.max_attempts
                reason = (
                    WorkerLost(
                        f"the worker processing this document stopped before it finished, "
                        f"on all {row.attempts} attempts (killed, out of memory or the machine went down)."
                    )
                    if last
                    else lost
                )
                conn.execute(
                    documents.update()
                    .where(documents.c.id == row.id, lapsed)
                    .values(
                        status="failed" if last else "queued",
                        lease_owner=None,
                        lease_expires_at=None,
                        enqueued_at=None,
                        finished_at=now if last else None,
                        **_error_columns(JobError.of(reason)),
                    )
                )
                (failed if last else requeued).append(row.id)
        return Sweep(requeued=tuple(requeued), failed=tuple(failed))

    def unsent(self, resend_after_s: float, limit: int = 500) -> list[str]:
        """Queued jobs never handed to the broker, or handed over so long ago it may have lost them."""
        stale = now_utc() - timedelta(seconds=resend_after_s)
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(documents.c.id)
                    .where(
                        documents.c.status == "queued",
                        sa.or_(documents.c.enqueued_at.is_(None), documents.c.enqueued_at < stale),
                    )
                    .order_by(documents.c.due_at, documents.c.id)
                    .limit(limit)
                ).scalars()
            )

    def mark_sent(self, case_ids: Sequence[str]) -> None:
        if not case_ids:
            return
        with self._write() as conn:
            conn.execute(
                documents.update()
                .where(documents.c.id.in_(list(case_ids)), documents.c.status == "queued")
                .values(enqueued_at=now_utc())
            )

    # ------------------------------------------------------------------ tokens and audit

    def add_token(self, name: str, token_hash: str) -> int:
        with self._write() as conn:
            result = conn.execute(
                tokens.insert().values(name=name, token_hash=token_hash, created_at=now_utc())
            )
            key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def find_token(self, token_hash: str) -> TokenRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(tokens).where(tokens.c.token_hash == token_hash, tokens.c.revoked_at.is_(None))
            ).first()
        return TokenRow(row.id, row.name, row.created_at, row.revoked_at) if row else None

    def list_tokens(self) -> list[TokenRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(tokens).order_by(tokens.c.id)).all()
        return [TokenRow(r.id, r.name, r.created_at, r.revoked_at) for r in rows]

    def revoke_tokens(self, name: str) -> int:
        with self._write() as conn:
            result = conn.execute(
                tokens.update()
                .where(tokens.c.name == name, tokens.c.revoked_at.is_(None))
                .values(revoked_at=now_utc())
            )
        return result.rowcount

    def record(
        self,
        *,
        actor: str,
        token_id: int | None,
        action: str,
        document_id: str | None,
        page: int | None = None,
    ) -> None:
        with self._write() as conn:
            conn.execute(
                audit.insert().values(
                    at=now_utc(),
                    actor=actor,
                    token_id=token_id,
                    action=action,
                    document_id=document_id,
                    page=page,
                )
            )

    def audit_trail(self, document_id: str | None = None, limit: int = 1000) -> list[AuditRow]:
        query = sa.select(audit).order_by(audit.c.id.desc()).limit(limit)
        if document_id:
            query = query.where(audit.c.document_id == document_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [AuditRow(r.at, r.actor, r.action, r.document_id, r.page) for r in rows]
