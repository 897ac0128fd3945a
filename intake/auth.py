"""API tokens: shown once when made, kept only as their hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from common.errors import BadParameter, NotAuthenticated
from intake.store.cases import CaseStore

PREFIX = "pfi_"  # a recognisable prefix lets secret scanners find a leaked token


@dataclass(frozen=True)
class Caller:
    token_id: int
    name: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(store: CaseStore, name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100 or not name.isprintable():
        raise BadParameter("a token's name must be 1 to 100 printable characters.")
    token = PREFIX + secrets.token_urlsafe(32)
    store.add_token(name, hash_token(token))
    return token


def authenticate(store: CaseStore, authorization: str | None) -> Caller:
    if not authorization:
        raise NotAuthenticated("this endpoint needs a token.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("the Authorization header is not `Bearer TOKEN`.")
    found = store.find_token(hash_token(token.strip()))
    if found is None:
        raise NotAuthenticated("the token is not known or was revoked.")
    return Caller(token_id=found.id, name=found.name)
