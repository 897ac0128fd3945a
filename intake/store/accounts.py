"""Reviewers' accounts and sign-in sessions.

A session is a row: signing out ends it on the server, so a copied cookie stops
working at once (a signed cookie would stay valid until it expired).  Only hashes
are kept: of the cookie's value, and of each password (intake/auth.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from intake.store.cases import CaseStore, now_utc
from intake.store.tables import audit, sessions, tokens, users


@dataclass(frozen=True)
class UserRow:
    id: int
    name: str
    password_hash: str
    created_at: datetime
    disabled_at: datetime | None


@dataclass(frozen=True)
class SessionRow:
    id: int
    user_id: int | None
    token_id: int | None
    actor: str
    csrf: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime

    @property
    def kind(self) -> str:
        return "user" if self.user_id is not None else "token"


def _user(row: sa.Row[Any]) -> UserRow:
    return UserRow(row.id, row.name, row.password_hash, row.created_at, row.disabled_at)


class AccountStore:
    def __init__(self, cases: CaseStore) -> None:
        self.cases = cases

    # ------------------------------------------------------------------ users

    def add_user(self, name: str, password_hash: str) -> int:
        with self.cases.transaction() as conn:
            if conn.execute(sa.select(users.c.id).where(users.c.name == name)).first() is not None:
                raise KeyError(name)
            result = conn.execute(
                users.insert().values(name=name, password_hash=password_hash, created_at=now_utc())
            )
            key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def user(self, name: str) -> UserRow | None:
        with self.cases.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.name == name)).first()
        return _user(row) if row else None

    def list_users(self) -> list[UserRow]:
        with self.cases.engine.connect() as conn:
            return [_user(r) for r in conn.execute(sa.select(users).order_by(users.c.name))]

    def set_password(self, name: str, password_hash: str) -> bool:
        with self.cases.transaction() as conn:
            result = conn.execute(
                users.update().where(users.c.name == name).values(password_hash=password_hash)
            )
            if result.rowcount:
                self._end_sessions(conn, sessions.c.user_id == _user_id(conn, name))
        return result.rowcount == 1

    def disable_user(self, name: str) -> bool:
        """The user can no longer sign in, and their sessions end now."""
        with self.cases.transaction() as conn:
            result = conn.execute(
                users.update()
                .where(users.c.name == name, users.c.disabled_at.is_(None))
                .values(disabled_at=now_utc())
            )
            if result.rowcount:
                self._end_sessions(conn, sessions.c.user_id == _user_id(conn, name))
        return result.rowcount == 1

    def recent_failures(self, name: str, since: datetime) -> int:
        """Failed sign-ins under this name since then (the audit log keeps them)."""
        with self.cases.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).where(
                        audit.c.action == "sign_in_failed", audit.c.actor == name[:100], audit.c.at >= since
                    )
                ).scalar_one()
            )

    # ------------------------------------------------------------------ sessions

    def open_session(
        self,
        session_hash: str,
        *,
        actor: str,
        csrf: str,
        lifetime: timedelta,
        user_id: int | None = None,
        token_id: int | None = None,
    ) -> None:
        now = now_utc()
        with self.cases.transaction() as conn:
            conn.execute(
                sessions.insert().values(
                    session_hash=session_hash,
                    user_id=user_id,
                    token_id=token_id,
                    actor=actor,
                    csrf=csrf,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + lifetime,
                )
            )
            conn.execute(
                audit.insert().values(
                    at=now, actor=actor, token_id=token_id, action="sign_in", document_id=None
                )
            )

    def live_session(self, session_hash: str, *, idle: timedelta) -> SessionRow | None:
        """The session, if it has not ended, expired or sat idle too long, and whoever it
        belongs to is still let in (the user not disabled, the token not revoked)."""
        now = now_utc()
        query = (
            sa.select(sessions)
            .outerjoin(users, users.c.id == sessions.c.user_id)
            .outerjoin(tokens, tokens.c.id == sessions.c.token_id)
            .where(
                sessions.c.session_hash == session_hash,
                sessions.c.ended_at.is_(None),
                sessions.c.expires_at > now,
                sessions.c.last_seen_at > now - idle,
                sa.or_(
                    sa.and_(
                        sessions.c.user_id.is_not(None),
                        users.c.id.is_not(None),
                        users.c.disabled_at.is_(None),
                    ),
                    sa.and_(
                        sessions.c.token_id.is_not(None),
                        tokens.c.id.is_not(None),
                        tokens.c.revoked_at.is_(None),
                    ),
                ),
            )
        )
        with self.cases.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        found = SessionRow(
            row.id,
            row.user_id,
            row.token_id,
            row.actor,
            row.csrf,
            row.created_at,
            row.last_seen_at,
            row.expires_at,
        )
        # One write a minute at most keeps the idle clock honest without a write per image.
        if now - found.last_seen_at > timedelta(seconds=60):
            with self.cases.transaction() as conn:
                conn.execute(sessions.update().where(sessions.c.id == found.id).values(last_seen_at=now))
        return found

    def end_session(self, session_hash: str) -> SessionRow | None:
        now = now_utc()
        with self.cases.transaction() as conn:
            row = conn.execute(
                sa.select(sessions).where(
                    sessions.c.session_hash == session_hash, sessions.c.ended_at.is_(None)
                )
            ).first()
            if row is None:
                return None
            conn.execute(sessions.update().where(sessions.c.id == row.id).values(ended_at=now))
            conn.execute(
                audit.insert().values(
                    at=now, actor=row.actor, token_id=row.token_id, action="sign_out", document_id=None
                )
            )
        return SessionRow(
            row.id,
            row.user_id,
            row.token_id,
            row.actor,
            row.csrf,
            row.created_at,
            row.last_seen_at,
            row.expires_at,
        )

    @staticmethod
    def _end_sessions(conn: sa.Connection, where: sa.ColumnElement[bool]) -> None:
        conn.execute(sessions.update().where(where, sessions.c.ended_at.is_(None)).values(ended_at=now_utc()))


def _user_id(conn: sa.Connection, name: str) -> int | None:
    return conn.execute(sa.select(users.c.id).where(users.c.name == name)).scalar()
