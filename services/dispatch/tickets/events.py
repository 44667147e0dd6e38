"""Events dispatch receives: tickets, callers' notes (intake); deadlines, breaches (sla)."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.datastructures import State

from dispatch.directory import service as directory
from dispatch.tickets import service
from dispatch.tickets.models import Ticket
from dispatch.workflow import rules
from shared.events import (
    CallerNoteAdded,
    ClockBreached,
    ClockBreachWithdrawn,
    ClockDueSoon,
    DeadlineChanged,
    EventEnvelope,
    OverdueDigest,
    SupervisionOpened,
    TicketSubmitted,
)
from shared.notify import Notice
from shared.outbox import EventHandler
from shared.vocabulary import NoticeKind, StepAction

# The owner of the supervisors' channels (their daily digest), beside the units'.
SUPERVISORS = "supervisors"


async def _ticket(session: AsyncSession, ticket_id: str) -> Ticket | None:
    query = select(Ticket).where(col(Ticket.id) == ticket_id).with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


@functools.cache
def _setting_due(fields: tuple[str, ...]) -> Any:
    """A due time's UPDATE of the ticket, built once for each clock's fields: built for every
    event (one per ticket started) it cost more than its round trip."""
    table = Ticket.__table__  # type: ignore[attr-defined]
    return (
        update(table)
        .where(table.c.id == bindparam("ticket_id"))
        .values(
            {
                **{name: bindparam(name) for name in fields},
                "change_seq": service.NEXT_CHANGE,
                "updated_at": bindparam("now"),
            }
        )
    )


def _set(row: Ticket, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        setattr(row, name, value)


def handlers(state: State) -> dict[str, EventHandler]:
    """The inbox handlers of a dispatch app (they need its clock and outbox)."""

    async def noted(
        session: AsyncSession,
        row: Ticket,
        *,
        sender: str,
        action: StepAction,
        details: dict[str, Any],
        reason: str | None = None,
    ) -> None:
        # What another service reported goes into the ticket's history; the state stays.
        await service.record(
            session,
            state.outbox,
            row,
            rules.Transition(service.state_of(row)),
            principal=service.SYSTEM[sender],
            action=action,
            now=state.clock.now(),
            reason=reason,
            details=details,
        )

    async def submitted(session: AsyncSession, envelope: EventEnvelope) -> None:
        event = envelope.parse(TicketSubmitted)
        await service.receive_submitted(session, state.outbox, event, now=state.clock.now())

    async def caller_note(session: AsyncSession, envelope: EventEnvelope) -> None:
        # Art 17: the unit is told; it judges whether the period restarts.
        event = envelope.parse(CallerNoteAdded)
        row = await _ticket(session, event.ticket_id)
        if row is None:
            raise LookupError(f"note for unknown ticket {event.ticket_id}")  # retried later
        row.new_situation_pending = True
        await noted(
            session,
            row,
            sender="intake",
            action=StepAction.CALLER_NEW_SITUATION,
            reason=event.text,
            details={"note_id": event.note_id},
        )

    async def deadline(session: AsyncSession, envelope: EventEnvelope) -> None:
        event = envelope.parse(DeadlineChanged)
        values = rules.due_time_fields(event.clock, event.due_at, provisional=event.provisional)
        if not values and event.adjustment is None:
            return  # a clock the ticket keeps no due time of (contact)
        if event.adjustment is None:
            # Nothing for the history: one UPDATE, no ticket loaded (one per ticket started).
            await session.execute(
                _setting_due(tuple(values)),
                {**values, "ticket_id": event.ticket_id, "now": state.clock.now()},
            )
            return
        row = await _ticket(session, event.ticket_id)
        if row is None:
            return
        _set(row, values)
        # Art 17 ¶2: force majeure; the caller-facing record shows why and what they were told.
        await noted(
            session,
            row,
            sender="sla",
            action=StepAction.DEADLINE_ADJUSTED,
            reason=event.adjustment.reason,
            details={
                "clock": event.clock.value,
                "due_at": event.due_at and event.due_at.isoformat(),
                "told_caller": event.adjustment.told_caller,
            },
        )

    async def breached(session: AsyncSession, envelope: EventEnvelope) -> None:
        event = envelope.parse(ClockBreached)
        row = await _ticket(session, event.ticket_id)
        if row is None:
            return
        _set(row, rules.breach_fields(event.clock, breached=True))
        await noted(
            session,
            row,
            sender="sla",
            action=StepAction.due_passed(event.clock),
            details={"due_at": event.due_at.isoformat()},
        )

    async def breach_withdrawn(session: AsyncSession, envelope: EventEnvelope) -> None:
        # The act that ended the clock was on time; only its news was late (Art 17, 23(1)).
        event = envelope.parse(ClockBreachWithdrawn)
        row = await _ticket(session, event.ticket_id)
        if row is None:
            return
        _set(row, rules.breach_fields(event.clock, breached=False))
        await noted(
            session,
            row,
            sender="sla",
            action=StepAction.BREACH_WITHDRAWN,
            details={
                "clock": event.clock.value,
                "due_at": event.due_at.isoformat(),
                "act_at": event.act_at.isoformat(),
            },
        )

    async def due_soon(session: AsyncSession, envelope: EventEnvelope) -> None:
        # A reminder, not a step: the units are told; the ticket and its history stay.
        event = envelope.parse(ClockDueSoon)
        row = await session.get(Ticket, event.ticket_id)
        if row is None:
            return
        notices = rules.due_soon_notices(event.clock, service.state_of(row))
        params = service.notice_params(row, clock=event.clock, due_at=event.due_at)
        await service.tell_units(session, state.outbox, row, notices, params, now=state.clock.now())

    async def supervised(session: AsyncSession, envelope: EventEnvelope) -> None:
        event = envelope.parse(SupervisionOpened)
        row = await session.get(Ticket, event.ticket_id)
        if row is None or (unit := event.unit_id or row.lead_unit) is None:
            return
        notices = [(unit, NoticeKind.SUPERVISION_OPENED)]
        params = service.notice_params(row, reason=event.summary)
        await service.tell_units(session, state.outbox, row, notices, params, now=state.clock.now())

    async def digest(session: AsyncSession, envelope: EventEnvelope) -> None:
        event = envelope.parse(OverdueDigest)
        names = await directory.unit_names(session, list(event.by_unit))
        lines = [f"{names.get(unit, unit)}：{n} 件" for unit, n in event.by_unit.items()]
        params = {
            "date": f"{event.day:%Y年%m月%d日}",
            "overdue": str(event.overdue),
            "new_overdue": str(event.new_overdue),
            "supervisions": str(event.supervisions),
            "lines": "\n".join(lines),
        }
        notice = Notice(NoticeKind.OVERDUE_DIGEST, SUPERVISORS, params)
        await service.NOTIFICATIONS.queue(session, state.outbox, [notice], now=state.clock.now())

    return {
        ClockDueSoon.type_name: due_soon,
        SupervisionOpened.type_name: supervised,
        OverdueDigest.type_name: digest,
        ClockBreachWithdrawn.type_name: breach_withdrawn,
        TicketSubmitted.type_name: submitted,
        CallerNoteAdded.type_name: caller_note,
        DeadlineChanged.type_name: deadline,
        ClockBreached.type_name: breached,
    }
