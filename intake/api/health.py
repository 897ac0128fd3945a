"""Liveness and readiness, without a token (for load balancers and orchestrators)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from intake.api.deps import ServiceDep

router = APIRouter(tags=["health"])


@router.get("/health", summary="the process answers")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", summary="the store and the queue can be reached (503 otherwise)")
async def ready(service: ServiceDep) -> dict[str, str]:
    checks = await run_in_threadpool(service.ready)
    return {"status": "ready", **checks}
