"""Dashboards (overdue, due soon) and unit KPIs; no personal data is ever included."""

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from shared.auth import Principal, Role, require
from shared.deps import ClockDep, SessionDep
from shared.errors import BadInput, Forbidden
from shared.workdays import local_date
from sla.dashboard import service
from sla.dashboard.service import Filters

router = APIRouter(tags=["dashboards"])
Watcher = Annotated[
    Principal, Depends(require(Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN, Role.UNIT))
]
GroupBy = Literal["unit", "district", "type", "category", "clock"]


class Group(BaseModel):
    key: str | None
    count: int


class DashboardItem(BaseModel):
    ticket_id: str
    clock: str
    unit_id: str | None
    district: str | None
    ticket_type: str
    category: str | None
    due_at: str
    provisional: bool
    working_days_late: int


class Dashboard(BaseModel):
    total: int
    group_by: str
    groups: list[Group]
    items: list[DashboardItem]


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
            raise Forbidden("a unit sees only its own clocks")
        unit = principal.unit_id
    if due_from and due_to and due_to < due_from:
        raise BadInput("due_to is before due_from")
    return Filters(unit, district, ticket_type, category, due_from, due_to)


async def _dashboard(
    request: Request,
    session: SessionDep,
    *,
    window,
    filters: Filters,
    group_by: str,
    limit: int,
    now,
) -> Dashboard:
    calendar = await request.app.state.calendar_cache.get(session)
    groups, items = await service.grouped(
        session, window=window, filters=filters, group_by=group_by, limit=limit
    )
    return Dashboard(
        total=sum(count for _, count in groups),
        group_by=group_by,
        groups=[Group(key=key, count=count) for key, count in groups],
        items=[
            DashboardItem(
                ticket_id=c.ticket_id,
                clock=c.kind,
                unit_id=c.unit_id,
                district=c.district,
                ticket_type=c.ticket_type,
                category=c.category,
                due_at=c.due_at.isoformat(),
                provisional=c.provisional,
                working_days_late=calendar.working_days_late(now, c.due_date),
            )
            for c in items
        ],
    )


@router.get("/v1/dashboard/overdue", response_model=Dashboard)
async def overdue(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: Watcher,
    group_by: GroupBy = "unit",
    unit: str | None = None,
    district: str | None = None,
    ticket_type: Annotated[str | None, Query(alias="type")] = None,
    category: str | None = None,
    due_from: date | None = None,
    due_to: date | None = None,
    limit: Annotated[int, Query(ge=0, le=1000)] = 100,
) -> Dashboard:
    """Running clocks past their due time, counted by group, oldest first."""
    now = clock.now()
    filters = _filters(principal, unit, district, ticket_type, category, due_from, due_to)
    return await _dashboard(
        request,
        session,
        window=service.overdue_window(now),
        filters=filters,
        group_by=group_by,
        limit=limit,
        now=now,
    )


@router.get("/v1/dashboard/due-soon", response_model=Dashboard)
async def due_soon(
    request: Request,
    session: SessionDep,
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
    calendar = await request.app.state.calendar_cache.get(session)
    horizon = calendar.add_working_days(local_date(now), 1)
    filters = _filters(principal, unit, district, ticket_type, category, None, None)
    return await _dashboard(
        request,
        session,
        window=service.due_soon_window(now, horizon),
        filters=filters,
        group_by=group_by,
        limit=limit,
        now=now,
    )


class Kpis(BaseModel):
    unit: str
    from_date: date
    to_date: date
    received: int
    closed: int
    closed_on_time: int
    on_time_rate: float | None
    overdue: int
    working_days_late: int
    return_applications: int
    return_rate: float | None
    returns_upheld: int
    upheld_return_rate: float | None
    extended: int
    extension_rate: float | None
    rehandled: int
    rehandling_rate: float | None
    rated: int
    satisfaction_rate: float | None
    response_hours: float | None
    supervisions: int


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@router.get("/v1/kpis", response_model=Kpis)
async def kpis(
    session: SessionDep,
    principal: Watcher,
    unit: str,
    from_: Annotated[date, Query(alias="from")],
    to: date,
) -> Kpis:
    """A unit's measures for a period (Art 24); definitions in docs/kpis.md."""
    _filters(principal, unit, None, None, None, None, None)
    if to < from_:
        raise BadInput("'to' is before 'from'")
    c = await service.kpi_counts(session, unit=unit, from_date=from_, to_date=to)
    return Kpis(
        unit=unit,
        from_date=from_,
        to_date=to,
        received=c["received"],
        closed=c["closed"],
        closed_on_time=c["on_time"],
        on_time_rate=_rate(c["on_time"], c["closed"]),
        overdue=c["late"] + c["still_late"],
        working_days_late=int(c["days_late"]),
        return_applications=c["returns_asked"],
        return_rate=_rate(c["returns_asked"], c["received"]),
        returns_upheld=c["returns_upheld"],
        upheld_return_rate=_rate(c["returns_upheld"], c["returns_asked"]),
        extended=c["extended"],
        extension_rate=_rate(c["extended"], c["received"]),
        rehandled=c["rehandled"],
        rehandling_rate=_rate(c["rehandled"], c["rated"]),
        rated=c["rated"],
        satisfaction_rate=_rate(c["satisfied"], c["rated"]),
        response_hours=round(float(c["response_hours"]), 2) if c["response_hours"] else None,
        supervisions=c["supervisions"],
    )
