"""Clock endpoints: a ticket's clocks, extensions (asked by dispatch), adjustments, a scan."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header

from shared.auth import Principal, Role, require, require_service
from shared.clock import SHANGHAI
from shared.deps import ClockDep, OutboxDep, SessionDep
from sla.clocks import service
from sla.clocks.schemas import (
    AdjustmentCreate,
    ClockRead,
    ClocksRead,
    ExtensionCreate,
    ExtensionRead,
    ScanRead,
)
from sla.deps import CalendarDep, TicketRef

router = APIRouter(tags=["clocks"])
Reader = Annotated[
    Principal, Depends(require(Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN, Role.SERVICE))
]
Agency = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.ADMIN))]
# Extensions are asked by dispatch, which checked the unit's rules first (Art 18).
Dispatch = Annotated[Principal, Depends(require_service("dispatch"))]


@router.get("/v1/tickets/{ticket_id}/clocks", response_model=ClocksRead)
async def clocks(ticket_id: TicketRef, session: SessionDep, _: Reader) -> ClocksRead:
    """Every run of every clock of the ticket, oldest first."""
    rows = await service.ticket_clocks(session, ticket_id)
    return ClocksRead(ticket_id=ticket_id, items=[ClockRead.model_validate(r) for r in rows])


@router.post("/v1/tickets/{ticket_id}/extensions", response_model=ExtensionRead)
async def extend(
    ticket_id: TicketRef,
    body: ExtensionCreate,
    session: SessionDep,
    outbox: OutboxDep,
    calendar: CalendarDep,
    clock: ClockDep,
    _: Dispatch,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=200)],
) -> ExtensionRead:
    """Art 18: granted with the new due time, or refused (409) with the rule."""
    extension = await service.extend(
        session,
        outbox,
        calendar,
        ticket_id=ticket_id,
        idempotency_key=idempotency_key,
        reason=body.reason,
        requested_by=body.requested_by,
        now=clock.now(),
    )
    handling = await service.ticket_clocks(session, ticket_id)
    current = next(c for c in handling if c.id == extension.clock_id)
    return ExtensionRead(
        ticket_id=ticket_id,
        due_at=extension.new_due_at.astimezone(SHANGHAI),
        due_date=extension.new_due_date,
        extensions_used=extension.number,
        provisional=current.provisional,
    )


@router.post("/v1/tickets/{ticket_id}/adjustments", response_model=ClockRead)
async def adjust(
    ticket_id: TicketRef,
    body: AdjustmentCreate,
    session: SessionDep,
    outbox: OutboxDep,
    calendar: CalendarDep,
    clock: ClockDep,
    principal: Agency,
) -> ClockRead:
    """Art 17: force majeure moves a due day; the change and its reason are recorded."""
    adjusted = await service.adjust(
        session,
        outbox,
        calendar,
        ticket_id=ticket_id,
        kind=body.clock,
        due_date=body.due_date,
        reason=body.reason,
        told_caller=body.told_caller,
        actor=principal.subject,
        now=clock.now(),
    )
    return ClockRead.model_validate(adjusted)


@router.post("/v1/scan", response_model=ScanRead)
async def scan(
    session: SessionDep,
    outbox: OutboxDep,
    clock: ClockDep,
    calendar: CalendarDep,
    _: Annotated[Principal, Depends(require(Role.ADMIN))],
) -> ScanRead:
    """Run one breach scan and one due-soon scan now (the scheduler runs them every
    HOTLINE_SLA_SCAN_SECONDS)."""
    now = clock.now()
    breached = await service.scan_breaches(session, outbox, now=now)
    until = service.due_soon_until(calendar, now)
    warned = await service.warn_due_soon(session, outbox, now=now, until=until)
    return ScanRead(breached=breached, warned=warned)
