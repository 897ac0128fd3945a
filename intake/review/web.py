"""The reviewer page's plumbing: templates, the session cookie, the form check, headers."""

from __future__ import annotations

import hmac
from datetime import timedelta
from importlib import resources
from typing import Annotated, Any
from urllib.parse import quote as urlquote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from common.errors import Forbidden, NotAuthenticated
from intake.api.deps import ServiceDep
from intake.auth import Session, session_of
from intake.review import views
from intake.service import Service

COOKIE = "intake_review"
PREFIX = "/review"

# The page loads nothing from anywhere else, runs no inline script or style, and cannot be
# framed; a quote's highlight and the chart are SVG attributes, not inline styles.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class SignInRequired(NotAuthenticated):
    """No live session: a page answers with the sign-in page, anything else with 401."""


def _template_dir() -> str:
    return str(resources.files("intake.review") / "templates")


_ENV: Environment | None = None


def environment() -> Environment:
    global _ENV
    if _ENV is None:
        env = Environment(
            loader=FileSystemLoader(_template_dir()),
            autoescape=select_autoescape(["html", "svg"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["when"] = views.fmt_time
        env.filters["status"] = views.status_label
        env.filters["iso"] = lambda at: at.isoformat(timespec="seconds") if at else ""
        env.filters["urlq"] = lambda s: urlquote(str(s), safe="")
        env.globals["DETERMINATIONS"] = views.DETERMINATION_LABELS
        env.globals["CASE_STATUSES"] = views.CASE_STATUS_LABELS
        env.globals["due_in"] = views.due_in
        env.globals["PREFIX"] = PREFIX
        _ENV = env
    return _ENV


def render(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = environment().get_template(template).render(**context)
    return HTMLResponse(
        html, status_code=status_code, headers={"Cache-Control": "no-store", **SECURITY_HEADERS}
    )


def idle(service: Service) -> timedelta:
    return timedelta(minutes=service.config.session_idle_minutes)


async def optional_session(request: Request, service: ServiceDep) -> Session | None:
    return await run_in_threadpool(session_of, service.accounts, request.cookies.get(COOKIE), idle(service))


async def require_session(request: Request, service: ServiceDep) -> Session:
    found = await optional_session(request, service)
    if found is None:
        raise SignInRequired("sign in to see this page.", hint=f"Sign in at {PREFIX}/login.")
    return found


SessionDep = Annotated[Session, Depends(require_session)]
MaybeSessionDep = Annotated[Session | None, Depends(optional_session)]


def check_form(session: Session, given: str | None) -> None:
    """Every form carries the session's check value: a form another site makes cannot."""
    if not given or not hmac.compare_digest(given.encode(), session.csrf.encode()):
        raise Forbidden("the form's check value is missing or out of date.")


def safe_next(target: str | None) -> str:
    """Only a path of this page: never another site (an open redirect)."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return PREFIX + "/"


def set_cookie(response: Response, request: Request, service: Service, value: str) -> None:
    secure = service.config.cookie_secure
    if secure is None:
        secure = request.url.scheme == "https"
    # No Max-Age: the cookie goes when the browser closes; the server ends the session anyway.
    response.set_cookie(COOKIE, value, httponly=True, samesite="strict", secure=secure, path=PREFIX)


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="strict")
