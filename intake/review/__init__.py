"""The reviewer page, served by the intake service at /review (see routes.py)."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles


def install(app: FastAPI) -> None:
    from intake.review.routes import router

    static = str(resources.files("intake.review") / "static")
    app.mount("/review/static", StaticFiles(directory=static), name="review-static")
    app.include_router(router)
