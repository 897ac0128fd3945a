"""Reviewers' accounts and sessions, on SQLite and PostgreSQL: only hashes kept, a wrong
password refused like an unknown name, repeated failures lock the name, and a session
ends for good when its owner signs out, is disabled, changes password or loses the token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from service_support import Servers, servers

from common.errors import BadParameter, TooManySignIns
from intake import auth
from intake.store import db
from intake.store.accounts import AccountStore
from intake.store.cases import CaseStore
from intake.store.tables import sessions, users

__all__ = ["servers"]

PASSWORD = "correct horse battery"
HOUR, IDLE = timedelta(hours=1), timedelta(minutes=30)


@pytest.fixture(params=["sqlite", "postgresql"])
def accounts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AccountStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'intake.sqlite3'}"
    else:
        found: Servers = request.getfixturevalue("servers")
        url = found.fresh_database()
    engine = db.make_engine(url)
    db.upgrade(engine)
    yield AccountStore(CaseStore(engine))
    engine.dispose()


def test_only_a_salted_slow_hash_of_the_password_is_kept(accounts: AccountStore) -> None:
    auth.create_user(accounts, "nurse.a", PASSWORD)
    auth.create_user(accounts, "nurse.b", PASSWORD)
    with accounts.cases.engine.connect() as conn:
        stored = [r.password_hash for r in conn.execute(sa.select(users))]
    assert all(h.startswith("scrypt$15$8$3$") and PASSWORD not in h for h in stored)
    assert stored[0] != stored[1]  # salted: the same password, two hashes


@pytest.mark.parametrize(
    ("name", "password", "why"),
    [
        ("nurse.a", "short", "at least 12"),
        ("averylongname", "AVERYLONGNAME", "not be the user's name"),
        ("", PASSWORD, "1 to 100 printable"),
        ("bad\tname", PASSWORD, "1 to 100 printable"),
    ],
)
def test_bad_names_and_passwords_are_refused(
    accounts: AccountStore, name: str, password: str, why: str
) -> None:
    with pytest.raises(BadParameter, match=why):
        auth.create_user(accounts, name, password)


def test_a_second_user_of_the_same_name_is_refused(accounts: AccountStore) -> None:
    auth.create_user(accounts, "nurse.a", PASSWORD)
    with pytest.raises(BadParameter, match="exists already"):
        auth.create_user(accounts, "nurse.a", PASSWORD + "x")


def test_sign_in_with_the_password_and_only_with_it(accounts: AccountStore) -> None:
    auth.create_user(accounts, "nurse.a", PASSWORD)
    found = auth.password_caller(accounts, "nurse.a", PASSWORD)
    assert found is not None and found.kind == "user" and found.name == "nurse.a"
    assert auth.password_caller(accounts, "nurse.a", PASSWORD.upper()) is None
    assert auth.password_caller(accounts, "nobody", PASSWORD) is None  # an unknown name: the same answer
    assert accounts.disable_user("nurse.a")
    assert auth.password_caller(accounts, "nurse.a", PASSWORD) is None


def test_repeated_failures_lock_the_name_and_only_that_name(
    accounts: AccountStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "FAILURES_ALLOWED", 2)  # the rule, with fewer slow hashes to wait for
    auth.create_user(accounts, "nurse.a", PASSWORD)
    auth.create_user(accounts, "nurse.b", PASSWORD)
    for _ in range(auth.FAILURES_ALLOWED):
        assert auth.password_caller(accounts, "nurse.a", "wrong password!") is None
    with pytest.raises(TooManySignIns):
        auth.password_caller(accounts, "nurse.a", PASSWORD)  # even the right one, for a while
    assert auth.password_caller(accounts, "nurse.b", PASSWORD) is not None


def _user_session(accounts: AccountStore) -> str:
    auth.create_user(accounts, "nurse.a", PASSWORD)
    caller = auth.password_caller(accounts, "nurse.a", PASSWORD)
    assert caller is not None
    return auth.open_session(accounts, caller, HOUR).cookie


def test_a_session_is_kept_as_the_hash_of_its_cookie(accounts: AccountStore) -> None:
    cookie = _user_session(accounts)
    with accounts.cases.engine.connect() as conn:
        kept = conn.execute(sa.select(sessions.c.session_hash)).scalar_one()
    assert kept == auth.hash_token(cookie) and cookie not in kept
    got = auth.session_of(accounts, cookie, IDLE)
    assert got is not None and got.caller.name == "nurse.a" and got.caller.kind == "user"
    assert auth.session_of(accounts, cookie + "x", IDLE) is None
    assert auth.session_of(accounts, None, IDLE) is None


def test_signing_out_ends_the_session_for_good(accounts: AccountStore) -> None:
    cookie = _user_session(accounts)
    assert auth.end_session(accounts, cookie)
    assert auth.session_of(accounts, cookie, IDLE) is None
    assert not auth.end_session(accounts, cookie)  # once


@pytest.mark.parametrize("how", ["disabled", "new password"])
def test_a_disabled_user_or_a_new_password_ends_the_sessions(accounts: AccountStore, how: str) -> None:
    cookie = _user_session(accounts)
    if how == "disabled":
        accounts.disable_user("nurse.a")
    else:
        accounts.set_password("nurse.a", auth.hash_password(PASSWORD + "!"))
    assert auth.session_of(accounts, cookie, IDLE) is None


def test_a_revoked_token_ends_the_sessions_signed_in_with_it(accounts: AccountStore) -> None:
    token = auth.create_token(accounts.cases, "desk-3")
    caller = auth.token_caller(accounts.cases, token)
    assert caller is not None and caller.kind == "token"
    cookie = auth.open_session(accounts, caller, HOUR).cookie
    assert auth.session_of(accounts, cookie, IDLE) is not None
    accounts.cases.revoke_tokens("desk-3")
    assert auth.session_of(accounts, cookie, IDLE) is None


def test_expired_and_idle_sessions_are_refused(accounts: AccountStore) -> None:
    from intake.store.cases import now_utc

    cookie = _user_session(accounts)

    with accounts.cases.transaction() as conn:
        conn.execute(sessions.update().values(last_seen_at=now_utc() - IDLE - timedelta(seconds=1)))
    assert auth.session_of(accounts, cookie, IDLE) is None  # idle too long
    with accounts.cases.transaction() as conn:
        conn.execute(
            sessions.update().values(last_seen_at=now_utc(), expires_at=now_utc() - timedelta(seconds=1))
        )
    assert auth.session_of(accounts, cookie, IDLE) is None  # past its lifetime


def test_sign_ins_and_outs_are_in_the_audit_log(accounts: AccountStore) -> None:
    cookie = _user_session(accounts)
    auth.password_caller(accounts, "nurse.a", "wrong password!")
    auth.end_session(accounts, cookie)
    actions = [r.action for r in accounts.cases.audit_trail()]
    assert actions[:3] == ["sign_out", "sign_in_failed", "sign_in"]
