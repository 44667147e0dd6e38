"""Flows that span a call to another service: no ticket lock is held across the network."""

from __future__ import annotations

from sqlalchemy import func, select

from dispatch.tickets import service
from dispatch.tickets.actions import Context
from dispatch.tickets.models import Ticket, TicketEvent
from dispatch.workflow import rules
from shared.auth import Principal
from shared.clients.sla import SlaClient
from shared.vocabulary import StepAction


async def extend(
    ctx: Context, ticket_id: str, principal: Principal, *, reason: str, caller_notified: bool
) -> Ticket:
    """Art 18: check, ask sla (which owns the clock) without holding the ticket's lock, then
    lock again, check again and record.

    The key sent to sla is derived from the extensions dispatch has recorded, so a retry of
    this flow (a lost answer, a refused re-check) asks for the same extension, never a second.
    """
    unit = principal.unit_id or ""
    row = await service.get_ticket(ctx.session, ticket_id, principal=principal)
    rules.check_extension_allowed(service.state_of(row), unit=unit, caller_notified=caller_notified)
    recorded = await _extensions_recorded(ctx, ticket_id)
    granted = await SlaClient(ctx.state.clients["sla"]).request_extension(
        ticket_id=ticket_id,
        reason=reason,
        requested_by=principal.subject,
        idempotency_key=f"{ticket_id}:extension:{recorded + 1}",
    )
    row = await service.get_ticket(ctx.session, ticket_id, principal=principal, for_update=True)
    # The ticket may have moved while sla answered (a return decided, feedback sent): the
    # rule is checked again on the row as locked; a refusal here is a 409 like any other.
    rules.check_extension_allowed(service.state_of(row), unit=unit, caller_notified=caller_notified)
    if granted.extensions_used <= await _extensions_recorded(ctx, ticket_id):
        return row  # sla answered an extension this ticket's history already holds
    row.handling_due_at = granted.due_at
    return await service.record(
        ctx.session,
        ctx.state.outbox,
        row,
        rules.Transition(service.state_of(row)),
        principal=principal,
        action=StepAction.EXTENDED,
        now=ctx.now(),
        reason=reason,
        details={"due_at": granted.due_at.isoformat(), "extensions_used": granted.extensions_used},
    )


async def _extensions_recorded(ctx: Context, ticket_id: str) -> int:
    query = select(func.count()).where(
        TicketEvent.ticket_id == ticket_id, TicketEvent.action == StepAction.EXTENDED.value
    )
    return int(await ctx.session.scalar(query) or 0)
