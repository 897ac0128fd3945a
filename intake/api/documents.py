"""``/v1/documents``: upload a fax, follow its job, read its report, FHIR and pages."""

from __future__ import annotations

from typing import Annotated, Any, get_args

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from common.errors import BadParameter, NoFileInRequest
from common.models import Determination
from common.review import CaseReview
from intake.api.deps import CallerDep, ServiceDep
from intake.api.errors import error_response
from intake.api.schemas import Accepted, Document, DocumentList, DocumentSummary, ErrorResponse
from intake.auth import Caller
from intake.service import Service, check_policy, parse_priority
from intake.store.blobs import Incoming
from intake.store.cases import STATUSES, Status

router = APIRouter(prefix="/v1/documents", tags=["documents"])

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "the document: multipart field `file` (optional field `priority`), "
        "or the raw bytes with their content type",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "priority": {"type": "string", "enum": ["standard", "expedited"]},
                    },
                }
            },
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            "image/tiff": {"schema": {"type": "string", "format": "binary"}},
            "text/plain": {"schema": {"type": "string"}},
        },
    }
}

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": what}
    for code, what in [
        (401, "no token, or an unknown one"),
        (404, "no such document"),
        (413, "over the upload limit"),
        (415, "not a document type the service reads"),
        (422, "a document that can never be read (kept, with its case id), or a bad parameter"),
    ]
}

IdPath = Annotated[str, Path(description="the document's id, as POST returned it")]
DETERMINATIONS: tuple[str, ...] = get_args(Determination)


async def _read_body(request: Request, incoming: Incoming) -> str | None:
    """Stream the body into ``incoming``; returns the multipart ``priority`` field, if any."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/x-www-form-urlencoded"):
        # A browser form without enctype="multipart/form-data" sends the file's name, not the file.
        raise NoFileInRequest("a URL-encoded form carries no file.")
    if ctype.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        try:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise NoFileInRequest("the multipart body has no file field named `file`.")
            await run_in_threadpool(incoming.copy_from, upload.file)
            value = form.get("priority")
            return value if isinstance(value, str) else None
        finally:
            await form.close()
    async for chunk in request.stream():
        if chunk:
            incoming.write(chunk)
    if incoming.size == 0:
        raise NoFileInRequest("the request has no body.")
    return None


@router.post(
    "",
    status_code=202,
    summary="submit a document",
    description="Answers at once: 202 with a new case, 200 with the existing case for bytes "
    "already received (never a second job), or the error's code in a 4xx for a file that can "
    "never be read (the file is kept as a failed case).",
    response_model=Accepted,
    responses={200: {"model": Accepted, "description": "these bytes were received before"}, **_ERRORS},
    openapi_extra=_UPLOAD_BODY,
)
async def submit(
    request: Request,
    service: ServiceDep,
    caller: CallerDep,
    priority: Annotated[str | None, Query(description="standard (7 days) or expedited (72 hours)")] = None,
    policy: Annotated[str | None, Query(description="a policy id; default: by date of service")] = None,
) -> Response:
    if priority is not None:
        parse_priority(priority)
    policy_id = check_policy(policy)
    with service.blobs.receive() as incoming:
        field = await _read_body(request, incoming)
        chosen = parse_priority(priority or field)
        accepted = await run_in_threadpool(
            service.accept,
            incoming,
            priority=chosen,
            policy_id=policy_id,
            submitted_by=(caller.name, caller.token_id),
        )
    case = accepted.case
    body = {"id": case.id, "sha256": case.sha256, "status": case.status}
    if accepted.rejected is not None:
        return error_response(accepted.rejected, **body)
    return JSONResponse(status_code=202 if accepted.created else 200, content=body)


@router.get("", summary="the queue, soonest due first", response_model=DocumentList, responses=_ERRORS)
async def list_documents(
    service: ServiceDep,
    _caller: CallerDep,
    status: Annotated[str | None, Query(description=" | ".join(STATUSES))] = None,
    determination: Annotated[str | None, Query(description=" | ".join(DETERMINATIONS))] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the page before")] = None,
) -> DocumentList:
    if status is not None and status not in STATUSES:
        raise BadParameter(f"status must be one of {', '.join(STATUSES)}; got {status[:40]!r}.")
    if determination is not None and determination not in DETERMINATIONS:
        raise BadParameter(
            f"determination must be one of {', '.join(DETERMINATIONS)}; got {determination[:40]!r}."
        )
    chosen: Status | None = next((s for s in STATUSES if s == status), None)
    items, next_cursor = await run_in_threadpool(
        service.store.list_cases, status=chosen, determination=determination, limit=limit, cursor=cursor
    )
    return DocumentList(items=[DocumentSummary.of(c) for c in items], next_cursor=next_cursor)


@router.get("/{doc_id}", summary="a document's job and, when done, its report", responses=_ERRORS)
async def get_document(doc_id: IdPath, service: ServiceDep, caller: CallerDep) -> Document:
    case = await run_in_threadpool(service.case, doc_id)
    report = await run_in_threadpool(service.report, doc_id) if case.status == "done" else None
    review = None
    if report is not None:
        await _audit(service, caller, "read_report", case.id)
        order = [str(c.get("id")) for c in report.get("criteria", [])]
        review = await run_in_threadpool(lambda: CaseReview.of(service.reviews.of(case.id), order))
    summary = DocumentSummary.of(case)
    return Document(**summary.model_dump(), finished_at=case.finished_at, report=report, review=review)


@router.get("/{doc_id}/fhir", summary="the report as a FHIR R4 Bundle", responses=_ERRORS)
async def get_fhir(doc_id: IdPath, service: ServiceDep, caller: CallerDep) -> JSONResponse:
    bundle = await run_in_threadpool(service.fhir, doc_id)
    await _audit(service, caller, "read_fhir", doc_id)
    return JSONResponse(bundle, media_type="application/fhir+json")


@router.get(
    "/{doc_id}/pages/{number}",
    summary="a page as received, as PNG (report boxes are 0..1 of this image, origin top-left)",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **_ERRORS},
)
async def get_page(
    doc_id: IdPath, number: Annotated[int, Path(ge=1, le=10_000)], service: ServiceDep, caller: CallerDep
) -> Response:
    png = await run_in_threadpool(service.page_png, doc_id, number)
    await _audit(service, caller, "read_page", doc_id, page=number)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


async def _audit(service: Service, caller: Caller, action: str, doc_id: str, page: int | None = None) -> None:
    await run_in_threadpool(
        service.store.record,
        actor=caller.name,
        token_id=caller.token_id,
        action=action,
        document_id=doc_id,
        page=page,
    )
