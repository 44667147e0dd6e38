"""Typed dependencies every endpoint uses (``SessionDep``, ``ClockDep``, ``OutboxDep`` …).

Endpoints take what they need through these, never from ``request.app.state``, so a test
can hand an app other parts through ``app.dependency_overrides`` without patching.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from shared.clients.base import ServiceClient
from shared.clock import Clock
from shared.db import session_scope
from shared.outbox import Outbox
from shared.settings import Settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed when the endpoint returns, rolled back if it raises."""
    async with session_scope(request.app.state.sessions) as session:
        yield session


def get_clock(request: Request) -> Clock:
    return request.app.state.clock


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_outbox(request: Request) -> Outbox:
    return request.app.state.outbox


def get_peers(request: Request) -> dict[str, ServiceClient]:
    return request.app.state.clients


# scope="function": commit before the response is sent, so a 2xx means the change is durable.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
OutboxDep = Annotated[Outbox, Depends(get_outbox)]
PeersDep = Annotated[dict[str, ServiceClient], Depends(get_peers)]
