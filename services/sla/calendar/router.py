"""Calendar endpoints: load a year, list days, compute a due time."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from shared.auth import Principal, Role, authenticated, require
from shared.deps import ClockDep, OutboxDep, SessionDep
from shared.errors import BadInput
from shared.schemas import Day, Instant
from shared.workdays import due_day, local_date, package_schedules
from sla.calendar import service
from sla.calendar.rules import NamedDay, validate_year_schedule
from sla.calendar.schemas import (
    DayRead,
    DaysRead,
    DueRead,
    TimeLeft,
    TimeLeftRead,
    YearRead,
    YearScheduleLoad,
    YearsRead,
)
from sla.clocks.service import recompute_provisional
from sla.deps import CalendarCacheDep, CalendarDep

router = APIRouter(prefix="/v1/calendar", tags=["calendar"])
Reader = Annotated[Principal, Depends(authenticated)]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
MAX_DAYS_LISTED = 400


@router.put("/years/{year}", response_model=YearRead)
async def load_year(
    year: int,
    body: YearScheduleLoad,
    session: SessionDep,
    outbox: OutboxDep,
    cache: CalendarCacheDep,
    clock: ClockDep,
    admin: Admin,
) -> YearRead:
    """Load (or replace) a year's official schedule; provisional deadlines are recomputed."""
    schedule = validate_year_schedule(
        year,
        [NamedDay(d.date, d.name) for d in body.holidays],
        [NamedDay(d.date, d.name) for d in body.makeup_workdays],
    )
    loaded = await service.load_year(
        session, schedule=schedule, source=body.source, actor=admin.subject, now=clock.now()
    )
    moved = await recompute_provisional(session, outbox, await cache.get(session), now=clock.now())
    return YearRead(
        deadlines_moved=moved,
        year=loaded.year,
        source=loaded.source,
        loaded_at=loaded.loaded_at,
        loaded_by=loaded.loaded_by,
        holidays=len(schedule.holidays),
        makeup_workdays=len(schedule.makeup_workdays),
    )


@router.get("/years", response_model=YearsRead)
async def list_years(session: SessionDep, _: Reader) -> YearsRead:
    """Years known from the package, and years loaded by an administrator."""
    schedules = await service.loaded_schedules(session)
    counts = {s.year: (len(s.holidays), len(s.makeup_workdays)) for s in schedules}
    return YearsRead(
        package_years=sorted(package_schedules()),
        loaded=[
            YearRead(
                year=y.year,
                source=y.source,
                loaded_at=y.loaded_at,
                loaded_by=y.loaded_by,
                holidays=counts[y.year][0],
                makeup_workdays=counts[y.year][1],
            )
            for y in await service.list_years(session)
        ],
    )


@router.get("/days", response_model=DaysRead)
async def list_days(
    calendar: CalendarDep,
    _: Reader,
    from_: Annotated[Day, Query(alias="from")],
    to: Day,
) -> DaysRead:
    """Each day from ``from`` to ``to`` with its kind and where that comes from."""
    if to < from_:
        raise BadInput("'to' is before 'from'", zh="结束日期早于开始日期")
    if (to - from_).days >= MAX_DAYS_LISTED:
        raise BadInput(
            f"list at most {MAX_DAYS_LISTED} days at a time",
            zh=f"每次最多列出{MAX_DAYS_LISTED}天",
        )
    try:
        days = [calendar.day(from_ + timedelta(days=i)) for i in range((to - from_).days + 1)]
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    return DaysRead(
        items=[
            DayRead(date=d.date, kind=d.kind, working=d.is_working, source=d.source, name=d.name)
            for d in days
        ]
    )


@router.get("/due", response_model=DueRead)
async def due(
    calendar: CalendarDep,
    _: Reader,
    from_: Annotated[Instant, Query(alias="from", description="the event, with its offset")],
    working_days: Annotated[int, Query(ge=1, le=250)],
) -> DueRead:
    """When a period of ``working_days`` counted from an event ends (Art 13, 14, 17)."""
    try:
        deadline = calendar.deadline(from_, working_days)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    return DueRead(
        from_=from_,
        from_date=local_date(from_),
        working_days=working_days,
        due_date=deadline.due_date,
        due_at=deadline.due_at,
        provisional=deadline.provisional,
    )


@router.get("/time-left", response_model=TimeLeftRead)
async def time_left(
    calendar: CalendarDep,
    clock: ClockDep,
    _: Reader,
    due: Annotated[
        list[Instant], Query(max_length=500, description="due times to judge (none: just now)")
    ] = [],  # noqa: B006 — FastAPI copies the default per request
) -> TimeLeftRead:
    """For each due time, what is left on sla's clock: whole working days after today, the
    hours left when it falls due today, or the working days it is late."""
    now = clock.now()
    items = []
    for due_at in due:
        try:
            due_date = due_day(due_at)
            late = calendar.working_days_late(now, due_date)
            left = calendar.remaining_working_days(now, due_date)
        except (ValueError, OverflowError) as exc:
            raise BadInput(str(exc), zh="期限超出工作日历的范围") from None
        hours = (due_at - now).total_seconds() / 3600 if local_date(now) == due_date else None
        items.append(
            TimeLeft(
                due_at=due_at,
                working_days_left=left,
                hours_left=round(hours, 1) if hours is not None and hours > 0 else None,
                working_days_late=late,
            )
        )
    return TimeLeftRead(now=now, items=items)
