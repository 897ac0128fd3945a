"""HTTP intake: a thin FastAPI layer over the composer.

Errors become HTTP statuses in one handler; the original is stored before it is
read, so a bad fax is kept with its error and the service keeps serving.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from common.errors import IntakeError
from common.models import Report
from common.settings import Settings
from intake.store import OriginalStore
from pipeline.composer import process_file


class DocumentAccepted(BaseModel):
    """API schema, separate from the internal Report model."""

    sha256: str
    determination: str
    report: Report


def get_store(request: Request) -> OriginalStore:
    store: OriginalStore = request.app.state.store
    return store


StoreDep = Annotated[OriginalStore, Depends(get_store)]


def create_app(settings: Settings | None = None, store_root: Path | None = None) -> FastAPI:
    """App factory: nothing is built at import time."""
    settings = settings or Settings()
    app = FastAPI(title="Prior-authorization fax intake", version="0.1.0")
    app.state.store = OriginalStore(store_root or Path(tempfile.gettempdir()) / "intake-store")

    @app.exception_handler(IntakeError)
    async def _intake_error(_: Request, err: IntakeError) -> JSONResponse:
        return JSONResponse(status_code=err.http_status, content={"error": err.as_dict()})

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/documents", status_code=201)
    def upload(file: UploadFile, store: StoreDep, policy: str | None = None) -> DocumentAccepted:
        data = file.file.read()
        digest, path = store.keep(data, file.filename or "")
        try:
            done = process_file(path, settings=settings, policy_id=policy)
        except IntakeError as err:
            store.save_error(digest, err)
            raise
        store.save_report(digest, done.report)
        return DocumentAccepted(sha256=digest, determination=done.report.determination, report=done.report)

    @app.get("/documents/{sha256}/report")
    def report(sha256: str, store: StoreDep) -> Report:
        found = store.load_report(sha256)
        if found is None:
            err = store.load_error(sha256)
            if err is not None:
                raise HTTPException(status_code=422, detail=err)
            raise HTTPException(status_code=404, detail=f"no document {sha256}")
        return found

    return app
