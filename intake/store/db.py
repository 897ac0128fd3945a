"""The database engine: SQLite under the data folder by default, PostgreSQL when
``INTAKE_DATABASE_URL`` is set; the schema is Alembic's, on both.
"""

from __future__ import annotations

import logging
from importlib import resources
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from common.errors import ServiceUnavailable

log = logging.getLogger(__name__)

# Any fixed number: PostgreSQL's advisory lock that lets one process migrate at a time
# when an API and several workers start together.
_MIGRATION_LOCK = 7_420_311


def make_engine(url: str, *, pooled: bool = True) -> sa.Engine:
    """``pooled=False``: a connection per use, none kept open (for a process that forks)."""
    extra: dict[str, Any] = {} if pooled else {"poolclass": sa.pool.NullPool}
    if url.startswith("sqlite"):
        return _sqlite_engine(url, extra)
    if pooled:
        extra |= {"pool_size": 10, "max_overflow": 20}
    return sa.create_engine(url, pool_pre_ping=True, **extra)


def _sqlite_engine(url: str, extra: dict[str, Any]) -> sa.Engine:
    # Several processes (the API, its workers, a folder watcher) share the file: WAL
    # lets readers run beside the one writer, and a busy writer is waited for.
    engine = sa.create_engine(url, connect_args={"timeout": 30.0, "check_same_thread": False}, **extra)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy say when transactions begin (pysqlite's own begin is deferred
        # and cannot be made IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before the API answers 202 (power loss loses nothing).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # A write transaction takes the write lock when it starts, so a read-then-update
        # (claiming a job) cannot interleave with another writer's.
        immediate = conn.get_execution_options().get("immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("intake.store") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: sa.Engine) -> None:
    """Bring the schema to the newest migration; safe when several processes start at once."""
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK})
            try:
                cfg = alembic_config(str(engine.url))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()
            finally:
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK})
                    conn.commit()
    except sa.exc.OperationalError as err:
        raise ServiceUnavailable(f"the database cannot be reached: {err.orig}") from err


def ping(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
