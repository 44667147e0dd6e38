"""Shared glue of the ticket endpoints: roles, the response shape, applying a rule."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dispatch.directory import service as directory
from dispatch.tickets import service
from dispatch.tickets.models import Ticket
from dispatch.tickets.schemas import TicketRead
from dispatch.workflow import rules
from shared.auth import Principal, Role, require
from shared.clients.base import ServiceClient
from shared.clock import Clock
from shared.deps import ClockDep, OutboxDep, PeersDep, SessionDep, ticket_resolver
from shared.outbox import Outbox
from shared.vocabulary import StepAction

Agency = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.ADMIN))]
VIEWER_ROLES = (
    Role.DISPATCHER,
    Role.SUPERVISOR,
    Role.ADMIN,
    Role.INSPECTOR,
    Role.UNIT,
    Role.SUB_UNIT,
)
Viewer = Annotated[Principal, Depends(require(*VIEWER_ROLES))]
# A single ticket and its history: also the guidance department overseeing it (Art 21).
TicketReader = Annotated[Principal, Depends(require(*VIEWER_ROLES, Role.GUIDANCE))]
UnitActor = Annotated[Principal, Depends(require(Role.UNIT))]
UnitOrAgency = Annotated[Principal, Depends(require(Role.UNIT, Role.DISPATCHER, Role.ADMIN))]
# The agency's actions after feedback: a sub-centre does them on its own line's tickets (Art 7).
LineAgency = UnitOrAgency
SubUnitActor = Annotated[Principal, Depends(require(Role.SUB_UNIT))]


async def _id_of_number(session: AsyncSession, number: str) -> str | None:
    return await session.scalar(select(col(Ticket.id)).where(col(Ticket.number) == number))


# A ticket in a path: its id or the number a caller reads out (GZ…).
TicketRef = Annotated[str, Depends(ticket_resolver(_id_of_number))]


SUMMARY_LINE = 40  # characters: a list row shows the number whole and this much matter


def read(row: Ticket) -> TicketRead:
    line = " ".join(row.summary.split())
    return TicketRead.model_validate(row).model_copy(
        update={
            "difficult": row.approved_returns >= rules.DIFFICULT_AFTER_RETURNS,
            "summary_line": line if len(line) <= SUMMARY_LINE else line[: SUMMARY_LINE - 1] + "…",
        }
    )


@dataclass(frozen=True)
class Context:
    """What every ticket endpoint needs besides its body and caller."""

    session: AsyncSession
    clock: Clock
    outbox: Outbox
    peers: dict[str, ServiceClient]

    def now(self) -> datetime:
        return self.clock.now()


async def _context(
    session: SessionDep, clock: ClockDep, outbox: OutboxDep, peers: PeersDep
) -> Context:
    return Context(session, clock, outbox, peers)


Ctx = Annotated[Context, Depends(_context)]


async def apply_action(
    ctx: Context,
    ticket_id: str,
    principal: Principal,
    *,
    action: StepAction,
    transition: Callable[[rules.Ticket], rules.Transition],
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    before: Callable[[Ticket], Awaitable[None]] | None = None,
    as_agency: bool = False,
    acted_at: datetime | None = None,
) -> Ticket:
    """Lock the ticket, run the rule, then (if allowed) ``before``, and record it all;
    ``as_agency``: an agency action (a sub-centre may take it on its own line's tickets);
    ``acted_at``: when the act itself happened, if earlier than now (sla judges by it)."""
    row = await service.get_ticket(ctx.session, ticket_id, principal=principal, for_update=True)
    if as_agency:
        service.check_agency_action(row, principal)
    moved = transition(service.state_of(row))
    if before is not None:
        await before(row)
    return await service.record(
        ctx.session,
        ctx.outbox,
        row,
        moved,
        principal=principal,
        action=action,
        now=ctx.now(),
        reason=reason,
        details=details,
        clocks_at=acted_at,
    )


async def require_units(session: SessionDep, unit_ids: list[str]) -> frozenset[str]:
    for unit_id in unit_ids:
        await directory.get_unit(session, unit_id)
    return frozenset(unit_ids)
