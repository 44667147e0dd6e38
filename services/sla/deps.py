"""sla's typed dependencies: the working-day calendar as loaded for this request."""

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.deps import SessionDep, ticket_resolver
from shared.workdays import WorkingCalendar
from sla.calendar.service import CalendarCache
from sla.clocks.models import TicketStep


async def get_calendar_cache(request: Request) -> CalendarCache:
    return request.app.state.calendar_cache


CalendarCacheDep = Annotated[CalendarCache, Depends(get_calendar_cache)]


async def get_calendar(cache: CalendarCacheDep, session: SessionDep) -> WorkingCalendar:
    """The calendar at the database's current revision (another replica may have loaded a year)."""
    return await cache.get(session)


CalendarDep = Annotated[WorkingCalendar, Depends(get_calendar)]


async def _id_of_number(session: AsyncSession, number: str) -> str | None:
    query = select(col(TicketStep.ticket_id)).where(col(TicketStep.number) == number).limit(1)
    return await session.scalar(query)


async def numbers_of(session: AsyncSession, ticket_ids: list[str]) -> dict[str, str]:
    """The numbers (GZ…) dispatch reported for these tickets, for lists people read."""
    if not ticket_ids:
        return {}
    query = (
        select(col(TicketStep.ticket_id), col(TicketStep.number))
        .where(col(TicketStep.ticket_id).in_(set(ticket_ids)), col(TicketStep.number).is_not(None))
        .distinct()
    )
    return {
        ticket_id: number for ticket_id, number in (await session.execute(query)).all() if number
    }


# A ticket's id from its id or the number a caller reads out (GZ…), as dispatch reported it.
ticket_id_of = ticket_resolver(_id_of_number)
TicketRef = Annotated[str, Depends(ticket_id_of)]
