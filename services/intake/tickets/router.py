"""Intake's ticket endpoints (the contract of architecture.md)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from intake.deps import TicketRef, VaultDep
from intake.tickets import service
from intake.tickets.models import Ticket
from intake.tickets.schemas import (
    CallerRead,
    NoteCreate,
    NoteRead,
    TicketCreate,
    TicketList,
    TicketRead,
)
from shared.auth import Principal, Role, require
from shared.deps import ClockDep, OutboxDep, SessionDep
from shared.errors import Forbidden
from shared.notify import NotificationsRead
from shared.vocabulary import ChannelKind

router = APIRouter(tags=["tickets"])
Agent = Annotated[Principal, Depends(require(Role.AGENT))]
Reader = Annotated[
    Principal,
    Depends(require(Role.AGENT, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN, Role.INSPECTOR)),
]
ContactReader = Annotated[Principal, Depends(require(Role.AGENT, Role.UNIT))]


async def _readable(session: AsyncSession, ticket_id: str, principal: Principal) -> Ticket:
    """The ticket, if the principal's district covers it (Art 5)."""
    ticket = await service.get(session, ticket_id)
    if not principal.sees_district(ticket.district):
        raise Forbidden(
            "this ticket is another district's hotline agency's (Art 5)",
            zh="该热线事项属于其他区热线工作机构（《办法》第五条）",
        )
    return ticket


@router.post("/v1/tickets", response_model=TicketRead, status_code=201)
async def take_call(
    body: TicketCreate,
    response: Response,
    session: SessionDep,
    outbox: OutboxDep,
    vault: VaultDep,
    clock: ClockDep,
    agent: Agent,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)
    ] = None,
) -> TicketRead:
    """Record a call: closed at intake (Art 11), answered (Art 13), or submitted to dispatch."""
    ticket, created = await service.create(
        session,
        outbox,
        vault,
        body,
        agent=agent,
        idempotency_key=idempotency_key,
        now=clock.now(),
    )
    if not created:  # the first call's ticket, which this one's caller may not match
        response.status_code = 200
        return service.read(ticket, vault)
    return service.read(ticket, vault, sealed_from=body.caller)


@router.get("/v1/tickets/{ticket_id}", response_model=TicketRead)
async def get_ticket(
    ticket_id: TicketRef, session: SessionDep, vault: VaultDep, principal: Reader
) -> TicketRead:
    ticket = await _readable(session, ticket_id, principal)
    return service.read(ticket, vault)


@router.get("/v1/tickets/{ticket_id}/notifications", response_model=NotificationsRead)
async def ticket_notifications(
    ticket_id: TicketRef, session: SessionDep, principal: Reader
) -> NotificationsRead:
    """The SMS the caller was sent about this matter (with consent) and how each went; the
    number they went to is never shown here."""
    ticket = await _readable(session, ticket_id, principal)
    rows = await service.NOTIFICATIONS.listing(session, ticket_id=ticket.id)
    for row in rows:  # the callers' channel is the SMS provider, not a row of the table
        row.update(channel_kind=ChannelKind.SMS, name="诉求人短信")
    return NotificationsRead.of(rows)


@router.get("/v1/tickets", response_model=TicketList)
async def caller_tickets(
    session: SessionDep,
    vault: VaultDep,
    principal: Reader,
    caller_phone: Annotated[str, Query(min_length=5, max_length=30)],
) -> TicketList:
    """A caller's tickets with their current status (Art 11(4): tell the progress); a district
    hotline agency sees those of its district (Art 5)."""
    tickets = await service.by_caller(session, vault, caller_phone)
    return TicketList(
        items=[service.read(t, vault) for t in tickets if principal.sees_district(t.district)]
    )


@router.get("/v1/tickets/{ticket_id}/contact", response_model=CallerRead)
async def contact(
    ticket_id: TicketRef,
    session: SessionDep,
    vault: VaultDep,
    clock: ClockDep,
    principal: ContactReader,
) -> CallerRead:
    """The caller's name, phone and address in full; every read is recorded (Art 25)."""
    ticket = await service.get(session, ticket_id)
    return await service.contact(session, vault, ticket, principal=principal, now=clock.now())


@router.post("/v1/tickets/{ticket_id}/notes", response_model=NoteRead, status_code=201)
async def add_note(
    ticket_id: TicketRef,
    body: NoteCreate,
    session: SessionDep,
    outbox: OutboxDep,
    vault: VaultDep,
    clock: ClockDep,
    agent: Agent,
) -> NoteRead:
    """Art 17: the caller's new situation, passed to the unit through dispatch."""
    ticket = await service.get(session, ticket_id)
    note = await service.add_note(
        session, outbox, vault, ticket, body.text, principal=agent, now=clock.now()
    )
    return NoteRead(
        id=note.id, ticket_id=ticket_id, text=note.text, added_at=note.added_at, forwarded=True
    )
