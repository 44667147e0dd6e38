"""Loading official schedules and keeping each replica's calendar current."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import date, datetime
from typing import cast

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.workdays import DaySource, WorkingCalendar, YearSchedule
from sla.calendar.models import CalendarDay, CalendarYear

HOLIDAY = "holiday"
MAKEUP_WORKDAY = "makeup_workday"


_CALENDAR = "sla.calendar"  # the calendar a session has checked (load_year drops it)
# Built once: checked for every batch of events, its build cost more than its round trip.
_REVISION = select(func.max(col(CalendarYear.revision)))


class CalendarCache:
    """The working calendar of this process, rebuilt when any replica loads a year."""

    def __init__(self) -> None:
        self._revision: int | None = None
        self._calendar: WorkingCalendar | None = None
        # One build at a time: at start-up every inbox event and request would otherwise
        # build its own copy at once, and the threads' fight over the GIL stalled the
        # service for seconds.
        self._building = asyncio.Lock()

    @property
    def ready(self) -> bool:
        return self._calendar is not None

    async def get(self, session: AsyncSession) -> WorkingCalendar:
        """The calendar as the database holds it; checked once per session (a request, or
        a batch of events), not once per clock."""
        if (known := session.info.get(_CALENDAR)) is not None:
            return cast(WorkingCalendar, known)
        revision = await session.scalar(_REVISION)
        if self._calendar is not None and revision == self._revision:
            return self._calendar
        async with self._building:
            if self._calendar is None or revision != self._revision:
                schedules = await loaded_schedules(session)
                # Building the index takes a tenth of a second: keep the event loop free.
                self._calendar = await asyncio.to_thread(WorkingCalendar.build, schedules)
                self._revision = revision
        assert self._calendar is not None
        session.info[_CALENDAR] = self._calendar
        return self._calendar


async def loaded_schedules(session: AsyncSession) -> list[YearSchedule]:
    years = (await session.scalars(select(col(CalendarYear.year)))).all()
    days: dict[int, tuple[dict[date, str], dict[date, str]]] = defaultdict(lambda: ({}, {}))
    for day in (await session.scalars(select(CalendarDay))).all():
        days[day.year][0 if day.kind == HOLIDAY else 1][day.day_date] = day.name
    return [YearSchedule(year, *days[year], DaySource.LOADED) for year in years]


async def list_years(session: AsyncSession) -> list[CalendarYear]:
    return list(
        (await session.scalars(select(CalendarYear).order_by(col(CalendarYear.year)))).all()
    )


async def load_year(
    session: AsyncSession, *, schedule: YearSchedule, source: str, actor: str, now: datetime
) -> CalendarYear:
    """Replace a year's schedule atomically (a reload replaces, never merges)."""
    session.info.pop(_CALENDAR, None)
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('sla.calendar_year'), :year)"),
        {"year": schedule.year},
    )
    await session.execute(delete(CalendarDay).where(col(CalendarDay.year) == schedule.year))
    await session.execute(delete(CalendarYear).where(col(CalendarYear.year) == schedule.year))
    await session.flush()
    session.add_all(
        [
            CalendarDay(day_date=d, year=schedule.year, kind=HOLIDAY, name=n)
            for d, n in schedule.holidays.items()
        ]
        + [
            CalendarDay(day_date=d, year=schedule.year, kind=MAKEUP_WORKDAY, name=n)
            for d, n in schedule.makeup_workdays.items()
        ]
    )
    year = CalendarYear(year=schedule.year, source=source, loaded_at=now, loaded_by=actor)
    session.add(year)
    await session.flush()
    await session.refresh(year)
    return year
