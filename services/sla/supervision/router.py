"""/v1/supervisions: opened by a breach or by the agency, answered by the unit, closed."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from shared.auth import Principal, Role, require
from shared.deps import ClockDep, OutboxDep, SessionDep
from shared.errors import Forbidden
from sla.deps import numbers_of, ticket_id_of
from sla.supervision import service
from sla.supervision.rules import Reason
from sla.supervision.schemas import (
    SupervisionClose,
    SupervisionCreate,
    SupervisionRead,
    SupervisionResponse,
    SupervisionsRead,
)

router = APIRouter(prefix="/v1/supervisions", tags=["supervision"])
OWN_DISTRICT = "区热线工作机构只能查看本区的事项（《办法》第五条）"
Agency = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN))]
# Art 21: the business guidance department supervises the matters it oversees.
Supervisor = Annotated[
    Principal, Depends(require(Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN, Role.GUIDANCE))
]
Reader = Annotated[
    Principal,
    Depends(
        require(
            Role.DISPATCHER,
            Role.SUPERVISOR,
            Role.ADMIN,
            Role.INSPECTOR,
            Role.UNIT,
            Role.GUIDANCE,
        )
    ),
]
UnitActor = Annotated[Principal, Depends(require(Role.UNIT))]


@router.get("", response_model=SupervisionsRead)
async def list_supervisions(
    session: SessionDep,
    principal: Reader,
    unit: str | None = None,
    district: str | None = None,
    ticket_id: str | None = None,
    reason: Reason | None = None,
    open_only: bool = False,
    awaiting_answer: Annotated[
        bool, Query(description="open, and the unit has not answered yet (Art 23)")
    ] = False,
    unhandled: Annotated[
        bool, Query(description="only those whose ticket is still not handled (Art 26(2))")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> SupervisionsRead:
    """Supervision records, filtered; a unit sees its own, a guidance department those of
    the matters it oversees."""
    if principal.role is Role.UNIT:
        if unit not in (None, principal.unit_id):
            raise Forbidden(
                "a unit sees only its own supervision records",
                zh="承办单位只能查看本单位的督办记录",
            )
        unit = principal.unit_id
    if principal.district is not None and district not in (None, principal.district):
        raise Forbidden("a district hotline agency sees its own district (Art 5)", zh=OWN_DISTRICT)
    if ticket_id is not None:
        ticket_id = await ticket_id_of(session, ticket_id)
    rows = await service.search(
        session,
        unit=unit,
        district=principal.district or district,
        ticket_id=ticket_id,
        reason=reason,
        open_only=open_only,
        awaiting_answer=awaiting_answer,
        unhandled=unhandled,
        overseen_by_department=principal.unit_id if principal.role is Role.GUIDANCE else None,
        limit=limit,
    )
    numbers = await numbers_of(session, [r.ticket_id for r in rows])
    return SupervisionsRead(
        items=[
            SupervisionRead.model_validate(r).model_copy(
                update={"number": numbers.get(r.ticket_id)}
            )
            for r in rows
        ]
    )


@router.post("", response_model=SupervisionRead, status_code=201)
async def open_supervision(
    body: SupervisionCreate,
    session: SessionDep,
    outbox: OutboxDep,
    clock: ClockDep,
    principal: Supervisor,
) -> SupervisionRead:
    """Art 23: the agency supervises by phone, online, on site, by meeting or document; the
    guidance department the Art 21 matters it oversees (Art 21 ¶1). The ticket may be named
    by its number (GZ…)."""
    body.ticket_id = await ticket_id_of(session, body.ticket_id)
    record = await service.open_supervision(
        session, outbox, body, principal=principal, now=clock.now()
    )
    return SupervisionRead.model_validate(record)


@router.post("/{supervision_id}/response", response_model=SupervisionRead)
async def respond(
    supervision_id: int,
    body: SupervisionResponse,
    session: SessionDep,
    clock: ClockDep,
    principal: UnitActor,
) -> SupervisionRead:
    """Art 23: the unit answers the supervision."""
    record = await service.respond(
        session, supervision_id, body.response, principal=principal, now=clock.now()
    )
    return SupervisionRead.model_validate(record)


@router.post("/{supervision_id}/close", response_model=SupervisionRead)
async def close(
    supervision_id: int,
    body: SupervisionClose,
    session: SessionDep,
    clock: ClockDep,
    principal: Agency,
) -> SupervisionRead:
    """The agency closes a supervision with its outcome."""
    record = await service.close(
        session, supervision_id, body.outcome, principal=principal, now=clock.now()
    )
    return SupervisionRead.model_validate(record)
