"""The service's tables.  The documents table is the truth about every job:
a job is done when its row says so, not when a worker said it started.

The report column is written once, when the job ends, and never changed: a
reviewer's actions go in a table of their own beside it (review_actions), added
to and never changed either, so the report and every decision made on it are kept.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite as on PostgreSQL.

    SQLite keeps text and drops the zone; stored naive in UTC, the text sorts and
    compares in time order, which the lease and due-time queries rely on.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


JsonDoc: sa.types.TypeEngine[Any] = sa.JSON().with_variant(JSONB(), "postgresql")

metadata = sa.MetaData()

documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("status", sa.String(16), nullable=False),  # queued, processing, done, failed
    sa.Column("priority", sa.String(16), nullable=False),  # standard, expedited
    sa.Column("policy_id", sa.String(200), nullable=True),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("pages", sa.Integer, nullable=True),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("due_at", UtcDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    # Who holds the job and until when; a lapsed lease means its worker is gone.
    sa.Column("lease_owner", sa.String(100), nullable=True),
    sa.Column("lease_expires_at", UtcDateTime, nullable=True),
    sa.Column("started_at", UtcDateTime, nullable=True),
    sa.Column("finished_at", UtcDateTime, nullable=True),
    # When the job was last handed to the broker; NULL: it must be (again).
    sa.Column("enqueued_at", UtcDateTime, nullable=True),
    sa.Column("error_code", sa.String(40), nullable=True),
    sa.Column("error_message", sa.Text, nullable=True),
    sa.Column("error_hint", sa.Text, nullable=True),
    sa.Column("determination", sa.String(40), nullable=True),
    sa.Column("report", JsonDoc, nullable=True),
    sa.Column("fhir", JsonDoc, nullable=True),
    sa.Index("ix_documents_status_due", "status", "due_at", "id"),
    sa.Index("ix_documents_due", "due_at", "id"),
    sa.Index("ix_documents_lease", "status", "lease_expires_at"),
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False),
    # SHA-256 of the token: tokens are 256 random bits, so a fast hash is enough
    # (no dictionary to guess from) and a stolen table gives nothing to present.
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("token_id", sa.Integer, nullable=True),
    sa.Column("actor", sa.String(100), nullable=False),  # the token's name
    sa.Column("action", sa.String(40), nullable=False),  # submit, read_report, read_fhir, read_page
    sa.Column("document_id", sa.String(32), nullable=True),
    sa.Column("page", sa.Integer, nullable=True),
    sa.Index("ix_audit_document", "document_id", "at"),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    # scrypt, salted: people choose passwords, so the hash must be slow (intake/auth.py).
    sa.Column("password_hash", sa.String(300), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("disabled_at", UtcDateTime, nullable=True),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # SHA-256 of the cookie's value: a copy of the table lets no one in.
    sa.Column("session_hash", sa.String(64), nullable=False, unique=True),
    # Who signed in: a user, or the holder of an API token (the token's name).
    sa.Column("user_id", sa.Integer, nullable=True),
    sa.Column("token_id", sa.Integer, nullable=True),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),  # sent back by every form
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("last_seen_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("ended_at", UtcDateTime, nullable=True),  # signed out
)

review_actions = sa.Table(
    "review_actions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("document_id", sa.String(32), nullable=False),
    # accept or override (a criterion), or outcome (the case's final outcome)
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("criterion_id", sa.String(100), nullable=True),
    # the criterion's status as the reviewer decided it, or the outcome's code
    sa.Column("status", sa.String(40), nullable=False),
    # the criterion's status in the report when the reviewer acted (the report is never changed)
    sa.Column("extracted", sa.String(40), nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("actor_kind", sa.String(16), nullable=False),  # user or token
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Index("ix_review_actions_document", "document_id", "id"),
)
