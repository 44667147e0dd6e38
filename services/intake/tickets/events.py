"""Events intake receives: the status, unit, due time and answer a caller asking for progress
is told (from dispatch and sla), and what the caller is to be told by SMS (Art 18)."""

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.datastructures import State

from intake.tickets import service
from intake.tickets.models import Ticket
from shared.events import CallerNoticeDue, DeadlineChanged, EventEnvelope, TicketStatusChanged
from shared.outbox import EventHandler


def handlers(state: State) -> dict[str, EventHandler]:
    async def status_changed(session: AsyncSession, envelope: EventEnvelope) -> None:
        event = envelope.parse(TicketStatusChanged)
        query = select(Ticket).where(col(Ticket.id) == event.ticket_id).with_for_update()
        ticket = (await session.execute(query)).scalar_one_or_none()
        if ticket is None:
            return
        ticket.status = event.status
        # Only the unit holding the ticket now may read the caller's contact: after an
        # approved return (Art 15(1)) the ticket is with the agency and no unit holds it.
        ticket.assigned_unit = event.unit_id
        ticket.assigned_unit_name = event.unit_name
        ticket.updated_at = state.clock.now()

    async def caller_notice(session: AsyncSession, envelope: EventEnvelope) -> None:
        event = envelope.parse(CallerNoticeDue)
        ticket = await session.get(Ticket, event.ticket_id)
        if ticket is None:
            return
        if event.answer is not None:
            ticket.answer = event.answer
        await service.tell_caller(
            session,
            state.outbox,
            ticket,
            event.kind,
            now=state.clock.now(),
            reason=event.reason,
            due_at=event.due_at,
        )

    async def deadline(session: AsyncSession, envelope: EventEnvelope) -> None:
        event = envelope.parse(DeadlineChanged)
        await session.execute(
            update(Ticket).where(col(Ticket.id) == event.ticket_id).values(due_at=event.due_at)
        )

    return {
        TicketStatusChanged.type_name: status_changed,
        DeadlineChanged.type_name: deadline,
        CallerNoticeDue.type_name: caller_notice,
    }
