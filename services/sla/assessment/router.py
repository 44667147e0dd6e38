"""The monthly assessment (Art 24): every unit's score with its rank and the change against
the previous month (/v1/rankings), and what cost one unit its points, ticket by ticket
(/v1/rankings/{unit_id}). Scores come from the KPIs (docs/kpis.md) and the city's weights
(services/sla/assessment/weights.json); docs/kpis.md says how."""

from __future__ import annotations

import re
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.auth import Principal, Role, require
from shared.deps import ClockDep, SessionDep
from shared.errors import BadInput, Forbidden
from shared.schemas import Day
from shared.vocabulary import ClockKind, Rating, Resolution, StepAction
from shared.workdays import local_date
from sla.assessment import hotspots as hotspots_rules
from sla.assessment import rules
from sla.clocks.models import Clock, TicketStep
from sla.dashboard import rollup, service
from sla.dashboard.models import ReportDay
from sla.dashboard.router import own_district
from sla.deps import numbers_of
from sla.supervision.models import Supervision

router = APIRouter(tags=["assessment"])
Watcher = Annotated[
    Principal,
    Depends(require(Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN, Role.INSPECTOR, Role.UNIT)),
]
Month = Annotated[str, Query(description="YYYY-MM, Beijing calendar")]
HANDLING_KINDS = (
    ClockKind.HANDLING.value,
    ClockKind.REHANDLING.value,
    ClockKind.FINAL_FEEDBACK.value,
)


class LineRead(BaseModel):
    measure: str
    rate: float
    weight: float
    earned: float
    lost: float


class RankRead(BaseModel):
    unit: str
    rank: int | None  # None: nothing to assess this month
    previous_rank: int | None
    change: int | None  # places up (positive) or down against the previous month
    score: float | None
    deducted: float
    received: int
    lines: list[LineRead]


class RankingRead(BaseModel):
    month: str
    previous_month: str
    items: list[RankRead]


class CostReason(StrEnum):
    """Why a ticket cost a unit points in the month."""

    LATE = "late"
    UNSATISFIED = "unsatisfied"
    NOT_SOLVED = "not_solved"  # or partly solved
    RETURNED = "returned"
    REHANDLED = "rehandled"
    SUPERVISED = "supervised"


class CostRead(BaseModel):
    """Tickets that cost the unit points, by why."""

    reason: CostReason
    ticket_id: str
    number: str | None


class ExplanationRead(BaseModel):
    month: str
    unit: RankRead
    tickets: list[CostRead]


def _month(month: str) -> tuple[date, date]:
    if not re.fullmatch(r"\d{4}-\d{2}", month):
        raise BadInput("month is YYYY-MM", zh="月份格式应为 年-月，如 2026-11")
    try:
        return rules.month_bounds(month)
    except ValueError:
        raise BadInput(f"no month {month}", zh=f"没有月份 {month}") from None


async def _scores(
    session: AsyncSession, month: str, district: str | None
) -> tuple[list[rules.Score], dict[str, int]]:
    first, last = _month(month)
    units = await service.units_with_clocks(session, district=district)
    kpis = await service.kpis(
        session, units=units, from_date=first, to_date=last, district=district
    )
    w = rules.weights()
    received = {k.unit: k.received for k in kpis}
    return [rules.score(k.model_dump(), w) for k in kpis], received


async def _ranking(session: AsyncSession, month: str, district: str | None) -> RankingRead:
    _month(month)  # a month that is not one is refused before anything is read
    before = rules.previous_month(month)
    scores, received = await _scores(session, month, district)
    earlier, _ = await _scores(session, before, district)
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


@router.get("/v1/rankings", response_model=RankingRead)
async def ranking(
    session: SessionDep, principal: Watcher, month: Month, district: str | None = None
) -> RankingRead:
    """Every unit's score of 100 for the month, its rank and the places it moved against
    the previous month; over one ``district``'s tickets (a district hotline agency: always
    its own, Art 5)."""
    return await _ranking(session, month, own_district(principal, district))


@router.get("/v1/rankings/{unit_id}", response_model=ExplanationRead)
async def explanation(
    unit_id: str, session: SessionDep, principal: Watcher, month: Month
) -> ExplanationRead:
    """What cost the unit its points in the month: each measure's points earned and lost,
    and the tickets behind them (late, unsatisfied, not solved, returned, re-handled,
    supervised)."""
    if principal.role is Role.UNIT and principal.unit_id != unit_id:
        raise Forbidden("a unit sees its own assessment", zh="只能查看本单位的考核情况")
    ranked = await _ranking(session, month, principal.district)
    unit = next((r for r in ranked.items if r.unit == unit_id), None)
    if unit is None:
        unit = RankRead(unit=unit_id, rank=None, previous_rank=None, change=None, score=None,
                        deducted=0.0, received=0, lines=[])  # fmt: skip
    costs = await _costs(session, unit_id, month, principal.district)
    numbers = await numbers_of(session, [ticket for _, ticket in costs])
    return ExplanationRead(
        month=month,
        unit=unit,
        tickets=[
            CostRead(reason=CostReason(r), ticket_id=t, number=numbers.get(t)) for r, t in costs
        ],
    )


async def _costs(
    session: AsyncSession, unit: str, month: str, district: str | None
) -> list[tuple[str, str]]:
    """(why, ticket id) for each ticket that cost the unit points in the month."""
    from_at, to_at = rollup.period_bounds(*_month(month))
    first, last = _month(month)
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


class HotspotTicket(BaseModel):
    ticket_id: str
    number: str | None


class HotspotRead(BaseModel):
    category: str | None
    district: str | None
    count: int  # calls this week
    baseline: float  # their weekly mean over the 8 weeks before
    previous: int  # last week's
    growing: bool
    p_value: float
    tickets: list[HotspotTicket]


class HotspotsRead(BaseModel):
    week: date  # its Monday
    alpha: float
    items: list[HotspotRead]


HOTSPOT_TICKETS = 50  # listed per hotspot


@router.get("/v1/hotspots", response_model=HotspotsRead)
async def hotspots(
    session: SessionDep,
    clock: ClockDep,
    principal: Annotated[
        Principal,
        Depends(require(Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN, Role.INSPECTOR)),
    ],
    week: Day | None = None,
    district: str | None = None,
) -> HotspotsRead:
    """The categories whose calls in one district rose well above that district's own
    previous eight weeks, in the week starting on ``week`` (a Monday; by default the last
    whole week), with their tickets; the test and its false-alarm rate: docs/kpis.md."""
    today = local_date(clock.now())
    monday = week or today - timedelta(days=today.weekday() + 7)
    if monday.weekday() != 0:
        raise BadInput("week is the Monday a week starts on", zh="week 应为一周的星期一")
    where = own_district(principal, district)
    first = monday - timedelta(weeks=hotspots_rules.BASELINE_WEEKS)
    last = monday + timedelta(days=6)
    await rollup.refresh(session, from_date=first, to_date=last)
    in_district = [] if where is None else [col(ReportDay.district) == where]
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
    found = hotspots_rules.surges(weeks)
    from_at, to_at = rollup.period_bounds(monday, last)
    items = []
    for surge in found:
        category, place = surge.cell
        ids = list(
            await session.scalars(
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
        )
        numbers = await numbers_of(session, ids)
        items.append(
            HotspotRead(
                category=category,
                district=place,
                count=surge.count,
                baseline=surge.baseline,
                previous=surge.previous,
                growing=surge.growing,
                p_value=surge.p_value,
                tickets=[HotspotTicket(ticket_id=t, number=numbers.get(t)) for t in ids],
            )
        )
    return HotspotsRead(week=monday, alpha=hotspots_rules.ALPHA, items=items)
