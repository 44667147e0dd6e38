"""Dispatch's flows: load a ticket under lock, apply a workflow rule, record what happened.

Every change goes through :func:`record`, which writes the new state, appends a hash-chained
history entry (Art 26), and puts the clock changes for sla and the new status for intake in
the outbox, all in the caller's transaction. A new ticket is the exception: it and its first
entry are one prebuilt statement (:func:`receive_submitted`, the hottest path).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    DateTime,
    String,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from dispatch.directory import service as directory
from dispatch.directory.rules import Route, suggest_route
from dispatch.tickets import repository
from dispatch.tickets.models import CoHandling, ReturnRequest, Ticket, TicketEvent, UnitChange
from dispatch.workflow import rules
from shared import i18n
from shared.auth import Principal, Role
from shared.catalogue import catalogue
from shared.db import DriverStatement
from shared.errors import Forbidden, NotFound
from shared.events import (
    CallerNoticeDue,
    ClockChange,
    TicketStatusChanged,
    TicketStepped,
    TicketSubmitted,
)
from shared.i18n import Lang
from shared.notify import Notice, Notifications, due_text
from shared.outbox import Outbox
from shared.vocabulary import (
    ClockKind,
    NoticeKind,
    StepAction,
    TicketStatus,
    TicketType,
)

GENESIS = "0" * 64
# Roles that see every ticket (reads); what each may do is declared per endpoint.
AGENCY_ROLES = frozenset(
    {Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN, Role.INSPECTOR, Role.SERVICE, Role.AGENT}
)
OTHER_DISTRICT = "该热线事项属于其他区热线工作机构（《办法》第五条）"
OWN_TICKETS = "只能查看本单位的热线事项"
SYSTEM = {"intake": Principal("intake", Role.SERVICE), "sla": Principal("sla", Role.SERVICE)}


def state_of(row: Ticket) -> rules.Ticket:
    """The workflow's view of a stored ticket."""
    return rules.Ticket(
        status=TicketStatus(row.status),
        lead_unit=row.lead_unit,
        first_unit=row.first_unit,
        co_handlers=frozenset(row.co_handlers),
        sub_unit=row.sub_unit,
        approved_returns=row.approved_returns,
        determined_unit=row.determined_unit,
        verification_open=row.verification_open,
        verification_due_at=row.verification_due_at,
        status_before_return=TicketStatus(row.status_before_return)
        if row.status_before_return
        else None,
        status_before_review=TicketStatus(row.status_before_review)
        if row.status_before_review
        else None,
        rehandled=row.rehandled,
        repeat=row.repeat_of is not None,
        legal_procedure=rules.LegalProcedure(row.legal_procedure) if row.legal_procedure else None,
    )


def _store_state(row: Ticket, state: rules.Ticket) -> None:
    row.status = state.status.value
    row.lead_unit = state.lead_unit
    row.first_unit = state.first_unit
    row.co_handlers = sorted(state.co_handlers)
    row.sub_unit = state.sub_unit
    row.approved_returns = state.approved_returns
    row.determined_unit = state.determined_unit
    row.verification_open = state.verification_open
    row.status_before_return = state.status_before_return and state.status_before_return.value
    row.status_before_review = state.status_before_review and state.status_before_review.value
    row.rehandled = state.rehandled
    row.legal_procedure = state.legal_procedure and state.legal_procedure.value


def check_access(row: Ticket, principal: Principal) -> None:
    """A unit sees its own and co-handled tickets; a sub-unit only what it was designated; a
    guidance department what it was named to oversee (Art 21); a district hotline agency its
    district's (Art 5)."""
    if principal.role is Role.UNIT and principal.unit_id == row.line_unit:
        return  # Art 7: the sub-centre is the agency of its own line's tickets
    if principal.role is Role.CALLER:
        if principal.subject != row.id:
            raise Forbidden("this link is for another ticket", zh="该评价链接不属于此热线事项")
        return
    if principal.role in AGENCY_ROLES:
        if not principal.sees_district(row.district):
            raise Forbidden(
                "this ticket is another district's hotline agency's (Art 5)", zh=OTHER_DISTRICT
            )
        return
    unit = principal.unit_id
    if principal.role is Role.SUB_UNIT:
        allowed = unit is not None and unit == row.sub_unit
    elif principal.role is Role.GUIDANCE:
        allowed = unit is not None and unit == row.guidance_department
    else:
        allowed = unit is not None and (unit == row.lead_unit or unit in row.co_handlers)
    if not allowed:
        raise Forbidden("this ticket is not assigned to your unit", zh="该热线事项未交本单位办理")


def acts_as_agency(row: Ticket, principal: Principal) -> bool:
    """The agency's staff, or on its own line's tickets a sub-centre or dual-number unit
    (Art 7)."""
    return principal.role is not Role.UNIT or principal.unit_id == row.line_unit


def check_agency_action(row: Ticket, principal: Principal) -> None:
    """The agency's actions (review, revisits, evaluation, re-handling, closing)."""
    if not acts_as_agency(row, principal):
        raise Forbidden(
            "only the agency, or the unit whose line received it, may do this",
            zh="只有热线工作机构或受理该事项的分中心可以进行此操作",
        )


async def get_ticket(
    session: AsyncSession, ticket_id: str, *, principal: Principal, for_update: bool = False
) -> Ticket:
    query = select(Ticket).where(col(Ticket.id) == ticket_id)
    if for_update:
        # Two conflicting actions on one ticket: the second waits, then sees the first's
        # result. populate_existing: a row this session read before the lock would otherwise
        # come back as the stale object, and the rule would run on the state before the wait.
        query = query.with_for_update().execution_options(populate_existing=True)
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no ticket {ticket_id!r}", zh=f"没有热线事项 {ticket_id}")
    check_access(row, principal)
    return row


# The steps a caller is told of (Art 11(4)); the rest (returns, reviews, breaches) are the
# agency's and the units' business.
CALLER_FACING = frozenset(
    {
        StepAction.SUBMITTED,
        StepAction.DISPATCHED,
        StepAction.DETERMINED,
        StepAction.EXTENDED,
        StepAction.DEADLINE_ADJUSTED,
        StepAction.CALLER_NEW_SITUATION,
        StepAction.NEW_SITUATION_JUDGED,
        StepAction.LEGAL_PROCEDURE_AWAITED,
        StepAction.PROGRESS_REPORTED,
        StepAction.LEGAL_PROCEDURE_ENDED,
        StepAction.FEEDBACK_APPROVED,
        StepAction.REPEAT_ANSWERED,
        StepAction.REVISITED,
        StepAction.EVALUATION_INVITED,
        StepAction.EVALUATED,
        StepAction.SENT_BACK_FOR_REHANDLING,
        StepAction.CLOSED,
    }
)


def caller_facing(events: list[TicketEvent]) -> list[TicketEvent]:
    return [e for e in events if StepAction(e.action) in CALLER_FACING]


def chain_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    """The history's hash chain: each entry's hash covers the previous hash and its content."""
    canonical = json.dumps(entry, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


_ENTRY_FIELDS = (
    "ticket_id", "at", "actor", "role", "unit_id", "action", "status", "reason", "details",
)  # fmt: skip


def history_entry(event: TicketEvent | dict[str, Any]) -> dict[str, Any]:
    """What an entry's hash covers, of a stored entry or of the values of one to be stored."""
    get = event.__getitem__ if isinstance(event, dict) else event.__getattribute__
    entry = {name: get(name) for name in _ENTRY_FIELDS}
    entry["at"] = entry["at"].isoformat()
    return entry


async def history(session: AsyncSession, ticket_id: str) -> list[TicketEvent]:
    query = (
        select(TicketEvent)
        .where(col(TicketEvent.ticket_id) == ticket_id)
        .order_by(col(TicketEvent.id))
    )
    return list((await session.scalars(query)).all())


def chain_is_intact(events: list[TicketEvent]) -> bool:
    previous = GENESIS
    for event in events:
        if event.prev_hash != previous or chain_hash(previous, history_entry(event)) != event.hash:
            return False
        previous = event.hash
    return True


async def _append_history(
    session: AsyncSession,
    row: Ticket,
    *,
    principal: Principal,
    action: StepAction,
    reason: str | None,
    details: dict[str, Any],
    now: datetime,
) -> None:
    event = TicketEvent(
        ticket_id=row.id,
        at=now,
        actor=principal.subject,
        role=principal.role.value,
        unit_id=principal.unit_id,
        action=action.value,
        status=row.status,
        reason=reason,
        details=details,
        # Entries of one ticket are written under its row lock, so the chain cannot fork.
        prev_hash=row.history_head or GENESIS,
        hash="",
    )
    event.hash = row.history_head = chain_hash(event.prev_hash, history_entry(event))
    session.add(event)


async def _reply(session: AsyncSession, ticket_id: str) -> str | None:
    """The unit's reply to the caller in the feedback the agency approved (Art 19)."""
    feedback = await repository.latest_feedback(session, ticket_id, "unit")
    return feedback.caller_reply if feedback else None


# A SQL expression as a column's value: the row's UPDATE (or INSERT) draws the number.
NEXT_CHANGE = func.nextval("dispatch.ticket_change_seq")


def touch(row: Ticket, *, now: datetime) -> None:
    """Mark a change for units' polls (keyset cursor and ETag follow ``change_seq``)."""
    row.change_seq = NEXT_CHANGE  # type: ignore[assignment]
    row.updated_at = now


def _on_the_wire(changes: tuple[rules.ClockChange, ...]) -> list[ClockChange]:
    return [
        ClockChange(action=c.action, clock=c.clock, reason=c.reason, stop_kind=c.stop_kind)
        for c in changes
    ]


async def record(
    session: AsyncSession,
    outbox: Outbox,
    row: Ticket,
    transition: rules.Transition,
    *,
    principal: Principal,
    action: StepAction,
    now: datetime,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    clocks_at: datetime | None = None,
) -> Ticket:
    """Store a transition with its history entry and the events for sla and intake."""
    old_status = row.status
    before = state_of(row)
    _store_state(row, transition.ticket)
    touch(row, now=now)
    await _append_history(
        session,
        row,
        principal=principal,
        action=action,
        reason=reason,
        details=details or {},
        now=now,
    )
    await outbox.add(
        session,
        TicketStepped(
            ticket_id=row.id,
            number=row.number,
            ticket_type=TicketType(row.ticket_type),
            category=row.category,
            district=row.district,
            street=row.street,
            unit_id=row.lead_unit,
            action=action,
            actor_unit_id=principal.unit_id,
            details=details or {},
            changes=_on_the_wire(transition.clocks),
            at=clocks_at or now,
        ),
        to="sla",
        now=now,
        ordering_key=row.id,
    )
    if row.status != old_status:
        await outbox.add(
            session,
            TicketStatusChanged(
                ticket_id=row.id,
                status=TicketStatus(row.status),
                unit_id=row.lead_unit,
                unit_name=await directory.unit_name(session, row.lead_unit),
                at=now,
            ),
            to="intake",
            now=now,
            ordering_key=row.id,
        )
    told = rules.caller_notice(action, before, transition.ticket)
    if told is not None:
        due = (details or {}).get("due_at")
        await outbox.add(
            session,
            CallerNoticeDue(
                ticket_id=row.id,
                kind=told,
                reason=reason if told is NoticeKind.CALLER_EXTENDED else None,
                due_at=datetime.fromisoformat(due) if isinstance(due, str) else None,
                answer=await _reply(session, row.id)
                if told is NoticeKind.CALLER_ANSWERED
                else None,
                at=now,
            ),
            to="intake",
            now=now,
            ordering_key=row.id,
        )
    notices = rules.unit_notices(action, before, transition.ticket)
    if notices:
        due = (details or {}).get("due_at")
        params = notice_params(
            row,
            reason=reason,
            decision=action.removeprefix("return_"),
            clock=next((c for c in ClockKind if StepAction.due_passed(c) == action), None),
            due_at=datetime.fromisoformat(due) if isinstance(due, str) else None,
        )
        await tell_units(session, outbox, row, notices, params, now=now)
    await session.flush()
    return row


async def tell_units(
    session: AsyncSession,
    outbox: Outbox,
    row: Ticket,
    notices: list[tuple[str, NoticeKind]],
    params: dict[str, str],
    *,
    now: datetime,
) -> None:
    """Queue each unit's notice for the channels it has that take the kind."""
    await NOTIFICATIONS.queue(
        session,
        outbox,
        [Notice(kind, unit, params, ticket_id=row.id) for unit, kind in notices],
        now=now,
    )


NOTIFICATIONS = Notifications("dispatch")
# What a notice calls a clock or a decision: the labels people see (zh first).
LABELS = i18n.labels(Lang.ZH, Path(__file__).parents[1] / "labels.json")


def notice_params(
    row: Ticket,
    *,
    reason: str | None = None,
    decision: str = "",
    clock: ClockKind | None = None,
    due_at: datetime | None = None,
) -> dict[str, str]:
    """What a unit's notice says (no caller's data): the ticket's number, its category's
    name, a return decision, the reason, the clock and its due time, as people read them."""
    category = catalogue().categories.get(row.category or "")
    return {
        "number": row.number,
        "category": category.name if category else "未分类",
        "reason": reason or "",
        "decision": LABELS["return_decision"].get(decision, ""),
        "clock": LABELS["clock_kind"][clock] if clock else "",
        "due": due_text(due_at) if due_at else "",
    }


async def route_for(
    session: AsyncSession,
    *,
    category: str | None,
    district: str | None,
    excluding: set[str] | None = None,
) -> Route | None:
    routes = await directory.routes(
        session, category=category, district=district, excluding=excluding or set()
    )
    return suggest_route(routes, category=category, district=district)


async def refresh_suggestion(session: AsyncSession, row: Ticket) -> None:
    """The routing suggestion, leaving out units whose return was approved (Art 15(1))."""
    returned = set(
        await session.scalars(
            select(col(ReturnRequest.unit_id)).where(
                col(ReturnRequest.ticket_id) == row.id, col(ReturnRequest.decision) == "approve"
            )
        )
    )
    route = await route_for(
        session, category=row.category, district=row.district, excluding=returned
    )
    row.suggested_unit = route.unit_id if route else None
    row.suggested_rule_id = route.id if route else None


# A new ticket and its first history entry in one statement, built once: the ticket's INSERT
# does nothing when the ticket is already here (its event sent twice) and the entry is
# selected from what it returned. Through the ORM — a lookup, then the unit of work flushing
# two INSERTs each built anew — it cost a quarter of dispatch's CPU per submitted ticket.
_NEW_TICKET_COLUMNS = (
    "id", "number", "ticket_type", "category", "district", "street", "summary", "repeat_of",
    "line", "line_unit", "status", "co_handlers", "suggested_unit", "suggested_rule_id",
    "received_at", "history_head", "created_at", "updated_at",
)  # fmt: skip
_TICKETS, _ENTRIES = Ticket.__table__, TicketEvent.__table__  # type: ignore[attr-defined]
_ADDED = (
    postgresql.insert(_TICKETS)
    .values({**{name: bindparam(name) for name in _NEW_TICKET_COLUMNS}, "change_seq": NEXT_CHANGE})
    .on_conflict_do_nothing(index_elements=["id"])
    .returning(_TICKETS.c.id)
    .cte("added")
)
_FIRST_ENTRY_COLUMNS = ("at", "actor", "role", "unit_id", "action", "status", "reason")
_ADD = (
    insert(_ENTRIES)
    .from_select(
        ["ticket_id", *_FIRST_ENTRY_COLUMNS, "details", "prev_hash", "hash"],
        select(
            _ADDED.c.id,
            bindparam("at", type_=DateTime(timezone=True)),
            *(bindparam(name, type_=String) for name in _FIRST_ENTRY_COLUMNS[1:]),
            bindparam("details", type_=JSONB),
            literal(GENESIS),
            bindparam("hash", type_=String),
        ),
    )
    .returning(_ENTRIES.c.ticket_id)
)


async def receive_submitted(
    session: AsyncSession, outbox: Outbox, event: TicketSubmitted, *, now: datetime
) -> None:
    """A ticket from intake enters the agency's queue; the dispatch clock runs (Art 13)."""
    route = await route_for(session, category=event.category, district=event.district)
    principal, status = SYSTEM["intake"], TicketStatus.AWAITING_DISPATCH
    details: dict[str, Any] = {
        "suggested_unit": route.unit_id if route else None,
        "rule_id": route.id if route else None,
    }
    entry = {
        "ticket_id": event.ticket_id,
        "at": now,
        "actor": principal.subject,
        "role": principal.role.value,
        "unit_id": principal.unit_id,
        "action": StepAction.SUBMITTED.value,
        "status": status.value,
        "reason": None,
        "details": details,
    }
    head = chain_hash(GENESIS, history_entry(entry))
    added = await session.scalar(
        _ADD,
        {
            **entry,
            "hash": head,
            "id": event.ticket_id,
            "number": event.number,
            "ticket_type": event.ticket_type.value,
            "category": event.category,
            "district": event.district,
            "street": event.street,
            "summary": event.summary,
            "repeat_of": event.repeat_of,
            "line": event.line,
            "line_unit": event.line_unit,
            "co_handlers": [],
            "suggested_unit": details["suggested_unit"],
            "suggested_rule_id": details["rule_id"],
            "received_at": event.received_at,
            "history_head": head,
            "created_at": now,
            "updated_at": now,
        },
    )
    if added is None:
        return  # the ticket is here already
    await outbox.add(
        session,
        TicketStepped(
            ticket_id=event.ticket_id,
            number=event.number,
            ticket_type=event.ticket_type,
            category=event.category,
            district=event.district,
            street=event.street,
            action=StepAction.SUBMITTED,
            details=details,
            changes=_on_the_wire((rules.RECEIVED,)),
            at=event.received_at,
        ),
        to="sla",
        now=now,
        ordering_key=event.ticket_id,
    )
    if event.line_unit is not None:
        # Art 7: a sub-centre or dual-number unit receives and handles its own line's calls;
        # the ticket goes to it at once, with its handling periods from receipt.
        row = await session.get_one(Ticket, event.ticket_id)
        await record(
            session,
            outbox,
            row,
            rules.dispatch(state_of(row), unit=event.line_unit),
            principal=principal,
            action=StepAction.DISPATCHED,
            now=now,
            reason=f"received on its own line {row.line} (Art 7)",
            details={"unit_id": row.line_unit, "line": row.line},
            clocks_at=event.received_at,
        )


@dataclass(frozen=True)
class PollScope:
    """The tickets of a unit (led or co-handled) or of a sub-unit, as a principal may see
    them (Art 5: a district hotline agency, its district's)."""

    unit_id: str
    sub_unit: bool = False
    district: str | None = None

    def condition(self) -> Any:
        if self.sub_unit:
            held = col(Ticket.sub_unit) == self.unit_id
        else:
            held = repository.held_by(self.unit_id)
        return and_(held, *self._in_district())

    def pages(self, filters: repository.PollFilters, *, after: int, limit: int) -> list[Any]:
        """Statements of (id, change_seq) that together hold the scope's next ``limit``
        tickets after ``after``, each read in the order of an index of its own: led (or a
        sub-unit's), by (lead_unit | sub_unit, change_seq); co-handled, by co_handling's."""
        unit, in_district = self.unit_id, self._in_district()
        own = col(Ticket.sub_unit) if self.sub_unit else col(Ticket.lead_unit)
        led = (
            select(col(Ticket.id), col(Ticket.change_seq))
            .where(
                own == unit,
                col(Ticket.change_seq) > after,
                *filters.conditions(col(Ticket.status), col(Ticket.overdue)),
                *in_district,
            )
            .order_by(col(Ticket.change_seq))
            .limit(limit)
        )
        if self.sub_unit:
            return [led]
        co_handled = (
            select(col(Ticket.id), col(CoHandling.change_seq))
            .join(CoHandling, col(CoHandling.ticket_id) == col(Ticket.id))
            .where(
                col(CoHandling.unit_id) == unit,
                col(CoHandling.change_seq) > after,
                col(Ticket.lead_unit).is_distinct_from(unit),
                *filters.conditions(col(CoHandling.status), col(CoHandling.overdue)),
                *in_district,
            )
            .order_by(col(CoHandling.change_seq))
            .limit(limit)
        )
        return [led, co_handled]

    def _in_district(self) -> list[Any]:
        return [] if self.district is None else [col(Ticket.district) == self.district]


def poll_scope(principal: Principal, unit_id: str) -> PollScope:
    """The scope of ``unit_id``'s tickets this principal may read, or Forbidden."""
    if principal.role is Role.SUB_UNIT:
        if principal.unit_id != unit_id:
            raise Forbidden("a sub-unit sees only its own tickets", zh=OWN_TICKETS)
        return PollScope(unit_id, sub_unit=True)
    if principal.role is Role.UNIT and principal.unit_id != unit_id:
        raise Forbidden("a unit sees only its own tickets", zh=OWN_TICKETS)
    if principal.role is Role.GUIDANCE:
        raise Forbidden(
            "a guidance department sees the matters it oversees, not units' polls",
            zh="业务指导部门查看其指导监督的事项，不能查看承办单位的工单列表",
        )
    return PollScope(unit_id, district=principal.district)


def unit_scope(principal: Principal, unit_id: str) -> Any:
    """The condition selecting a unit's tickets as this principal may see them."""
    return poll_scope(principal, unit_id).condition()


def district_scope(principal: Principal) -> list[Any]:
    """Art 5: a district hotline agency's reads cover its district; the city agency's all."""
    return [] if principal.district is None else [col(Ticket.district) == principal.district]


async def poll(
    session: AsyncSession,
    *,
    scope: PollScope,
    filters: repository.PollFilters,
    after: int,
    limit: int,
) -> list[Ticket]:
    """A page of a unit's tickets in change order: each part of the scope read in its own
    index order, then merged (an OR of the parts can use no index, and sorted every ticket
    the unit ever had)."""
    parts = [p.subquery() for p in scope.pages(filters, after=after, limit=limit)]
    page = union_all(*(select(p.c.id, p.c.change_seq) for p in parts)).subquery()
    rows = await session.scalars(
        select(Ticket)
        .join(page, page.c.id == col(Ticket.id))
        .order_by(page.c.change_seq)
        .limit(limit)
    )
    return list(rows.all())


# Read on every poll of every unit: built and compiled once, sent through the driver.
_LAST_CHANGE = DriverStatement(
    select(func.max(col(UnitChange.id))).where(col(UnitChange.unit_id) == bindparam("unit_id"))
)


async def last_change(reader: AsyncConnection | AsyncSession, unit_id: str) -> int:
    """The newest change to any ticket ``unit_id`` holds or held (its poll's ETag): one
    index probe, however many tickets the unit has."""
    connection = await reader.connection() if isinstance(reader, AsyncSession) else reader
    return int(await _LAST_CHANGE.fetchval(connection, {"unit_id": unit_id}) or 0)


async def prune_unit_changes(session: AsyncSession) -> int:
    """Keep each unit's newest change, all its poll's ETag reads; how many rows went."""
    newest = (
        select(col(UnitChange.unit_id), func.max(col(UnitChange.id)).label("id"))
        .group_by(col(UnitChange.unit_id))
        .subquery()
    )
    result = await session.execute(
        delete(UnitChange).where(
            col(UnitChange.unit_id) == newest.c.unit_id, col(UnitChange.id) < newest.c.id
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
