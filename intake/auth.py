"""Who is calling: API tokens, reviewers' accounts and their sign-in sessions.

Tokens are shown once when made and kept only as their hash.  Passwords are kept
as salted scrypt hashes (the standard library's; a slow, memory-hard hash, since
people choose passwords and a stolen table must not give them away).  A session
is a server-side row named by the SHA-256 of its cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from common.errors import BadParameter, NotAuthenticated, TooManySignIns
from intake.store.accounts import AccountStore, SessionRow
from intake.store.cases import CaseStore, now_utc

PREFIX = "pfi_"  # a recognisable prefix lets secret scanners find a leaked token

# scrypt's cost: N=2**15, r=8, p=3, one of the settings OWASP's Password Storage Cheat Sheet
# lists as its minimum (equivalent to N=2**17, r=8, p=1): 32 MiB, not 128, per sign-in on a
# shared machine, and about 0.3 to 0.8 s.
_SCRYPT_LOG_N, _SCRYPT_R, _SCRYPT_P = 15, 8, 3
_SCRYPT_MAXMEM = 64 * 1024 * 1024
MIN_PASSWORD = 12
# Five wrong passwords for one name in a quarter of an hour, and that name waits.
FAILURES_ALLOWED, FAILURE_WINDOW = 5, timedelta(minutes=15)


@dataclass(frozen=True)
class Caller:
    token_id: int | None
    name: str
    kind: Literal["token", "user"] = "token"
    user_id: int | None = None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_name(name: str, what: str) -> str:
    name = name.strip()
    if not name or len(name) > 100 or not name.isprintable():
        raise BadParameter(f"a {what}'s name must be 1 to 100 printable characters.")
    return name


def create_token(store: CaseStore, name: str) -> str:
    name = _check_name(name, "token")
    token = PREFIX + secrets.token_urlsafe(32)
    store.add_token(name, hash_token(token))
    return token


def token_caller(store: CaseStore, token: str) -> Caller | None:
    found = store.find_token(hash_token(token.strip())) if token.strip() else None
    return Caller(token_id=found.id, name=found.name) if found else None


def authenticate(store: CaseStore, authorization: str | None) -> Caller:
    if not authorization:
        raise NotAuthenticated("this endpoint needs a token.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("the Authorization header is not `Bearer TOKEN`.")
    found = token_caller(store, token)
    if found is None:
        raise NotAuthenticated("the token is not known or was revoked.")
    return found


# ------------------------------------------------------------------ passwords


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=2**_SCRYPT_LOG_N, r=_SCRYPT_R, p=_SCRYPT_P, maxmem=_SCRYPT_MAXMEM
    )
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_LOG_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, log_n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=2 ** int(log_n),
            r=int(r),
            p=int(p),
            maxmem=_SCRYPT_MAXMEM,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


# A hash to check against when the name is unknown, so a wrong name takes as long as a
# wrong password and the answer's timing does not tell which names exist.
_DECOY: str | None = None


def _decoy() -> str:
    global _DECOY
    if _DECOY is None:
        _DECOY = hash_password(secrets.token_urlsafe(16))
    return _DECOY


def check_new_password(name: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise BadParameter(f"a password must have at least {MIN_PASSWORD} characters.")
    if password.strip().lower() == name.strip().lower():
        raise BadParameter("a password must not be the user's name.")


def create_user(accounts: AccountStore, name: str, password: str) -> int:
    name = _check_name(name, "user")
    check_new_password(name, password)
    try:
        return accounts.add_user(name, hash_password(password))
    except KeyError:
        raise BadParameter(
            f"a user named {name!r} exists already.",
            hint="Choose another name, or `intake user password NAME`.",
        ) from None


def password_caller(accounts: AccountStore, name: str, password: str) -> Caller | None:
    """The user, if the name and password match an enabled account; None otherwise.
    Raises TooManySignIns while the name is locked after repeated failures."""
    name = name.strip()
    if accounts.recent_failures(name, now_utc() - FAILURE_WINDOW) >= FAILURES_ALLOWED:
        raise TooManySignIns(
            f"too many failed sign-ins for this name in the last {FAILURE_WINDOW.seconds // 60} minutes."
        )
    user = accounts.user(name) if name else None
    ok = verify_password(password, user.password_hash if user else _decoy())
    if user is None or not ok or user.disabled_at is not None:
        accounts.cases.record(
            actor=name[:100] or "-", token_id=None, action="sign_in_failed", document_id=None
        )
        return None
    return Caller(token_id=None, name=user.name, kind="user", user_id=user.id)


# ------------------------------------------------------------------ sessions


@dataclass(frozen=True)
class NewSession:
    cookie: str  # the cookie's value; only its hash is kept
    csrf: str


def open_session(accounts: AccountStore, caller: Caller, lifetime: timedelta) -> NewSession:
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    accounts.open_session(
        hash_token(cookie),
        actor=caller.name,
        csrf=csrf,
        lifetime=lifetime,
        user_id=caller.user_id,
        token_id=caller.token_id if caller.kind == "token" else None,
    )
    return NewSession(cookie=cookie, csrf=csrf)


@dataclass(frozen=True)
class Session:
    caller: Caller
    csrf: str


def session_of(accounts: AccountStore, cookie: str | None, idle: timedelta) -> Session | None:
    if not cookie:
        return None
    row: SessionRow | None = accounts.live_session(hash_token(cookie), idle=idle)
    if row is None:
        return None
    kind: Literal["token", "user"] = "user" if row.user_id is not None else "token"
    return Session(Caller(token_id=row.token_id, name=row.actor, kind=kind, user_id=row.user_id), row.csrf)


def end_session(accounts: AccountStore, cookie: str | None) -> bool:
    return bool(cookie) and accounts.end_session(hash_token(cookie or "")) is not None
