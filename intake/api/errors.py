"""Every error becomes ``{"error": {code, message, hint}}`` with its status, in one place."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from common.errors import BadParameter, IntakeError, NotAuthenticated, NotFound, RequestError


def error_response(err: IntakeError, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(err, NotAuthenticated) else None
    return JSONResponse(
        status_code=err.http_status, content={"error": err.as_dict(), **extra}, headers=headers
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(IntakeError)
    async def _intake(request: Request, err: IntakeError) -> Response:
        if request.url.path.startswith("/review") and "text/html" in request.headers.get("accept", ""):
            from intake.review.routes import error_page

            return error_page(request, err)  # the reviewer page answers a browser with a page
        return error_response(err)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        parts = []
        for e in err.errors()[:5]:
            where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "path", "body"))
            parts.append(f"{where}: {e.get('msg', 'invalid')}")
        return error_response(BadParameter("; ".join(parts) or "the request is not valid."))

    @app.exception_handler(HTTPException)
    async def _http(_: Request, err: HTTPException) -> JSONResponse:
        if err.status_code == 404:
            return error_response(NotFound("no such endpoint.", hint="See the API at /docs."))
        generic = RequestError(str(err.detail))
        generic.http_status = err.status_code
        return error_response(generic)
