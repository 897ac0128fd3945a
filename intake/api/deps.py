"""Dependencies, as ``Annotated`` aliases the routers share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from intake.auth import Caller, authenticate
from intake.service import Service


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


async def get_caller(
    service: ServiceDep,
    authorization: Annotated[str | None, Header(description="Bearer TOKEN")] = None,
) -> Caller:
    return await run_in_threadpool(authenticate, service.store, authorization)


CallerDep = Annotated[Caller, Depends(get_caller)]
