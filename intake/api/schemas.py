"""What the API sends, apart from the internal models (the report is served as
the composer wrote it, ``Report.model_dump(mode="json")``, never re-modelled here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

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
    report: dict[str, Any] | None = Field(description="the criteria report, when done")


class DocumentList(BaseModel):
    items: list[DocumentSummary]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null at the end")
