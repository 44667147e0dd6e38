"""What sla tells an operator's monitoring (GET /metrics, docs/operations.md): overdue
tickets by unit, how far the breach scan lags, how many years ahead the calendar reaches."""

from datetime import datetime

from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.service import Measure
from shared.vocabulary import ClockState
from shared.workdays import local_date, package_schedules
from sla.calendar.models import CalendarYear
from sla.clocks.models import Clock


def clock_measures(registry: CollectorRegistry) -> Measure:
    overdue = Gauge(
        "hotline_tickets_overdue",
        "Tickets with a running clock past its due time, by the unit it runs for",
        ["unit"],
        registry=registry,
    )
    lag = Gauge(
        "hotline_breach_scan_lag_seconds",
        "How long the oldest clock past its due time has waited for the breach scan (0: none)",
        registry=registry,
    )
    ahead = Gauge(
        "hotline_calendar_years_ahead",
        "Years after this one whose holidays are known (alert in December when 0)",
        registry=registry,
    )
    package_last = max(package_schedules())

    async def measure(session: AsyncSession, now: datetime) -> None:
        running = col(Clock.state) == ClockState.RUNNING.value
        rows = await session.execute(
            select(col(Clock.unit_id), func.count(distinct(col(Clock.ticket_id))))
            .where(running, col(Clock.breached_at).is_not(None))
            .group_by(col(Clock.unit_id))
        )
        overdue.clear()
        for unit, count in rows:
            overdue.labels(unit or "").set(count)
        oldest = await session.scalar(
            select(func.min(col(Clock.due_at))).where(
                running, col(Clock.breached_at).is_(None), col(Clock.due_at) < now
            )
        )
        lag.set((now - oldest).total_seconds() if oldest else 0)
        loaded = await session.scalar(select(func.max(col(CalendarYear.year))))
        ahead.set(max(package_last, loaded or 0) - local_date(now).year)

    return measure
