"""The upload limit, enforced while the body arrives: a declared length over it is
refused before a byte is read, and a body that runs past it is cut off there, so
a 200 MB upload never reaches the disk."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.errors import UploadTooLarge
from intake.api.errors import error_response

# Room for the multipart boundary and part headers around a file of exactly the limit.
MULTIPART_SLACK = 64 * 1024


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.limit = max_bytes + MULTIPART_SLACK

    def _error(self) -> UploadTooLarge:
        mb = self.max_bytes / (1024 * 1024)
        return UploadTooLarge(f"the upload is larger than the limit of {mb:g} MB (INTAKE_MAX_UPLOAD_MB).")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await error_response(self._error())(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    # Raised inside the endpoint's read; the app's handler answers 413.
                    raise self._error()
            return message

        await self.app(scope, limited, send)
