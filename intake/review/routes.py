"""The reviewer page: sign-in, the queue, a case, its pages, the reviewer's actions.

Pages are rendered on the server (they work without script); review.js adds what
needs it: the page viewer beside the checklist, the queue's live refresh, copying
the request to the provider.  Every page, fragment and image needs a live session.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from common.errors import BadParameter, IntakeError, ReviewIncomplete, TooManySignIns
from common.review import OUTCOMES
from intake.api.deps import ServiceDep
from intake.auth import Caller, Session, end_session, open_session, password_caller, token_caller
from intake.review import views
from intake.review.web import (
    COOKIE,
    PREFIX,
    MaybeSessionDep,
    SessionDep,
    check_form,
    clear_cookie,
    render,
    safe_next,
    set_cookie,
)
from intake.reviews import case_review, parse_report, record_criterion, record_outcome
from intake.service import Service
from intake.store.cases import STATUSES, Status, now_utc

router = APIRouter(prefix=PREFIX, include_in_schema=False)

IdPath = Annotated[str, Path()]
PageNo = Annotated[int, Path(ge=1, le=10_000)]
QUEUE_PAGE = 100


def _audit(
    service: Service, caller: Caller, action: str, doc_id: str | None, page: int | None = None
) -> None:
    service.store.record(
        actor=caller.name, token_id=caller.token_id, action=action, document_id=doc_id, page=page
    )


# ------------------------------------------------------------------ sign-in


@router.get("")
async def root() -> RedirectResponse:
    return RedirectResponse(PREFIX + "/", status_code=307)


@router.get("/login")
async def login_page(session: MaybeSessionDep, next: str | None = None, signed_out: bool = False) -> Response:
    if session is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render("login.html", next=safe_next(next), signed_out=signed_out, session=None)


@router.post("/login")
async def login(
    request: Request,
    service: ServiceDep,
    token: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    target = safe_next(next)
    caller: Caller | None = None
    error = ""
    status = 401
    try:
        if token.strip():
            caller = await run_in_threadpool(token_caller, service.store, token)
            if caller is None:
                error = "That token is not known or was revoked."
        elif name.strip() and password:
            caller = await run_in_threadpool(password_caller, service.accounts, name, password)
            if caller is None:
                error = "The name or the password is wrong."
        else:
            error, status = "Give a name and a password, or a token.", 400
    except TooManySignIns as err:
        error, status = f"{err.message[:1].upper()}{err.message[1:]} {err.hint}", err.http_status
    if caller is None:
        return render(
            "login.html", status_code=status, next=target, error=error, name=name.strip(), session=None
        )
    lifetime = timedelta(hours=service.config.session_hours)
    made = await run_in_threadpool(open_session, service.accounts, caller, lifetime)
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, request, service, made.cookie)
    return response


@router.post("/logout")
async def logout(
    request: Request, service: ServiceDep, session: SessionDep, csrf: Annotated[str, Form()] = ""
) -> Response:
    check_form(session, csrf)
    await run_in_threadpool(end_session, service.accounts, request.cookies.get(COOKIE))
    response = RedirectResponse(f"{PREFIX}/login?signed_out=1", status_code=303)
    clear_cookie(response)
    return response


# ------------------------------------------------------------------ the queue


def _queue(
    service: Service, status: str | None, determination: str | None, cursor: str | None
) -> dict[str, Any]:
    if status and status not in STATUSES:
        raise BadParameter(f"status must be one of {', '.join(STATUSES)}.")
    if determination and determination not in views.DETERMINATION_LABELS:
        raise BadParameter(f"determination must be one of {', '.join(views.DETERMINATION_LABELS)}.")
    chosen: Status | None = next((s for s in STATUSES if s == status), None)
    cases, next_cursor = service.store.list_cases(
        status=chosen, determination=determination or None, limit=QUEUE_PAGE, cursor=cursor or None
    )
    outcomes = service.reviews.outcomes([c.id for c in cases])
    now = now_utc()
    rows = []
    for c in cases:
        decided = outcomes.get(c.id)
        overdue, due_text = views.due_in(c.due_at, now)
        rows.append(
            {
                "case": c,
                "overdue": overdue and decided is None,
                "due_text": due_text if decided is None else "decided",
                "outcome": OUTCOMES[decided.outcome] if decided and decided.outcome else None,
            }
        )
    return {
        "rows": rows,
        "next_cursor": next_cursor,
        "status": status or "",
        "determination": determination or "",
        "cursor": cursor or "",
        "counts": service.store.counts(),
    }


@router.get("/")
async def queue(
    service: ServiceDep,
    session: SessionDep,
    status: str | None = None,
    determination: str | None = None,
    cursor: str | None = None,
) -> Response:
    data = await run_in_threadpool(_queue, service, status, determination, cursor)
    return render("queue.html", session=session, **data)


@router.get("/queue/rows")
async def queue_rows(
    service: ServiceDep,
    session: SessionDep,
    status: str | None = None,
    determination: str | None = None,
    cursor: str | None = None,
) -> Response:
    """The queue's rows alone: what review.js fetches to show new cases without a reload."""
    data = await run_in_threadpool(_queue, service, status, determination, cursor)
    return render("_queue_rows.html", session=session, **data)


# ------------------------------------------------------------------ a case


def _case_context(service: Service, doc_id: str, session: Session) -> dict[str, Any]:
    case = service.case(doc_id)
    context: dict[str, Any] = {"case": case, "session": session, "view": None, "outcomes": OUTCOMES}
    if case.status != "done":
        return context
    raw = service.report(doc_id)
    if raw is None:
        return context
    report = parse_report(raw)
    review = case_review(service, doc_id, report)
    context["view"] = views.build_case_view(
        case,
        report,
        review,
        low_confidence=service.settings.low_confidence,
        policy_dirs=service.settings.policy_dirs,
    )
    _audit(service, session.caller, "read_report", doc_id)
    return context


@router.get("/cases/{doc_id}")
async def case_page(doc_id: IdPath, service: ServiceDep, session: SessionDep) -> Response:
    context = await run_in_threadpool(_case_context, service, doc_id, session)
    return render("case.html", **context)


@router.post("/cases/{doc_id}/criteria/{criterion_id}")
async def review_criterion(
    doc_id: IdPath,
    criterion_id: str,
    service: ServiceDep,
    session: SessionDep,
    action: Annotated[str, Form()] = "",
    status: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_form(session, csrf)
    try:
        await run_in_threadpool(
            lambda: record_criterion(
                service,
                doc_id,
                criterion_id,
                action=action,
                status=status or None,
                reason=reason,
                caller=session.caller,
            )
        )
    except (BadParameter, ReviewIncomplete) as err:
        context = await run_in_threadpool(_case_context, service, doc_id, session)
        context["form_error"] = {
            "criterion": criterion_id,
            "message": err.message,
            "status": status,
            "reason": reason,
        }
        return render("case.html", status_code=err.http_status, **context)
    return RedirectResponse(f"{PREFIX}/cases/{doc_id}#criterion-{criterion_id}", status_code=303)


@router.post("/cases/{doc_id}/outcome")
async def review_outcome(
    doc_id: IdPath,
    service: ServiceDep,
    session: SessionDep,
    outcome: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_form(session, csrf)
    try:
        await run_in_threadpool(
            lambda: record_outcome(service, doc_id, outcome=outcome, reason=reason, caller=session.caller)
        )
    except (BadParameter, ReviewIncomplete) as err:
        context = await run_in_threadpool(_case_context, service, doc_id, session)
        context["outcome_error"] = {"message": err.message, "outcome": outcome, "reason": reason}
        return render("case.html", status_code=err.http_status, **context)
    return RedirectResponse(f"{PREFIX}/cases/{doc_id}#outcome", status_code=303)


@router.get("/cases/{doc_id}/request")
async def request_page(doc_id: IdPath, service: ServiceDep, session: SessionDep) -> Response:
    """The request to the provider on a page of its own, to print."""
    context = await run_in_threadpool(_case_context, service, doc_id, session)
    if context["view"] is None:
        raise BadParameter("the document is not processed yet; there is nothing to request.")
    return render("request.html", **context)


@router.get("/cases/{doc_id}/pages/{number}")
async def page_view(
    doc_id: IdPath,
    number: PageNo,
    service: ServiceDep,
    session: SessionDep,
    box: Annotated[str | None, Query(max_length=100)] = None,
    quote: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """One page with a quote's box drawn on it: where a quote leads without script."""
    context = await run_in_threadpool(_case_context, service, doc_id, session)
    view = context["view"]
    pages = view.report.document.pages if view else (context["case"].pages or 0)
    if not 1 <= number <= max(1, pages):
        raise BadParameter(f"the document has {pages} page(s); there is no page {number}.")
    return render("page.html", number=number, box=_box(box), quote=quote or "", **context)


def _box(value: str | None) -> tuple[float, float, float, float] | None:
    if not value:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in value.split(","))
    except ValueError:
        return None
    if not (0 <= x0 <= x1 <= 1 and 0 <= y0 <= y1 <= 1):
        return None
    return (x0, y0, x1 - x0, y1 - y0)


@router.get("/cases/{doc_id}/pages/{number}/image")
async def page_image(
    request: Request, doc_id: IdPath, number: PageNo, service: ServiceDep, session: SessionDep
) -> Response:
    """The page as received (PNG).  The browser may keep it, but must ask again each time
    it is shown (no-cache): after sign-out the answer is 401, not the picture."""
    case = await run_in_threadpool(service.case, doc_id)
    etag = '"' + hashlib.sha256(f"{case.sha256}:{number}".encode()).hexdigest()[:32] + '"'
    headers = {"Cache-Control": "private, no-cache", "ETag": etag, "X-Content-Type-Options": "nosniff"}
    await run_in_threadpool(_audit, service, session.caller, "read_page", doc_id, number)
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    png = await run_in_threadpool(service.page_png, doc_id, number)
    return Response(png, media_type="image/png", headers=headers)


@router.get("/cases/{doc_id}/report.json")
async def report_json(doc_id: IdPath, service: ServiceDep, session: SessionDep) -> JSONResponse:
    """The case as the API gives it: the report as extracted, the review beside it."""

    def build() -> dict[str, Any]:
        case = service.case(doc_id)
        raw = service.report(doc_id) if case.status == "done" else None
        review = None
        if raw is not None:
            review = case_review(service, doc_id, parse_report(raw)).model_dump(mode="json")
            _audit(service, session.caller, "read_report", doc_id)
        from intake.api.schemas import DocumentSummary

        return {
            **DocumentSummary.of(case).model_dump(mode="json"),
            "finished_at": case.finished_at.isoformat() if case.finished_at else None,
            "report": raw,
            "review": review,
        }

    body = await run_in_threadpool(build)
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.get("/cases/{doc_id}/fhir.json")
async def fhir_json(doc_id: IdPath, service: ServiceDep, session: SessionDep) -> JSONResponse:
    bundle = await run_in_threadpool(service.fhir, doc_id)
    await run_in_threadpool(_audit, service, session.caller, "read_fhir", doc_id)
    return JSONResponse(bundle, media_type="application/fhir+json", headers={"Cache-Control": "no-store"})


def error_page(request: Request, err: IntakeError) -> Response:
    """An error on the reviewer page, as a page (or the sign-in page when signed out)."""
    from intake.review.web import SignInRequired

    if isinstance(err, SignInRequired):
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        else:  # a form sent after the session ended: back to its case, not to a POST-only path
            found = re.match(rf"^{PREFIX}/cases/[0-9a-f]{{32}}", request.url.path)
            target = found.group(0) if found else PREFIX + "/"
        return RedirectResponse(f"{PREFIX}/login?next={_q(safe_next(target))}", status_code=303)
    return render("error.html", status_code=err.http_status, error=err, session=None)


def _q(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="/")
