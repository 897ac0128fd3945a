"""What the API sends, apart from the internal models (the report is served as
the composer wrote it, ``Report.model_dump(mode="json")``, never re-modelled here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from common.review import CaseReview
from intake.store.cases import Case, JobError, Priority, Status


class ErrorOut(BaseModel):
    code: str = Field(description="stable error code, e.g. E105_CORRUPT")
    message: str = Field(description="what was wrong")
    hint: str = Field(description="what to do")

    @staticmethod
    def of(err: JobError | None) -> ErrorOut | None:
        return ErrorOut(code=err.code, message=err.message, hint=err.hint) if err else None


class ErrorResponse(BaseModel):
    error: ErrorOut
    id: str | None = Field(default=None, description="the case kept for a rejected upload")
    sha256: str | None = None
    status: Status | None = None


class Accepted(BaseModel):
    id: str
    sha256: str
    status: Status


class DocumentSummary(BaseModel):
    id: str
    sha256: str
    status: Status
    priority: Priority
    received_at: datetime
    due_at: datetime = Field(
        description="decision due: 7 days after receipt (standard), 72 hours (expedited)"
    )
    attempts: int
    pages: int | None
    determination: str | None
    error: ErrorOut | None

    @classmethod
    def of(cls, case: Case) -> DocumentSummary:
        return cls(
            id=case.id,
            sha256=case.sha256,
            status=case.status,
            priority=case.priority,
            received_at=case.received_at,
            due_at=case.due_at,
            attempts=case.attempts,
            pages=case.pages,
            determination=case.determination,
            error=ErrorOut.of(case.error),
        )


class Document(DocumentSummary):
    finished_at: datetime | None
    report: dict[str, Any] | None = Field(description="the criteria report, when done; never changed")
    review: CaseReview | None = Field(
        default=None,
        description="the reviewer's actions beside the report, when done: each criterion's latest "
        "action (accept or override, with reason, who and when), the final outcome, every action",
    )


class CriterionReviewIn(BaseModel):
    action: Literal["accept", "override"]
    status: Literal["met", "not_met", "not_documented"] | None = Field(
        default=None, description="for an override: the status the reviewer finds"
    )
    reason: str | None = Field(default=None, description="required for an override", max_length=4000)


class OutcomeIn(BaseModel):
    outcome: Literal["approved", "information_requested", "referred"]
    reason: str | None = Field(default=None, description="required unless approved", max_length=4000)


class DocumentList(BaseModel):
    items: list[DocumentSummary]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null at the end")
