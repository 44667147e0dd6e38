"""/v1/clusters: one matter at one place raised by several callers, week by week."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from intake.clusters import service
from intake.clusters.schemas import ClustersRead
from shared.auth import Principal, Role, require
from shared.deps import ClockDep, SessionDep
from shared.schemas import Day, week_asked
from shared.workdays import local_date

router = APIRouter(tags=["clusters"])
Overseer = Annotated[
    Principal,
    Depends(require(Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN, Role.INSPECTOR)),
]


@router.get("/v1/clusters", response_model=ClustersRead)
async def clusters(
    session: SessionDep,
    clock: ClockDep,
    principal: Overseer,
    week: Day | None = None,
    district: str | None = None,
) -> ClustersRead:
    """The matters several callers raised at one place, with a ticket in the week starting on
    ``week`` (a Monday; by default the last whole week), looked for over the four weeks to
    its end; how they are found and how well: docs/kpis.md. A district hotline agency gets
    its district's (Art 5)."""
    monday = week_asked(week, local_date(clock.now()))
    items = await service.week_clusters(session, monday, principal.own_district(district))
    return ClustersRead(week=monday, weeks=service.WINDOW_WEEKS, items=items)
