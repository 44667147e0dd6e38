"""The assessment's reads (Art 24): scores and ranks from the KPIs, the tickets that cost a
unit its points, and the week's hotspots — the rules themselves are pure, in ``rules`` and
``hotspots``."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.auth import Principal
from shared.catalogue import catalogue
from shared.errors import BadInput, Conflict, NotFound
from shared.outbox import Outbox
from shared.vocabulary import ClockKind, ClockState, Rating, Resolution, StepAction
from sla.assessment import hotspots as hotspots_rules
from sla.assessment import rules
from sla.assessment.models import HotspotReview
from sla.assessment.schemas import (
    CostRead,
    CostReason,
    HotspotDecision,
    HotspotRead,
    HotspotReviewCreate,
    HotspotReviewRead,
    HotspotTicket,
    LineRead,
    RankingRead,
    RankRead,
)
from sla.clocks.models import Clock, TicketStep
from sla.dashboard import rollup, service
from sla.dashboard.models import ReportDay
from sla.deps import numbers_of
from sla.supervision import service as supervision_service
from sla.supervision.models import Supervision
from sla.supervision.rules import Reason
from sla.supervision.schemas import SupervisionCreate

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


async def _surges(
    session: AsyncSession, monday: date, district: str | None
) -> list[hotspots_rules.Surge]:
    first = monday - timedelta(weeks=hotspots_rules.BASELINE_WEEKS)
    last = monday + timedelta(days=6)
    await rollup.refresh(session, from_date=first, to_date=last)
    in_district = [] if district is None else [col(ReportDay.district) == district]
    keys = (col(ReportDay.category), col(ReportDay.district), col(ReportDay.street))
    rows = await session.execute(
        select(col(ReportDay.day), *keys, func.sum(col(ReportDay.tickets)))
        .where(col(ReportDay.day).between(first, last), *in_district)
        .group_by(col(ReportDay.day), *keys)
    )
    weeks = hotspots_rules.weekly_counts(
        (((r[0] - first).days // 7, r[1], r[2], r[3], int(r[4])) for r in rows),
        weeks=hotspots_rules.BASELINE_WEEKS + 1,
    )
    return hotspots_rules.surges(weeks)


def _week_runs(monday: date, cell: hotspots_rules.Cell) -> Any:
    """The handling runs of the cell's tickets that started in the week."""
    category, district, street = cell
    from_at, to_at = rollup.period_bounds(monday, monday + timedelta(days=6))
    in_street = [] if street is None else [col(Clock.street) == street]
    return select(Clock).where(
        col(Clock.kind) == ClockKind.HANDLING.value,
        col(Clock.started_at) >= from_at,
        col(Clock.started_at) < to_at,
        col(Clock.category).is_not_distinct_from(category),
        col(Clock.district).is_not_distinct_from(district),
        *in_street,
    )


async def hotspots(session: AsyncSession, monday: date, district: str | None) -> list[HotspotRead]:
    """The week's (category, district) and (category, street) cells whose calls rose above
    their previous weeks (``hotspots_rules.surges`` on the daily rollups), each with its
    tickets, the units handling them and the latest decision on it."""
    found = []
    for surge in await _surges(session, monday, district):
        runs = _week_runs(monday, surge.cell).subquery()
        pairs = (await session.execute(select(runs.c.ticket_id, runs.c.unit_id).distinct())).all()
        ids = sorted({t for t, _ in pairs})[:HOTSPOT_TICKETS]
        found.append((surge, ids, sorted({u for _, u in pairs if u is not None})))
    numbers = await numbers_of(session, [t for _, ids, _ in found for t in ids])
    latest = await _latest(session, monday)
    return [
        HotspotRead(
            category=surge.cell[0],
            district=surge.cell[1],
            street=surge.cell[2],
            count=surge.count,
            baseline=surge.baseline,
            previous=surge.previous,
            growing=surge.growing,
            p_value=surge.p_value,
            units=units,
            tickets=[HotspotTicket(ticket_id=t, number=numbers.get(t)) for t in ids],
            review=latest.get((None, *surge.cell)),
        )
        for surge, ids, units in found
    ]


async def reviews(
    session: AsyncSession, monday: date, district: str | None = None
) -> list[HotspotReview]:
    """The week's decisions on hotspots and clusters, oldest first (a district's: its own)."""
    query = (
        select(HotspotReview)
        .where(col(HotspotReview.week) == monday)
        .order_by(col(HotspotReview.decided_at), col(HotspotReview.id))
    )
    if district is not None:
        query = query.where(col(HotspotReview.district) == district)
    return list(await session.scalars(query))


def _subject(decision: HotspotReview | HotspotReviewCreate) -> tuple[str | None, ...]:
    """What a decision is about: a cluster by its key, a hotspot by its cell."""
    if decision.cluster:
        return (decision.cluster,)
    return (None, decision.category, decision.district, decision.street)


async def _latest(
    session: AsyncSession, monday: date
) -> dict[tuple[str | None, ...], HotspotReviewRead]:
    """The latest decision on each of the week's hotspots and clusters."""
    return {
        _subject(r): HotspotReviewRead.model_validate(r, from_attributes=True)
        for r in await reviews(session, monday)
    }


async def review(
    session: AsyncSession,
    outbox: Outbox,
    body: HotspotReviewCreate,
    *,
    district: str | None,
    principal: Principal,
    now: datetime,
) -> HotspotReview:
    """Record a supervisor's decision on one of the week's hotspots, or on a cluster intake
    found (one matter at one place, several callers: named by its key and its tickets); to
    supervise it opens a supervision (Art 23(4)) for each of its matters whose handling still
    runs, addressed to the unit handling it."""
    if body.cluster is None:
        cell = (body.category, body.district, body.street)
        if not any(s.cell == cell for s in await _surges(session, body.week, district)):
            raise NotFound("no such hotspot that week", zh="该周没有这个热点")
        tickets: Any = select(_week_runs(body.week, cell).subquery().c.ticket_id)
    else:
        tickets = body.tickets
        known = select(func.count(func.distinct(col(Clock.ticket_id)))).where(
            col(Clock.ticket_id).in_(tickets),
            *([] if district is None else [col(Clock.district) == district]),
        )
        if await session.scalar(known) != len(set(tickets)):
            raise NotFound(
                "a ticket of the cluster is not known here (or not in the district)",
                zh="该聚集事项中有本系统未知（或不属本区）的热线事项",
            )
    opened = 0
    if body.decision is HotspotDecision.SUPERVISED:
        if any(
            r.decision == HotspotDecision.SUPERVISED and _subject(r) == _subject(body)
            for r in await reviews(session, body.week)
        ):
            raise Conflict("the hotspot is supervised already", zh="该热点已督办")
        still_handled = await session.execute(
            select(col(Clock.ticket_id), col(Clock.unit_id))
            .where(
                col(Clock.ticket_id).in_(tickets),
                col(Clock.kind).in_([ClockKind.HANDLING.value, ClockKind.REHANDLING.value]),
                col(Clock.state) == ClockState.RUNNING.value,
            )
            .order_by(col(Clock.ticket_id))
        )
        ground = _ground(body)
        for ticket_id, unit_id in still_handled:
            if unit_id is None:  # no unit handles it: nobody to supervise
                continue
            await supervision_service.open_supervision(
                session,
                outbox,
                SupervisionCreate(
                    ticket_id=ticket_id,
                    unit_id=unit_id,
                    reason=Reason.OTHER,
                    method=body.method,
                    note=f"{ground}。{body.note}" if body.note else ground,
                ),
                principal=principal,
                now=now,
            )
            opened += 1
    record = HotspotReview(
        **body.model_dump(exclude={"method", "tickets"}),
        supervisions=opened,
        decided_at=now,
        decided_by=principal.subject,
    )
    session.add(record)
    await session.flush()
    return record


def _ground(body: HotspotReviewCreate) -> str:
    """What a supervision opened from a hotspot or cluster says it was opened for."""
    known = catalogue().categories.get(body.category or "")
    what = known.name if known else body.category or ""
    where = body.street or body.district or ""
    if body.cluster:
        return f"{body.week:%Y年%m月%d日}一周多人反映同一事项（{body.cluster}等）：{where}{what}"
    return f"{body.week:%Y年%m月%d日}一周热点：{where}{what}"
