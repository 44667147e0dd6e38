"""Set-based queries behind the dashboards and KPIs (SQL Core; no personal data here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.vocabulary import ClockKind, ClockState, Rating, StepAction, StopKind
from sla.clocks.models import Clock
from sla.dashboard.schemas import Kpis

# What a supervisor calls overdue: the agency's and the units' periods, not the return window.
WATCHED = [
    ClockKind.DISPATCH,
    ClockKind.HANDLING,
    ClockKind.REHANDLING,
    ClockKind.FINAL_FEEDBACK,
    ClockKind.PROGRESS_REPORT,  # Art 21: a report missed is supervised too (Art 23(3))
]
GROUPS = {
    "unit": col(Clock.unit_id),
    "district": col(Clock.district),
    "type": col(Clock.ticket_type),
    "category": col(Clock.category),
    "clock": col(Clock.kind),
}


@dataclass(frozen=True)
class Filters:
    unit: str | None = None
    district: str | None = None
    ticket_type: str | None = None
    category: str | None = None
    due_from: date | None = None
    due_to: date | None = None

    def conditions(self) -> list[Any]:
        found: list[Any] = [
            col(Clock.state) == ClockState.RUNNING.value,
            col(Clock.kind).in_([k.value for k in WATCHED]),
        ]
        for column, value in (
            (col(Clock.unit_id), self.unit),
            (col(Clock.district), self.district),
            (col(Clock.ticket_type), self.ticket_type),
        ):
            if value:
                found.append(column == value)
        if self.category:
            found.append(col(Clock.category).startswith(self.category))
        if self.due_from:
            found.append(col(Clock.due_date) >= self.due_from)
        if self.due_to:
            found.append(col(Clock.due_date) <= self.due_to)
        return found


async def grouped(
    session: AsyncSession, *, window: Any, filters: Filters, group_by: str, limit: int
) -> tuple[list[tuple[str | None, int]], list[Clock]]:
    """Counts per group and the first ``limit`` clocks (oldest due first) in a window."""
    where = and_(*filters.conditions(), window)
    column = GROUPS[group_by]
    groups = (
        await session.execute(
            select(column, func.count()).where(where).group_by(column).order_by(func.count().desc())
        )
    ).all()
    items = (
        await session.scalars(select(Clock).where(where).order_by(col(Clock.due_at)).limit(limit))
    ).all()
    return [(g[0], int(g[1])) for g in groups], list(items)


async def volume(
    session: AsyncSession, *, by: str, from_date: date, to_date: date, filters: Filters
) -> list[tuple[str | None, int, int]]:
    """Tickets whose handling began in the period (by Guangzhou day), and how many of them
    fell late (a breach not withdrawn), per week (its Monday), unit, district or category."""
    day = func.sla.gz_date(col(Clock.started_at))
    key = func.to_char(func.date_trunc("week", day), "YYYY-MM-DD") if by == "week" else GROUPS[by]
    where = [col(Clock.kind) == ClockKind.HANDLING.value, day.between(from_date, to_date)]
    for column, value in (
        (col(Clock.unit_id), filters.unit),
        (col(Clock.district), filters.district),
    ):
        if value:
            where.append(column == value)
    tickets = func.count(func.distinct(col(Clock.ticket_id)))
    late = func.count(func.distinct(col(Clock.ticket_id))).filter(
        col(Clock.breached_at).is_not(None)
    )
    query = select(key, tickets, late).where(*where).group_by(key)
    query = query.order_by(key if by == "week" else tickets.desc())
    return [(k, int(n), int(m)) for k, n, m in (await session.execute(query)).all()]


def overdue_window(now: datetime) -> Any:
    return col(Clock.due_at) <= now


def due_soon_window(now: datetime, horizon: date) -> Any:
    """Not yet due, and due today or by the end of the next working day."""
    return and_(col(Clock.due_at) > now, col(Clock.due_date) <= horizon)


# The steps the KPIs count; every other step is kept (replayable) but counted by nothing.
# A contract test holds these two sets to the whole StepAction vocabulary, so a new step
# is a decision here, not a silent zero.
KPI_STEPS = frozenset(
    {
        StepAction.RETURN_REQUESTED,
        StepAction.RETURN_APPROVED,
        StepAction.EVALUATED,
        StepAction.SENT_BACK_FOR_REHANDLING,
        StepAction.DISPATCHED,
        StepAction.DETERMINED,
        StepAction.ACCEPTED,
    }
)
UNCOUNTED_STEPS = frozenset(
    {
        StepAction.SUBMITTED,
        StepAction.RETURN_REJECTED,
        StepAction.RETURN_SEVERAL_UNITS,
        StepAction.DESIGNATED,
        StepAction.SUB_UNIT_RESULT,
        StepAction.SUB_UNIT_RESULT_APPROVED,
        StepAction.SUB_UNIT_RESULT_SENT_BACK,
        StepAction.FEEDBACK_SUBMITTED,  # closure is counted from the clock run's stop
        StepAction.FEEDBACK_APPROVED,
        StepAction.FEEDBACK_SENT_BACK,
        StepAction.CLOSED,
        StepAction.REVISITED,  # the rating itself is the evaluated step
        StepAction.EVALUATION_INVITED,
        StepAction.EXTENDED,  # counted from sla's own extension records
        StepAction.CALLER_NEW_SITUATION,
        StepAction.NEW_SITUATION_JUDGED,
        StepAction.REPEAT_ANSWERED,
        StepAction.LONG_RUNNING_PLAN,
        StepAction.PROGRESS_REPORTED,
        StepAction.LEGAL_PROCEDURE_AWAITED,  # the pause is read from the clock runs
        StepAction.LEGAL_PROCEDURE_ENDED,
        StepAction.DISPATCH_DUE_PASSED,
        StepAction.VERIFICATION_DUE_PASSED,
        StepAction.HANDLING_DUE_PASSED,
        StepAction.REHANDLING_DUE_PASSED,
        StepAction.FINAL_FEEDBACK_DUE_PASSED,
        StepAction.PROGRESS_REPORT_DUE_PASSED,  # counted as a supervision
        StepAction.BREACH_WITHDRAWN,
        StepAction.DEADLINE_ADJUSTED,  # the clock run carries the adjusted due time
    }
)

# Days are Guangzhou days (sla.gz_date: the Asia/Shanghai calendar day of an instant). Every
# vocabulary word is a bound parameter (KPI_PARAMETERS), never a literal matched in SQL.
KPI_SQL = text(
    """
WITH handling AS (
    SELECT * FROM sla.clock
    WHERE unit_id = :unit AND kind IN (:handling, :rehandling, :final_feedback)
), received AS (
    SELECT count(DISTINCT ticket_id) AS n FROM handling
    WHERE kind = :handling AND sla.gz_date(started_at) BETWEEN :from_date AND :to_date
), closed AS (
    SELECT count(*) AS n,
           count(*) FILTER (WHERE working_days_late = 0) AS on_time,
           count(*) FILTER (WHERE working_days_late > 0) AS late,
           coalesce(sum(working_days_late), 0) AS days_late
    FROM handling
    WHERE state = :stopped AND stop_kind = :completed
      AND sla.gz_date(stopped_at) BETWEEN :from_date AND :to_date
), paused_late AS (
    -- Art 21 ¶2: a period paused for a legal procedure after it had passed stays late.
    SELECT count(*) AS n, coalesce(sum(working_days_late), 0) AS days_late FROM handling
    WHERE state = :stopped AND stop_kind = :paused AND working_days_late > 0
      AND sla.gz_date(stopped_at) BETWEEN :from_date AND :to_date
), still_late AS (
    SELECT count(*) AS n FROM handling
    WHERE state = :running AND breached_at IS NOT NULL
      AND due_date BETWEEN :from_date AND :to_date
), steps AS (
    SELECT * FROM sla.ticket_step WHERE sla.gz_date(at) BETWEEN :from_date AND :to_date
), returns AS (
    SELECT count(*) FILTER (WHERE action = :return_requested AND actor_unit_id = :unit) AS asked,
           count(*) FILTER (WHERE action = :return_approved
                            AND details->>'returning_unit' = :unit) AS upheld
    FROM steps
), ratings AS (
    SELECT count(*) FILTER (WHERE details->>'rating' IN (:satisfied, :basically_satisfied))
               AS satisfied,
           count(*) FILTER (WHERE details->>'rating' <> :no_rating) AS rated
    FROM steps WHERE action = :evaluated AND unit_id = :unit
), rehandled AS (
    SELECT count(*) AS n FROM steps
    WHERE action = :sent_back_for_rehandling AND unit_id = :unit
), extended AS (
    SELECT count(DISTINCT e.ticket_id) AS n FROM sla.extension e
    JOIN sla.clock c ON c.id = e.clock_id
    WHERE c.unit_id = :unit AND sla.gz_date(e.at) BETWEEN :from_date AND :to_date
), response AS (
    SELECT avg(extract(epoch FROM a.at - d.at) / 3600.0) AS hours
    FROM steps a
    JOIN LATERAL (
        SELECT max(at) AS at FROM sla.ticket_step d
        WHERE d.ticket_id = a.ticket_id AND d.action IN (:dispatched, :determined)
          AND d.unit_id = :unit AND d.at <= a.at
    ) d ON d.at IS NOT NULL
    WHERE a.action = :accepted AND a.actor_unit_id = :unit
), supervised AS (
    SELECT count(*) AS n FROM sla.supervision
    WHERE unit_id = :unit AND withdrawn_at IS NULL
      AND sla.gz_date(opened_at) BETWEEN :from_date AND :to_date
)
SELECT received.n AS received, closed.n AS closed, closed.on_time,
       closed.late + paused_late.n AS late, closed.days_late + paused_late.days_late AS days_late,
       still_late.n AS still_late, returns.asked AS returns_asked,
       returns.upheld AS returns_upheld, ratings.satisfied, ratings.rated,
       rehandled.n AS rehandled, extended.n AS extended, response.hours AS response_hours,
       supervised.n AS supervisions
FROM received, closed, paused_late, still_late, returns, ratings, rehandled, extended, response,
     supervised
"""
)
KPI_PARAMETERS: dict[str, str] = {
    "handling": ClockKind.HANDLING.value,
    "rehandling": ClockKind.REHANDLING.value,
    "final_feedback": ClockKind.FINAL_FEEDBACK.value,
    "paused": StopKind.PAUSED.value,
    "running": ClockState.RUNNING.value,
    "stopped": ClockState.STOPPED.value,
    "completed": StopKind.COMPLETED.value,
    "satisfied": Rating.SATISFIED.value,
    "basically_satisfied": Rating.BASICALLY_SATISFIED.value,
    "no_rating": Rating.NONE.value,
    **{step.name.lower(): step.value for step in KPI_STEPS},
}


async def kpi_counts(
    session: AsyncSession, *, unit: str, from_date: date, to_date: date
) -> dict[str, Any]:
    parameters = {**KPI_PARAMETERS, "unit": unit, "from_date": from_date, "to_date": to_date}
    row = (await session.execute(KPI_SQL, parameters)).mappings().one()
    return dict(row)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def kpis(session: AsyncSession, *, unit: str, from_date: date, to_date: date) -> Kpis:
    """A unit's measures for a period (Art 24); definitions in docs/kpis.md."""
    c = await kpi_counts(session, unit=unit, from_date=from_date, to_date=to_date)
    return Kpis(
        unit=unit,
        from_date=from_date,
        to_date=to_date,
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


async def units_with_clocks(session: AsyncSession, unit: str | None = None) -> list[str]:
    """The units sla has timed work for (all, or ``unit`` if it is one of them)."""
    query = select(col(Clock.unit_id)).where(col(Clock.unit_id).is_not(None)).distinct()
    if unit is not None:
        query = query.where(col(Clock.unit_id) == unit)
    return sorted(u for u in (await session.scalars(query)).all() if u)
