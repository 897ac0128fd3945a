"""The reviewer's actions over the API (the reviewer page records the same through its forms)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from common.review import CaseReview, ReviewAction
from intake.api.deps import CallerDep, ServiceDep
from intake.api.documents import _ERRORS, IdPath
from intake.api.schemas import CriterionReviewIn, ErrorResponse, OutcomeIn
from intake.reviews import case_review, record_criterion, record_outcome, stored_report

router = APIRouter(prefix="/v1/documents", tags=["review"])

_REVIEW_ERRORS = {
    **_ERRORS,
    409: {"model": ErrorResponse, "description": "not done yet, or not ready to approve"},
}


@router.get("/{doc_id}/review", summary="the reviewer's actions on a case", responses=_REVIEW_ERRORS)
async def get_review(doc_id: IdPath, service: ServiceDep, _caller: CallerDep) -> CaseReview:
    report = await run_in_threadpool(stored_report, service, doc_id)
    return await run_in_threadpool(case_review, service, doc_id, report)


@router.post(
    "/{doc_id}/criteria/{criterion_id}/review",
    status_code=201,
    summary="accept or override a criterion (an override needs a status and a reason)",
    responses=_REVIEW_ERRORS,
)
async def review_criterion(
    doc_id: IdPath, criterion_id: str, body: CriterionReviewIn, service: ServiceDep, caller: CallerDep
) -> ReviewAction:
    return await run_in_threadpool(
        lambda: record_criterion(
            service,
            doc_id,
            criterion_id,
            action=body.action,
            status=body.status,
            reason=body.reason,
            caller=caller,
        )
    )


@router.post(
    "/{doc_id}/outcome",
    status_code=201,
    summary="record the case's final outcome (approval needs every criterion reviewed and met)",
    responses=_REVIEW_ERRORS,
)
async def review_outcome(
    doc_id: IdPath, body: OutcomeIn, service: ServiceDep, caller: CallerDep
) -> ReviewAction:
    return await run_in_threadpool(
        lambda: record_outcome(service, doc_id, outcome=body.outcome, reason=body.reason, caller=caller)
    )
