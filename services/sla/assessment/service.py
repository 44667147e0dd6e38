"""The assessment's reads (Art 24): scores and ranks from the KPIs, the tickets that cost a
unit its points, and the week's hotspots — the rules themselves are pure, in ``rules`` and
``hotspots``."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.errors import BadInput
from shared.vocabulary import ClockKind, Rating, Resolution, StepAction
from sla.assessment import hotspots as hotspots_rules
from sla.assessment import rules
from sla.assessment.schemas import (
    CostRead,
    CostReason,
    HotspotRead,
    HotspotTicket,
    LineRead,
    RankingRead,
    RankRead,
)
from sla.clocks.models import Clock, TicketStep
from sla.dashboard import rollup, service
from sla.dashboard.models import ReportDay
from sla.deps import numbers_of
from sla.supervision.models import Supervision

HANDLING_KINDS = (
    ClockKind.HANDLING.value,
    ClockKind.REHANDLING.value,
    ClockKind.FINAL_FEEDBACK.value,
)
HOTSPOT_TICKETS = 50  # listed per hotspot


def month_span(month: str) -> tuple[date, date]:
    """The first and last day of a month written YYYY-MM, or a 422."""
    if not re.fullmatch(r"\d{4}-\d{2}", month):
        raise BadInput("month is YYYY-MM", zh="月份格式应为 年-月，如 2026-11")
    try:
        return rules.month_bounds(month)
    except ValueError:
        raise BadInput(f"no month {month}", zh=f"没有月份 {month}") from None


async def _scores(
    session: AsyncSession, first: date, last: date, district: str | None
) -> tuple[list[rules.Score], dict[str, int]]:
    units = await service.units_with_clocks(session, district=district)
    kpis = await service.kpis(
        session, units=units, from_date=first, to_date=last, district=district
    )
    w = rules.weights()
    received = {k.unit: k.received for k in kpis}
    return [rules.score(k.model_dump(), w) for k in kpis], received


async def ranking(session: AsyncSession, month: str, district: str | None) -> RankingRead:
    """Every unit's score for the month, its rank and its change against the month before."""
    first, last = month_span(month)
    before = rules.previous_month(month)
    scores, received = await _scores(session, first, last, district)
    earlier, _ = await _scores(session, *rules.month_bounds(before), district)
    now, then = rules.ranks(scores), rules.ranks(earlier)
    items = [
        RankRead(
            unit=s.unit,
            rank=now.get(s.unit),
            previous_rank=then.get(s.unit),
            change=then[s.unit] - now[s.unit] if s.unit in now and s.unit in then else None,
            score=s.score,
            deducted=s.deducted,
            received=received[s.unit],
            lines=[LineRead(**vars(line)) for line in s.lines],
        )
        for s in scores
    ]
    items.sort(key=lambda r: (r.rank is None, r.rank or 0, r.unit))
    return RankingRead(month=month, previous_month=before, items=items)


async def costs(
    session: AsyncSession, unit: str, month: str, district: str | None
) -> list[CostRead]:
    """Each ticket that cost the unit points in the month, with why."""
    found = await _costs(session, unit, month, district)
    numbers = await numbers_of(session, [ticket for _, ticket in found])
    return [CostRead(reason=CostReason(r), ticket_id=t, number=numbers.get(t)) for r, t in found]


async def _costs(
    session: AsyncSession, unit: str, month: str, district: str | None
) -> list[tuple[str, str]]:
    """(why, ticket id) for each ticket that cost the unit points in the month."""
    first, last = month_span(month)
    from_at, to_at = rollup.period_bounds(first, last)
    in_district = [] if district is None else [col(Clock.district) == district]
    late = select(col(Clock.ticket_id)).where(
        col(Clock.unit_id) == unit,
        col(Clock.kind).in_(HANDLING_KINDS),
        col(Clock.breached_at).is_not(None),
        or_(
            and_(col(Clock.stopped_at) >= from_at, col(Clock.stopped_at) < to_at),
            and_(col(Clock.stopped_at).is_(None), col(Clock.due_date).between(first, last)),
        ),
        *in_district,
    )
    step_district = [] if district is None else [col(TicketStep.district) == district]

    def steps(action: StepAction, *where: Any, by_actor: bool = False) -> Any:
        who = col(TicketStep.actor_unit_id) if by_actor else col(TicketStep.unit_id)
        return select(col(TicketStep.ticket_id)).where(
            who == unit,
            col(TicketStep.action) == action.value,
            col(TicketStep.at) >= from_at,
            col(TicketStep.at) < to_at,
            *where,
            *step_district,
        )

    details = col(TicketStep.details)
    supervised = select(col(Supervision.ticket_id)).where(
        col(Supervision.unit_id) == unit,
        col(Supervision.withdrawn_at).is_(None),
        col(Supervision.opened_at) >= from_at,
        col(Supervision.opened_at) < to_at,
        *([] if district is None else [col(Supervision.district) == district]),
    )
    queries = {
        "late": late,
        "unsatisfied": steps(
            StepAction.EVALUATED, details["rating"].astext == Rating.UNSATISFIED.value
        ),
        "not_solved": steps(
            StepAction.EVALUATED,
            details["resolution"].astext.in_(
                [Resolution.NOT_SOLVED.value, Resolution.PARTLY_SOLVED.value]
            ),
        ),
        "returned": steps(StepAction.RETURN_REQUESTED, by_actor=True),
        "rehandled": steps(StepAction.SENT_BACK_FOR_REHANDLING),
        "supervised": supervised,
    }
    found: list[tuple[str, str]] = []
    for reason, query in queries.items():
        found += [(reason, t) for t in dict.fromkeys(await session.scalars(query))]
    return found


async def hotspots(session: AsyncSession, monday: date, district: str | None) -> list[HotspotRead]:
    """The week's (category, district) cells whose calls rose above their previous weeks
    (``hotspots_rules.surges`` on the daily rollups), each with its tickets."""
    first = monday - timedelta(weeks=hotspots_rules.BASELINE_WEEKS)
    last = monday + timedelta(days=6)
    await rollup.refresh(session, from_date=first, to_date=last)
    in_district = [] if district is None else [col(ReportDay.district) == district]
    rows = await session.execute(
        select(
            col(ReportDay.day),
            col(ReportDay.category),
            col(ReportDay.district),
            func.sum(col(ReportDay.tickets)),
        )
        .where(col(ReportDay.day).between(first, last), *in_district)
        .group_by(col(ReportDay.day), col(ReportDay.category), col(ReportDay.district))
    )
    weeks = hotspots_rules.weekly_counts(
        (((r[0] - first).days // 7, r[1], r[2], int(r[3])) for r in rows),
        weeks=hotspots_rules.BASELINE_WEEKS + 1,
    )
    from_at, to_at = rollup.period_bounds(monday, last)
    found = []
    for surge in hotspots_rules.surges(weeks):
        category, place = surge.cell
        ids = await session.scalars(
            select(col(Clock.ticket_id))
            .where(
                col(Clock.kind) == ClockKind.HANDLING.value,
                col(Clock.started_at) >= from_at,
                col(Clock.started_at) < to_at,
                col(Clock.category).is_not_distinct_from(category),
                col(Clock.district).is_not_distinct_from(place),
            )
            .distinct()
            .limit(HOTSPOT_TICKETS)
        )
        found.append((surge, list(ids)))
    numbers = await numbers_of(session, [t for _, ids in found for t in ids])
    return [
        HotspotRead(
            category=surge.cell[0],
            district=surge.cell[1],
            count=surge.count,
            baseline=surge.baseline,
            previous=surge.previous,
            growing=surge.growing,
            p_value=surge.p_value,
            tickets=[HotspotTicket(ticket_id=t, number=numbers.get(t)) for t in ids],
        )
        for surge, ids in found
    ]
