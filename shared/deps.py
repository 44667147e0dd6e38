"""Typed dependencies every endpoint uses (``SessionDep``, ``ClockDep``, ``OutboxDep`` …).

Endpoints take what they need through these, never from ``request.app.state``, so a test
can hand an app other parts through ``app.dependency_overrides`` without patching.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.clients.base import ServiceClient
from shared.clock import Clock
from shared.db import session_scope
from shared.errors import NotFound
from shared.outbox import Outbox
from shared.settings import Settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed when the endpoint returns, rolled back if it raises."""
    async with session_scope(request.app.state.sessions) as session:
        yield session


# Getters of the app's state are coroutines: FastAPI runs a plain ``def`` dependency in its
# thread pool, a hop to a thread and back on every request (3 % of a ticket's CPU at intake).
async def get_clock(request: Request) -> Clock:
    return request.app.state.clock


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_outbox(request: Request) -> Outbox:
    return request.app.state.outbox


async def get_peers(request: Request) -> dict[str, ServiceClient]:
    return request.app.state.clients


async def get_autocommit(request: Request) -> AsyncEngine:
    return request.app.state.autocommit


async def get_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    return request.app.state.sessions


# scope="function": commit before the response is sent, so a 2xx means the change is durable.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
OutboxDep = Annotated[Outbox, Depends(get_outbox)]
PeersDep = Annotated[dict[str, ServiceClient], Depends(get_peers)]
# For one read outside any transaction (a poll's "anything new?"): no BEGIN, no COMMIT.
AutocommitDep = Annotated[AsyncEngine, Depends(get_autocommit)]
# For an endpoint that often answers without a transaction (a poll's 304): it opens one only
# when it needs one (a session taken and closed unused cost a 304 a twentieth of its CPU).
SessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessions)]


# GZ + the Guangzhou date (yymmdd) + a sequence: what a caller reads out (intake numbers them).
TICKET_NUMBER = re.compile(r"GZ\d{12,}")


def ticket_resolver(
    id_of_number: Callable[[AsyncSession, str], Awaitable[str | None]],
) -> Callable[..., Awaitable[str]]:
    """The dependency behind a ``{ticket_id}`` path parameter that also takes the ticket's
    number (GZ…): the endpoint receives the id either way; an unknown number is a 404.
    A service declares ``TicketRef = Annotated[str, Depends(ticket_resolver(...))]``."""

    async def resolve(
        session: SessionDep,
        ticket_id: Annotated[str, Path(description="the ticket's id, or its number (GZ…)")],
    ) -> str:
        if not TICKET_NUMBER.fullmatch(ticket_id):
            return ticket_id
        found = await id_of_number(session, ticket_id)
        if found is None:
            raise NotFound(
                f"no ticket numbered {ticket_id}", zh=f"没有编号为 {ticket_id} 的热线事项"
            )
        return found

    return resolve
