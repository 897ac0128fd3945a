"""The HTTP API: an app factory, a router per resource; OpenAPI docs at /docs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from intake.config import ServiceConfig
from intake.service import Service


def create_app(service: Service | None = None, config: ServiceConfig | None = None) -> FastAPI:
    """Nothing is opened at import time; a given ``service`` is used as is (tests)."""
    from intake.api import documents, errors, health, reviews
    from intake.api.limits import BodyLimit

    config = service.config if service is not None else (config or ServiceConfig())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = service is None
        app.state.service = service or Service.open(config)
        try:
            yield
        finally:
            if owned:
                app.state.service.close()

    app = FastAPI(
        title="Prior-authorization fax intake",
        version="1.0.0",
        description="Submit a fax; a worker reads it and checks it against the payer's policy. "
        "Every endpoint but /health and /ready needs `Authorization: Bearer TOKEN` "
        "(`intake token create NAME`).",
        lifespan=lifespan,
    )
    if service is not None:
        app.state.service = service
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=config.max_upload_bytes)
    app.include_router(health.router)
    app.include_router(documents.router)
    app.include_router(reviews.router)
    from intake import review

    review.install(app)
    return app
