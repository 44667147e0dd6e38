"""Set-based queries behind the dashboards and KPIs (SQL Core; no personal data here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ARRAY, Integer, Text, TextClause, and_, bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.vocabulary import ClockKind, ClockState, Rating, StepAction, StopKind
from shared.workdays import end_of_day
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

# Reports hash or sort a row per ticket of the period: with PostgreSQL's default 4 MB a
# report over many tickets spills to disk (measured over 83,000 tickets: 168 → 88 ms a count).
REPORT_MEMORY = text("SET LOCAL work_mem = '32MB'")


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
    from_at, to_at = period_bounds(from_date, to_date)
    day = func.sla.gz_date(col(Clock.started_at))
    # The week's Monday by date arithmetic: a third cheaper per row than truncating and
    # formatting a timestamp.
    monday = day - (func.extract("isodow", day).cast(Integer) - 1)
    key = monday if by == "week" else GROUPS[by]
    await session.execute(REPORT_MEMORY)
    where = [
        col(Clock.kind) == ClockKind.HANDLING.value,
        col(Clock.started_at) >= from_at,
        col(Clock.started_at) < to_at,
    ]
    for column, value in (
        (col(Clock.unit_id), filters.unit),
        (col(Clock.district), filters.district),
    ):
        if value:
            where.append(column == value)
    # One row per ticket and group first (a ticket restarted has several runs), then count.
    tickets = (
        select(
            key.label("key"),
            func.bool_or(col(Clock.breached_at).is_not(None)).label("late"),
        )
        .where(*where)
        .group_by(key, col(Clock.ticket_id))
        .subquery()
    )
    received = func.count()
    query = select(tickets.c.key, received, func.count().filter(tickets.c.late)).group_by(
        tickets.c.key
    )
    query = query.order_by(tickets.c.key if by == "week" else received.desc())
    rows = (await session.execute(query)).all()
    return [(k.isoformat() if by == "week" else k, int(n), int(m)) for k, n, m in rows]


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

# Days are Guangzhou days: the period is the instants from 00:00 Beijing time on its first day
# to 00:00 on the day after its last (``period_bounds``), compared as they are stored so that
# the indexes on (action, at) serve. Every vocabulary word is a bound parameter
# (KPI_PARAMETERS), never a literal matched in SQL. Each part is grouped by unit, so one
# statement answers for every unit at once.
KPI_SQL = """
WITH handling AS (
    SELECT ticket_id, kind, state, stop_kind, unit_id, started_at, stopped_at,
           working_days_late, breached_at, due_date
    FROM sla.clock
    WHERE unit_id = ANY(:units) AND kind IN (:handling, :rehandling, :final_feedback){in_district}
), received AS (
    -- From the table itself, not the CTE: its row estimates let a hash make tickets distinct.
    SELECT unit_id, count(*) AS n FROM (
        SELECT unit_id, ticket_id FROM sla.clock
        WHERE unit_id = ANY(:units) AND kind = :handling{in_district}
          AND started_at >= :from_at AND started_at < :to_at
        GROUP BY unit_id, ticket_id
    ) firsts GROUP BY unit_id
), ended AS (
    SELECT unit_id,
           count(*) FILTER (WHERE stop_kind = :completed) AS n,
           count(*) FILTER (WHERE stop_kind = :completed AND working_days_late = 0) AS on_time,
           count(*) FILTER (WHERE stop_kind = :completed AND working_days_late > 0) AS late,
           coalesce(sum(working_days_late) FILTER (WHERE stop_kind = :completed), 0)
               AS days_late,
           -- Art 21 ¶2: a period paused for a legal procedure after it had passed stays late.
           count(*) FILTER (WHERE stop_kind = :paused AND working_days_late > 0) AS paused_late,
           coalesce(sum(working_days_late) FILTER (WHERE stop_kind = :paused), 0)
               AS paused_days_late
    FROM handling
    WHERE state = :stopped AND stopped_at >= :from_at AND stopped_at < :to_at
    GROUP BY unit_id
), still_late AS (
    SELECT unit_id, count(*) AS n FROM handling
    WHERE state = :running AND breached_at IS NOT NULL
      AND due_date BETWEEN :from_date AND :to_date
    GROUP BY unit_id
), asked AS (
    SELECT actor_unit_id AS unit_id, count(*) AS n FROM sla.ticket_step
    WHERE action = :return_requested AND at >= :from_at AND at < :to_at{in_district}
    GROUP BY actor_unit_id
), upheld AS (
    SELECT details->>'returning_unit' AS unit_id, count(*) AS n FROM sla.ticket_step
    WHERE action = :return_approved AND at >= :from_at AND at < :to_at{in_district}
    GROUP BY details->>'returning_unit'
), ratings AS (
    SELECT unit_id,
           count(*) FILTER (WHERE details->>'rating' IN (:satisfied, :basically_satisfied))
               AS satisfied,
           count(*) FILTER (WHERE details->>'rating' <> :no_rating) AS rated
    FROM sla.ticket_step
    WHERE action = :evaluated AND at >= :from_at AND at < :to_at{in_district}
    GROUP BY unit_id
), rehandled AS (
    SELECT unit_id, count(*) AS n FROM sla.ticket_step
    WHERE action = :sent_back_for_rehandling AND at >= :from_at AND at < :to_at{in_district}
    GROUP BY unit_id
), extended AS (
    SELECT c.unit_id, count(DISTINCT e.ticket_id) AS n FROM sla.extension e
    JOIN sla.clock c ON c.id = e.clock_id
    WHERE c.unit_id = ANY(:units) AND e.at >= :from_at AND e.at < :to_at{c_in_district}
    GROUP BY c.unit_id
), accepted AS (
    -- Each acceptance, and the latest dispatch (or determination) to that unit before it.
    SELECT a.id, a.actor_unit_id AS unit_id, a.at, max(d.at) AS sent_at
    FROM sla.ticket_step a
    JOIN sla.ticket_step d
      ON d.ticket_id = a.ticket_id AND d.unit_id = a.actor_unit_id AND d.at <= a.at
     AND d.action IN (:dispatched, :determined) AND d.at < :to_at
    WHERE a.action = :accepted AND a.actor_unit_id = ANY(:units)
      AND a.at >= :from_at AND a.at < :to_at{a_in_district}
    GROUP BY a.id, a.actor_unit_id, a.at
), response AS (
    SELECT unit_id, avg(extract(epoch FROM at - sent_at) / 3600.0) AS hours
    FROM accepted GROUP BY unit_id
), supervised AS (
    SELECT unit_id, count(*) AS n FROM sla.supervision
    WHERE unit_id = ANY(:units) AND withdrawn_at IS NULL
      AND opened_at >= :from_at AND opened_at < :to_at{in_district}
    GROUP BY unit_id
)
SELECT u.unit_id AS unit,
       coalesce(received.n, 0) AS received, coalesce(ended.n, 0) AS closed,
       coalesce(ended.on_time, 0) AS on_time,
       coalesce(ended.late, 0) + coalesce(ended.paused_late, 0) AS late,
       coalesce(ended.days_late, 0) + coalesce(ended.paused_days_late, 0) AS days_late,
       coalesce(still_late.n, 0) AS still_late, coalesce(asked.n, 0) AS returns_asked,
       coalesce(upheld.n, 0) AS returns_upheld, coalesce(ratings.satisfied, 0) AS satisfied,
       coalesce(ratings.rated, 0) AS rated, coalesce(rehandled.n, 0) AS rehandled,
       coalesce(extended.n, 0) AS extended, response.hours AS response_hours,
       coalesce(supervised.n, 0) AS supervisions
FROM unnest(CAST(:units AS text[])) AS u(unit_id)
LEFT JOIN received USING (unit_id) LEFT JOIN ended USING (unit_id)
LEFT JOIN still_late USING (unit_id) LEFT JOIN asked USING (unit_id)
LEFT JOIN upheld USING (unit_id) LEFT JOIN ratings USING (unit_id)
LEFT JOIN rehandled USING (unit_id) LEFT JOIN extended USING (unit_id)
LEFT JOIN response USING (unit_id) LEFT JOIN supervised USING (unit_id)
ORDER BY u.unit_id
"""


@cache
def kpi_statement(*, in_district: bool) -> TextClause:
    """The KPI statement for the whole city, or for one district's tickets only (Art 5: a
    district hotline agency's reads cover its district); two statements, not an ``OR``, so
    each keeps a plan of its own."""
    only = " AND {}district = :district" if in_district else ""
    sql = KPI_SQL.format(
        in_district=only.format(""),
        c_in_district=only.format("c."),
        a_in_district=only.format("a."),
    )
    return text(sql).bindparams(bindparam("units", type_=ARRAY(Text)))


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


EARLIEST, LATEST = date(1900, 1, 1), date(2199, 12, 31)


def period_bounds(from_date: date, to_date: date) -> tuple[datetime, datetime]:
    """The instants of a period of Guangzhou days: 00:00 Beijing time on ``from_date`` and on
    the day after ``to_date`` (an instant is in the period when from ≤ it < to)."""
    # No clock runs outside these years; beyond them an instant would not be representable.
    first, last = max(from_date, EARLIEST), min(to_date, LATEST)
    return end_of_day(first - timedelta(days=1)), end_of_day(last)


async def kpi_counts(
    session: AsyncSession,
    *,
    units: list[str],
    from_date: date,
    to_date: date,
    district: str | None = None,
) -> list[dict[str, Any]]:
    """The counts behind the KPIs of each of ``units``, in one set-based query; with
    ``district``, over that district's tickets only."""
    from_at, to_at = period_bounds(from_date, to_date)
    await session.execute(REPORT_MEMORY)
    parameters = {
        **KPI_PARAMETERS,
        "units": units,
        "from_date": from_date,
        "to_date": to_date,
        "from_at": from_at,
        "to_at": to_at,
        **({"district": district} if district else {}),
    }
    return [
        dict(row)
        for row in (
            await session.execute(kpi_statement(in_district=bool(district)), parameters)
        ).mappings()
    ]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def kpis(
    session: AsyncSession,
    *,
    units: list[str],
    from_date: date,
    to_date: date,
    district: str | None = None,
) -> list[Kpis]:
    """Each unit's measures for a period (Art 24); definitions in docs/kpis.md."""
    counts = await kpi_counts(
        session, units=units, from_date=from_date, to_date=to_date, district=district
    )
    return [_kpis(c, from_date, to_date) for c in counts]


def _kpis(c: dict[str, Any], from_date: date, to_date: date) -> Kpis:
    return Kpis(
        unit=c["unit"],
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
        response_hours=None
        if c["response_hours"] is None
        else round(float(c["response_hours"]), 2),
        supervisions=c["supervisions"],
    )


async def units_with_clocks(
    session: AsyncSession, unit: str | None = None, *, district: str | None = None
) -> list[str]:
    """The units sla has timed work for (all, or ``unit`` if it is one of them; with
    ``district``, work in that district)."""
    query = select(col(Clock.unit_id)).where(col(Clock.unit_id).is_not(None)).distinct()
    if unit is not None:
        query = query.where(col(Clock.unit_id) == unit)
    if district is not None:
        query = query.where(col(Clock.district) == district)
    return sorted(u for u in (await session.scalars(query)).all() if u)
