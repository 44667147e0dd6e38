"""Report rollups: what volume and the KPIs count, kept per Guangzhou day, unit, district,
street and category in ``sla.report_day``, so a report over months sums a few thousand rows
instead of recounting every clock run and step of the period.

Triggers mark the days a change touches (``sla.report_stale_day``, migration sla_0011); a
report first recounts the stale days of its period from the clock runs, steps, extensions and
supervisions, then sums. An event that arrives late marks the day it happened, so the next
report counts it there: nothing is ever counted from a rollup that a change has outdated.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ARRAY, Integer, Text, bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.vocabulary import ClockKind, ClockState, Rating, Resolution, StepAction, StopKind
from shared.workdays import end_of_day
from sla.dashboard.models import ReportDay

# The steps the KPIs count; every other step is kept (replayable) but counted by nothing.
# A contract test holds these two sets to the whole StepAction vocabulary, so a new step
# is a decision here, not a silent zero.
KPI_STEPS = frozenset(
    {
        StepAction.RETURN_REQUESTED,
        StepAction.RETURN_APPROVED,
        StepAction.EVALUATED,
        StepAction.FEEDBACK_APPROVED,  # the agency's judgement of whether it was solved
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
        StepAction.CONTACTED,  # counted from the contact clock's runs
        StepAction.CONTACT_DUE_PASSED,
    }
)

# Every vocabulary word is a bound parameter, never a literal matched in SQL.
PARAMETERS: dict[str, str] = {
    "handling": ClockKind.HANDLING.value,
    "rehandling": ClockKind.REHANDLING.value,
    "final_feedback": ClockKind.FINAL_FEEDBACK.value,
    "contact": ClockKind.CONTACT.value,
    "paused": StopKind.PAUSED.value,
    "returned": StopKind.RETURNED.value,
    "restarted": StopKind.RESTARTED.value,
    "running": ClockState.RUNNING.value,
    "stopped": ClockState.STOPPED.value,
    "completed": StopKind.COMPLETED.value,
    "satisfied": Rating.SATISFIED.value,
    "basically_satisfied": Rating.BASICALLY_SATISFIED.value,
    "no_rating": Rating.NONE.value,
    **{f"resolution_{r.name.lower()}": r.value for r in Resolution},
    **{step.name.lower(): step.value for step in KPI_STEPS},
}

COUNTS = [
    "tickets",
    "tickets_late",
    "received",
    "received_late",
    "closed",
    "closed_on_time",
    "closed_late",
    "days_late",
    "still_late",
    "returns_asked",
    "returns_upheld",
    "satisfied",
    "rated",
    "solved",
    "partly_solved",
    "resolution_answered",
    "judged",
    "judged_solved",
    "rehandled",
    "extended",
    "responses",
    "to_contact",
    "contacted_on_time",
    "supervisions",
]

# One statement recounts a run of days, [from_at, to_at) as instants (Guangzhou days, so the
# (action, at) and (kind, started_at) indexes serve). Each part yields (day, unit, district,
# category, measure, n); the insert turns measures into columns. docs/kpis.md defines each.
_FIRST_RUN = """
    SELECT sla.gz_date(r.started_at), r.unit_id, r.district, r.street, r.category, m.measure, m.n
    FROM sla.clock r
    -- A probe per run by ticket (a LATERAL keeps the planner from hashing every run).
    CROSS JOIN LATERAL (
        SELECT (array_agg(e.id ORDER BY e.started_at, e.id))[1] AS first_id,
               bool_or(e.breached_at IS NOT NULL) AS late
        FROM sla.clock e
        WHERE e.ticket_id = r.ticket_id AND e.kind = :handling{same_unit}) f
    CROSS JOIN LATERAL (VALUES ('{whole}', 1), ('{whole}_late', f.late::int)) m(measure, n)
    WHERE r.kind = :handling AND r.started_at >= :from_at AND r.started_at < :to_at
      AND f.first_id = r.id
"""
RECOUNT_SQL = """
WITH part(day, unit_id, district, street, category, measure, n) AS (
    -- Each ticket once, on the day its first handling run started; late if any of its
    -- handling runs is breached now (a breach withdrawn is no longer there).
    {first_of_ticket}
    UNION ALL
    -- Each (ticket, unit) once, on the day the unit's first handling run for it started.
    {first_of_unit}
    UNION ALL
    -- Runs ended with the work done; and, late, runs paused for a legal procedure after they
    -- had passed (Art 21 ¶2). Runs ended by a restart or an approved return count nothing.
    SELECT sla.gz_date(stopped_at), unit_id, district, street, category, m.measure, m.n
    FROM sla.clock
    CROSS JOIN LATERAL (VALUES
        ('closed', (stop_kind = :completed)::int),
        ('closed_on_time', (stop_kind = :completed AND working_days_late = 0)::int),
        ('closed_late', (working_days_late > 0)::int),
        ('days_late', coalesce(working_days_late, 0))) m(measure, n)
    WHERE kind IN (:handling, :rehandling, :final_feedback) AND state = :stopped
      AND stop_kind IN (:completed, :paused)
      AND stopped_at >= :from_at AND stopped_at < :to_at
    UNION ALL
    SELECT due_date, unit_id, district, street, category, 'still_late', 1 FROM sla.clock
    WHERE state = :running AND breached_at IS NOT NULL
      AND kind IN (:handling, :rehandling, :final_feedback)
      AND due_date BETWEEN :from_date AND :to_date
    UNION ALL
    SELECT sla.gz_date(at), actor_unit_id, district, street, category, 'returns_asked', 1
    FROM sla.ticket_step WHERE action = :return_requested AND at >= :from_at AND at < :to_at
    UNION ALL
    SELECT sla.gz_date(at), details->>'returning_unit', district, street, category,
           'returns_upheld', 1
    FROM sla.ticket_step WHERE action = :return_approved AND at >= :from_at AND at < :to_at
    UNION ALL
    SELECT sla.gz_date(at), unit_id, district, street, category, m.measure, m.n
    FROM sla.ticket_step
    CROSS JOIN LATERAL (VALUES
        ('satisfied', (details->>'rating' IN (:satisfied, :basically_satisfied))::int),
        ('rated', (details->>'rating' <> :no_rating)::int),
        ('solved', (details->>'resolution' = :resolution_solved)::int),
        ('partly_solved', (details->>'resolution' = :resolution_partly_solved)::int),
        ('resolution_answered', (details->>'resolution' IN (
            :resolution_solved, :resolution_partly_solved, :resolution_not_solved))::int)
    ) m(measure, n)
    WHERE action = :evaluated AND at >= :from_at AND at < :to_at
    UNION ALL
    -- The agency's own judgement, recorded when it approved the feedback.
    SELECT sla.gz_date(at), unit_id, district, street, category, m.measure, m.n
    FROM sla.ticket_step
    CROSS JOIN LATERAL (VALUES
        ('judged', (details->>'resolution_judged' IN (
            :resolution_solved, :resolution_partly_solved, :resolution_not_solved))::int),
        ('judged_solved', (details->>'resolution_judged' = :resolution_solved)::int)
    ) m(measure, n)
    WHERE action = :feedback_approved AND at >= :from_at AND at < :to_at
    UNION ALL
    SELECT sla.gz_date(at), unit_id, district, street, category, 'rehandled', 1
    FROM sla.ticket_step
    WHERE action = :sent_back_for_rehandling AND at >= :from_at AND at < :to_at
    UNION ALL
    -- Each (ticket, unit) once, on the day of the first extension on the unit's clock.
    SELECT sla.gz_date(e.at), c.unit_id, c.district, c.street, c.category, 'extended', 1
    FROM sla.extension e JOIN sla.clock c ON c.id = e.clock_id
    WHERE e.at >= :from_at AND e.at < :to_at AND NOT EXISTS (
        SELECT 1 FROM sla.clock c2 JOIN sla.extension e2 ON e2.clock_id = c2.id
        WHERE c2.ticket_id = e.ticket_id AND c2.unit_id = c.unit_id
          AND (e2.at, e2.id) < (e.at, e.id))
    UNION ALL
    -- Each acceptance, and the hours since the latest dispatch (or determination) to the unit.
    SELECT sla.gz_date(a.at), a.actor_unit_id, a.district, a.street, a.category, m.measure, m.n
    FROM sla.ticket_step a
    CROSS JOIN LATERAL (
        SELECT max(d.at) AS sent_at FROM sla.ticket_step d
        WHERE d.ticket_id = a.ticket_id AND d.unit_id = a.actor_unit_id AND d.at <= a.at
          AND d.action IN (:dispatched, :determined)) s
    CROSS JOIN LATERAL (VALUES
        ('responses', 1), ('response_hours', extract(epoch FROM a.at - s.sent_at) / 3600.0)
    ) m(measure, n)
    WHERE a.action = :accepted AND a.at >= :from_at AND a.at < :to_at
      AND s.sent_at IS NOT NULL
    UNION ALL
    -- 响应: each run of a unit's time to contact the caller, on the day it started, once its
    -- outcome is known (contacted, or its limit passed); a run ended by an approved return or
    -- a restart was not the unit's to answer for.
    SELECT sla.gz_date(started_at), unit_id, district, street, category, m.measure, m.n
    FROM sla.clock
    CROSS JOIN LATERAL (VALUES
        ('to_contact', (stop_kind = :completed OR breached_at IS NOT NULL)::int),
        ('contacted_on_time', (stop_kind = :completed AND working_days_late = 0)::int)
    ) m(measure, n)
    WHERE kind = :contact AND started_at >= :from_at AND started_at < :to_at
      AND (stop_kind IS NULL OR stop_kind NOT IN (:returned, :restarted))
    UNION ALL
    -- Supervisions opened (automatically on a breach, or by the agency, Art 23), except
    -- those withdrawn because the act was on time and only its news came late.
    SELECT sla.gz_date(opened_at), unit_id, district, NULL, NULL, 'supervisions', 1
    FROM sla.supervision
    WHERE withdrawn_at IS NULL AND opened_at >= :from_at AND opened_at < :to_at
)
INSERT INTO sla.report_day (day, unit_id, district, street, category, {counts}, response_hours)
SELECT day, unit_id, district, street, category, {sums},
       coalesce(sum(n) FILTER (WHERE measure = 'response_hours'), 0)::float8
FROM part GROUP BY day, unit_id, district, street, category
""".format(
    first_of_ticket=_FIRST_RUN.format(whole="tickets", same_unit=""),
    first_of_unit=_FIRST_RUN.format(whole="received", same_unit=" AND e.unit_id = r.unit_id"),
    counts=", ".join(COUNTS),
    sums=", ".join(f"coalesce(sum(n) FILTER (WHERE measure = '{c}'), 0)::int" for c in COUNTS),
)

# Reports hash or sort a row per ticket of the days they recount: with PostgreSQL's default
# 4 MB a recount of many days spills to disk (measured over 83,000 tickets: 168 → 88 ms).
REPORT_MEMORY = text("SET LOCAL work_mem = '32MB'")
# A report's statements are prepared once per connection (asyncpg), and after five runs
# PostgreSQL may switch to a generic plan that knows neither the period nor the units: for the
# KPIs of every unit, 8× slower at a million tickets (200 ms → 1.7 s from the third ranking
# on). Every report begins with ``refresh``, which has the rest of its transaction planned for
# its own parameters instead; planning costs a millisecond.
CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")
# One recount at a time: two would each replace a day's rows and both insert theirs.
RECOUNT_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('sla.report_day'))")

EARLIEST, LATEST = date(1900, 1, 1), date(2199, 12, 31)


def period_bounds(from_date: date, to_date: date) -> tuple[datetime, datetime]:
    """The instants of a period of Guangzhou days: 00:00 Beijing time on ``from_date`` and on
    the day after ``to_date`` (an instant is in the period when from ≤ it < to)."""
    # No clock runs outside these years; beyond them an instant would not be representable.
    first, last = max(from_date, EARLIEST), min(to_date, LATEST)
    return end_of_day(first - timedelta(days=1)), end_of_day(last)


def runs_of_days(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) runs, so each run is recounted by one statement."""
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


async def refresh(
    session: AsyncSession, *, from_date: date = date.min, to_date: date = date.max
) -> int:
    """Recount the stale days between ``from_date`` and ``to_date``; how many there were.
    The first step of every report, which then reads with plans made for its parameters.

    Claiming a stale mark deletes it in this transaction: a change committed later has
    marked its day again (its mark is not ours to delete), so it is counted next time."""
    await session.execute(CUSTOM_PLANS)
    await session.execute(RECOUNT_LOCK)
    claimed = (
        await session.scalars(
            text(
                "DELETE FROM sla.report_stale_day WHERE day BETWEEN :first AND :last RETURNING day"
            ),
            {"first": from_date, "last": to_date},
        )
    ).all()
    runs = runs_of_days(list(claimed))
    if runs:
        await session.execute(REPORT_MEMORY)
    for first, last in runs:
        await _recount(session, first, last)
    return len(set(claimed))


async def recount(session: AsyncSession, first: date, last: date) -> None:
    """Replace the rollups of the days ``first`` to ``last`` by a count from the records."""
    await session.execute(RECOUNT_LOCK)
    await session.execute(REPORT_MEMORY)
    await _recount(session, first, last)


async def _recount(session: AsyncSession, first: date, last: date) -> None:
    """``recount`` for a caller that holds RECOUNT_LOCK and has set REPORT_MEMORY."""
    for table in ("report_day", "report_unit_day"):
        await session.execute(
            text(f"DELETE FROM sla.{table} WHERE day BETWEEN :first AND :last"),
            {"first": first, "last": last},
        )
    from_at, to_at = period_bounds(first, last)
    parameters = {"from_date": first, "to_date": last, "from_at": from_at, "to_at": to_at}
    await session.execute(text(RECOUNT_SQL), {**PARAMETERS, **parameters})
    await session.execute(text(UNIT_DAY_SQL), {"first": first, "last": last})


# The same days summed per unit and district, which the KPIs of every unit read: a row per
# unit and day rather than one per street and category too (sla_0020).
UNIT_DAY_SQL = """
INSERT INTO sla.report_unit_day (day, unit_id, district, {counts}, response_hours)
SELECT day, unit_id, district, {sums}, sum(response_hours)
FROM sla.report_day WHERE day BETWEEN :first AND :last
GROUP BY day, unit_id, district
""".format(counts=", ".join(COUNTS), sums=", ".join(f"sum({c})" for c in COUNTS))


SUMS = ", ".join(f"coalesce(sum(r.{c}), 0)::int AS {c}" for c in COUNTS)
KPI_SQL = """
SELECT u.unit_id AS unit, {sums},
       sum(r.response_hours) / nullif(sum(r.responses), 0) AS response_hours
FROM unnest(CAST(:units AS text[])) AS u(unit_id)
LEFT JOIN sla.report_unit_day r
  ON r.unit_id = u.unit_id AND r.day BETWEEN :from_date AND :to_date{in_district}
GROUP BY u.unit_id ORDER BY u.unit_id
"""


async def kpi_counts(
    session: AsyncSession,
    *,
    units: list[str],
    from_date: date,
    to_date: date,
    district: str | None = None,
) -> list[dict[str, Any]]:
    """The counts behind the KPIs of each of ``units``; with ``district``, over that
    district's tickets only (Art 5: a district hotline agency's reads cover its district)."""
    await refresh(session, from_date=from_date, to_date=to_date)
    in_district = " AND r.district = :district" if district else ""
    statement = text(KPI_SQL.format(sums=SUMS, in_district=in_district)).bindparams(
        bindparam("units", type_=ARRAY(Text))
    )
    parameters: dict[str, Any] = {"units": units, "from_date": from_date, "to_date": to_date}
    if district:
        parameters["district"] = district
    return [dict(row) for row in (await session.execute(statement, parameters)).mappings()]


GROUP_SQL = """
SELECT {column} AS unit, {place} AS district, {sums},
       sum(r.response_hours) / nullif(sum(r.responses), 0) AS response_hours
FROM sla.report_day r
WHERE r.day BETWEEN :from_date AND :to_date{in_district}{group}
"""
# Each grouping's key, the district it lies in, and what it groups by; a street is grouped
# within its district (two districts may have streets of one name). ``all``: one group.
GROUP_COLUMNS = {
    "district": ("r.district", "r.district", " GROUP BY r.district ORDER BY r.district"),
    "street": (
        "r.street",
        "r.district",
        " GROUP BY r.district, r.street ORDER BY r.district, r.street",
    ),
    "category": ("r.category", "NULL", " GROUP BY r.category ORDER BY r.category"),
    "all": ("NULL", "NULL", ""),
}


async def group_counts(
    session: AsyncSession,
    *,
    by: str,
    from_date: date,
    to_date: date,
    district: str | None = None,
) -> list[dict[str, Any]]:
    """The counts behind the KPIs per district, street or category (in ``unit``: the group's
    key, in ``district`` its district), or of ``all`` the tickets, summed over the units that
    handled them."""
    await refresh(session, from_date=from_date, to_date=to_date)
    in_district = " AND r.district = :district" if district else ""
    column, place, group = GROUP_COLUMNS[by]
    statement = text(
        GROUP_SQL.format(
            column=column, place=place, sums=SUMS, in_district=in_district, group=group
        )
    )
    parameters: dict[str, Any] = {"from_date": from_date, "to_date": to_date}
    if district:
        parameters["district"] = district
    return [dict(row) for row in (await session.execute(statement, parameters)).mappings()]


async def volume(
    session: AsyncSession,
    *,
    by: str,
    from_date: date,
    to_date: date,
    unit: str | None = None,
    district: str | None = None,
) -> list[tuple[str | None, int, int]]:
    """Tickets received in the period and how many of them fell late, per week (its
    Monday), unit, district or category. Per unit, or within one unit, a ticket counts for
    each unit that received it; otherwise once."""
    await refresh(session, from_date=from_date, to_date=to_date)
    day = col(ReportDay.day)
    keys: dict[str, Any] = {
        "week": day - (func.extract("isodow", day).cast(Integer) - 1),
        "unit": col(ReportDay.unit_id),
        "district": col(ReportDay.district),
        "category": col(ReportDay.category),
    }
    key = keys[by].label("key")
    per_unit = by == "unit" or unit is not None
    received = func.sum(col(ReportDay.received) if per_unit else col(ReportDay.tickets))
    late = func.sum(col(ReportDay.received_late) if per_unit else col(ReportDay.tickets_late))
    query = (
        select(key, received, late)
        .where(day >= from_date, day <= to_date)
        .group_by(key)
        .having(received > 0)
        .order_by(key if by == "week" else received.desc())
    )
    if unit:
        query = query.where(col(ReportDay.unit_id) == unit)
    if district:
        query = query.where(col(ReportDay.district) == district)
    rows = (await session.execute(query)).all()
    return [(k.isoformat() if by == "week" else k, int(n), int(m)) for k, n, m in rows]
