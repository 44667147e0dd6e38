"""The monthly assessment (Art 24): every unit's score with its rank and the change against
the previous month (/v1/rankings), what cost one unit its points, ticket by ticket
(/v1/rankings/{unit_id}), and the week's hotspots with supervisors' decisions on them
(/v1/hotspots, /v1/hotspots/reviews). Scores come from the KPIs
(docs/kpis.md) and the city's weights (services/sla/assessment/weights.json)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from shared.auth import Principal, Role, require
from shared.deps import ClockDep, OutboxDep, SessionDep
from shared.errors import Forbidden
from shared.schemas import Day, week_asked
from shared.workdays import local_date
from sla.assessment import hotspots as hotspots_rules
from sla.assessment import service
from sla.assessment.schemas import (
    ExplanationRead,
    HotspotReviewCreate,
    HotspotReviewRead,
    HotspotReviewsRead,
    HotspotsRead,
    RankingRead,
    RankRead,
)

router = APIRouter(tags=["assessment"])
Watcher = Annotated[
    Principal,
    Depends(require(Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN, Role.INSPECTOR, Role.UNIT)),
]
Month = Annotated[str, Query(description="YYYY-MM, Beijing calendar")]


@router.get("/v1/rankings", response_model=RankingRead)
async def ranking(
    session: SessionDep, principal: Watcher, month: Month, district: str | None = None
) -> RankingRead:
    """Every unit's score of 100 for the month, its rank and the places it moved against
    the previous month; over one ``district``'s tickets (a district hotline agency: always
    its own, Art 5)."""
    return await service.ranking(session, month, principal.own_district(district))


@router.get("/v1/rankings/{unit_id}", response_model=ExplanationRead)
async def explanation(
    unit_id: str, session: SessionDep, principal: Watcher, month: Month
) -> ExplanationRead:
    """What cost the unit its points in the month: each measure's points earned and lost,
    and the tickets behind them (late, unsatisfied, not solved, returned, re-handled,
    supervised)."""
    if principal.role is Role.UNIT and principal.unit_id != unit_id:
        raise Forbidden("a unit sees its own assessment", zh="只能查看本单位的考核情况")
    ranked = await service.ranking(session, month, principal.district)
    unit = next((r for r in ranked.items if r.unit == unit_id), None)
    if unit is None:
        unit = RankRead(unit=unit_id, rank=None, previous_rank=None, change=None, score=None,
                        deducted=0.0, received=0, lines=[])  # fmt: skip
    tickets = await service.costs(session, unit_id, month, principal.district)
    return ExplanationRead(month=month, unit=unit, tickets=tickets)


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
    monday = week_asked(week, local_date(clock.now()))
    items = await service.hotspots(session, monday, principal.own_district(district))
    return HotspotsRead(week=monday, alpha=hotspots_rules.ALPHA, items=items)


@router.get("/v1/hotspots/reviews", response_model=HotspotReviewsRead)
async def hotspot_reviews(
    session: SessionDep,
    principal: Annotated[
        Principal,
        Depends(require(Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN, Role.INSPECTOR)),
    ],
    week: Day,
    district: str | None = None,
) -> HotspotReviewsRead:
    """Every decision taken on the week's hotspots and clusters, oldest first."""
    rows = await service.reviews(session, week, principal.own_district(district))
    return HotspotReviewsRead(
        week=week,
        items=[HotspotReviewRead.model_validate(r, from_attributes=True) for r in rows],
    )


@router.post("/v1/hotspots/reviews", response_model=HotspotReviewRead, status_code=201)
async def review_hotspot(
    body: HotspotReviewCreate,
    session: SessionDep,
    outbox: OutboxDep,
    clock: ClockDep,
    principal: Annotated[Principal, Depends(require(Role.SUPERVISOR, Role.DISPATCHER))],
) -> HotspotReviewRead:
    """A supervisor's decision on one of the week's hotspots, or on a cluster intake found
    (its key and tickets): reviewed, or supervised — a supervision (Art 23(4)) opened on each
    of its matters still being handled, addressed to the unit handling it. Each is supervised
    once (409 after that)."""
    week_asked(body.week, local_date(clock.now()))
    record = await service.review(
        session,
        outbox,
        body,
        district=principal.own_district(body.district),
        principal=principal,
        now=clock.now(),
    )
    return HotspotReviewRead.model_validate(record, from_attributes=True)
