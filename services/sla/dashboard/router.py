"""Dashboards (overdue, due soon) and unit KPIs; no personal data is ever included."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, Role, require
from shared.deps import ClockDep, SessionDep
from shared.errors import BadInput, Forbidden, NotFound
from shared.schemas import Day
from shared.workdays import WorkingCalendar, local_date
from sla.clocks import rules as clock_rules
from sla.dashboard import rollup, service
from sla.dashboard.schemas import (
    Dashboard,
    DashboardItem,
    Group,
    Kpis,
    KpisByGroup,
    KpisList,
    Volume,
    VolumeGroup,
)
from sla.dashboard.service import Filters
from sla.deps import CalendarDep, numbers_of

router = APIRouter(tags=["dashboards"])
Watcher = Annotated[
    Principal,
    Depends(require(Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN, Role.INSPECTOR, Role.UNIT)),
]
GroupBy = Literal["unit", "district", "type", "category", "clock"]
VolumeBy = Literal["week", "unit", "district", "category"]


def _filters(
    principal: Principal,
    unit: str | None,
    district: str | None,
    ticket_type: str | None,
    category: str | None,
    due_from: date | None,
    due_to: date | None,
) -> Filters:
    if principal.role is Role.UNIT:
        if unit not in (None, principal.unit_id):
            raise Forbidden("a unit sees only its own clocks", zh="承办单位只能查看本单位的时限")
        unit = principal.unit_id
    district = principal.own_district(district)
    if due_from and due_to and due_to < due_from:
        raise BadInput("due_to is before due_from", zh="截止日期早于起始日期")
    return Filters(unit, district, ticket_type, category, due_from, due_to)


async def _dashboard(
    session: AsyncSession,
    calendar: WorkingCalendar,
    *,
    window: Any,
    filters: Filters,
    group_by: str,
    limit: int,
    now: datetime,
) -> Dashboard:
    groups, items = await service.grouped(
        session, window=window, filters=filters, group_by=group_by, limit=limit
    )
    numbers = await numbers_of(session, [c.ticket_id for c in items])
    return Dashboard(
        total=sum(count for _, count in groups),
        group_by=group_by,
        groups=[Group(key=key, count=count) for key, count in groups],
        items=[
            DashboardItem(
                ticket_id=c.ticket_id,
                number=numbers.get(c.ticket_id),
                clock=c.kind,
                unit_id=c.unit_id,
                district=c.district,
                ticket_type=c.ticket_type,
                category=c.category,
                due_at=c.due_at.isoformat(),
                provisional=c.provisional,
                working_days_late=clock_rules.working_days_late(
                    calendar, now, c.due_date, c.due_at
                ),
            )
            for c in items
        ],
    )


@router.get("/v1/dashboard/overdue", response_model=Dashboard)
async def overdue(
    session: SessionDep,
    calendar: CalendarDep,
    clock: ClockDep,
    principal: Watcher,
    group_by: GroupBy = "unit",
    unit: str | None = None,
    district: str | None = None,
    ticket_type: Annotated[str | None, Query(alias="type")] = None,
    category: str | None = None,
    due_from: Day | None = None,
    due_to: Day | None = None,
    limit: Annotated[int, Query(ge=0, le=1000)] = 100,
) -> Dashboard:
    """Running clocks past their due time, counted by group, oldest first."""
    now = clock.now()
    filters = _filters(principal, unit, district, ticket_type, category, due_from, due_to)
    return await _dashboard(
        session,
        calendar,
        window=service.overdue_window(now),
        filters=filters,
        group_by=group_by,
        limit=limit,
        now=now,
    )


@router.get("/v1/dashboard/due-soon", response_model=Dashboard)
async def due_soon(
    session: SessionDep,
    calendar: CalendarDep,
    clock: ClockDep,
    principal: Watcher,
    group_by: GroupBy = "unit",
    unit: str | None = None,
    district: str | None = None,
    ticket_type: Annotated[str | None, Query(alias="type")] = None,
    category: str | None = None,
    limit: Annotated[int, Query(ge=0, le=1000)] = 100,
) -> Dashboard:
    """Running clocks due today or by the end of the next working day."""
    now = clock.now()
    horizon = calendar.add_working_days(local_date(now), 1)
    filters = _filters(principal, unit, district, ticket_type, category, None, None)
    return await _dashboard(
        session,
        calendar,
        window=service.due_soon_window(now, horizon),
        filters=filters,
        group_by=group_by,
        limit=limit,
        now=now,
    )


@router.get("/v1/dashboard/volume", response_model=Volume)
async def volume(
    session: SessionDep,
    principal: Watcher,
    from_: Annotated[Day, Query(alias="from")],
    to: Day,
    by: VolumeBy = "week",
    unit: str | None = None,
    district: str | None = None,
) -> Volume:
    """Tickets whose handling began in the period and how many fell late, per week, unit,
    district or category (the supervisors' charts; definitions in docs/kpis.md)."""
    _check_period(from_, to)
    filters = _filters(principal, unit, district, None, None, None, None)
    groups = await rollup.volume(
        session, by=by, from_date=from_, to_date=to, unit=filters.unit, district=filters.district
    )
    return Volume(
        by=by,
        from_date=from_,
        to_date=to,
        groups=[VolumeGroup(key=k, received=n, late=m) for k, n, m in groups],
    )


@router.get("/v1/kpis", response_model=Kpis)
async def kpis(
    session: SessionDep,
    principal: Watcher,
    unit: str,
    from_: Annotated[Day, Query(alias="from")],
    to: Day,
) -> Kpis:
    """A unit's measures for a period (Art 24); definitions in docs/kpis.md. A unit sla has
    never timed work for is a 404, not a row of zeros."""
    district = _filters(principal, unit, None, None, None, None, None).district
    _check_period(from_, to)
    if not await service.units_with_clocks(session, unit, district=district):
        raise NotFound(f"no work recorded for unit {unit!r}", zh=f"没有单位 {unit} 的办理记录")
    [found] = await service.kpis(
        session, units=[unit], from_date=from_, to_date=to, district=district
    )
    return found


@router.get("/v1/kpis/units", response_model=KpisList)
async def kpis_of_units(
    session: SessionDep,
    principal: Watcher,
    from_: Annotated[Day, Query(alias="from")],
    to: Day,
) -> KpisList:
    """Every unit's measures for a period in one answer (a unit: its own; a district hotline
    agency: over its district's tickets, Art 5)."""
    _check_period(from_, to)
    own = principal.unit_id if principal.role is Role.UNIT else None
    district = principal.district
    units = await service.units_with_clocks(session, own, district=district)
    found = await service.kpis(session, units=units, from_date=from_, to_date=to, district=district)
    return KpisList(items=found)


@router.get("/v1/kpis/breakdown", response_model=KpisByGroup)
async def kpis_by_group(
    session: SessionDep,
    principal: Annotated[
        Principal,
        Depends(require(Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN, Role.INSPECTOR)),
    ],
    by: Literal["district", "street", "category", "all"],
    from_: Annotated[Day, Query(alias="from")],
    to: Day,
    district: str | None = None,
) -> KpisByGroup:
    """The measures per district, street or category of the tickets, or of all of them, over
    every unit that handled them; for one ``district`` (a district hotline agency: always
    its own, Art 5)."""
    _check_period(from_, to)
    items = await service.kpis_by_group(
        session, by=by, from_date=from_, to_date=to, district=principal.own_district(district)
    )
    return KpisByGroup(by=by, from_date=from_, to_date=to, items=items)


@router.get("/v1/kpis/trend", response_model=KpisByGroup)
async def kpis_trend(
    session: SessionDep,
    principal: Watcher,
    unit: str,
    by: Literal["week", "month"],
    from_: Annotated[Day, Query(alias="from")],
    to: Day,
) -> KpisByGroup:
    """A unit's measures week by week or month by month (each period's key is its first
    day); at most two years of weeks or ten of months in one answer."""
    district = _filters(principal, unit, None, None, None, None, None).district
    _check_period(from_, to)
    if (to - from_).days > (730 if by == "week" else 3660):
        raise BadInput("a trend covers at most 2 years of weeks or 10 of months",
                       zh="趋势按周最多两年，按月最多十年")  # fmt: skip
    items = await service.trend(
        session, unit=unit, by=by, from_date=from_, to_date=to, district=district
    )
    return KpisByGroup(by=by, from_date=from_, to_date=to, items=items)


def _check_period(from_: date, to: date) -> None:
    if to < from_:
        raise BadInput("'to' is before 'from'", zh="结束日期早于开始日期")
