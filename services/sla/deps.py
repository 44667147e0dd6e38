"""sla's typed dependencies: the working-day calendar as loaded for this request."""

from typing import Annotated

from fastapi import Depends, Request

from shared.deps import SessionDep
from shared.workdays import WorkingCalendar
from sla.calendar.service import CalendarCache


def get_calendar_cache(request: Request) -> CalendarCache:
    return request.app.state.calendar_cache


CalendarCacheDep = Annotated[CalendarCache, Depends(get_calendar_cache)]


async def get_calendar(cache: CalendarCacheDep, session: SessionDep) -> WorkingCalendar:
    """The calendar at the database's current revision (another replica may have loaded a year)."""
    return await cache.get(session)


CalendarDep = Annotated[WorkingCalendar, Depends(get_calendar)]
