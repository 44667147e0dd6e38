"""Intake's flows: record a call once, hand it to dispatch through the outbox, track it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, bindparam, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from intake.kb import service as kb
from intake.privacy import Vault, mask_address, mask_name, mask_phone, scrub, scrub_free_text
from intake.tickets.models import CallerNote, ContactAccess, Ticket
from intake.tickets.rules import (
    Disposition,
    Outcome,
    check_note_allowed,
    check_outcome,
    check_related,
    receiving_line,
)
from intake.tickets.schemas import CallerIn, CallerRead, TicketCreate, TicketRead
from shared.auth import Principal, Role
from shared.catalogue import catalogue, district_at, places
from shared.errors import BadInput, Forbidden, NotFound
from shared.events import CallerNoteAdded, TicketSubmitted
from shared.notify import Notice, Notifications, Notifier, Route, RouteResolver, due_text
from shared.outbox import Outbox
from shared.vocabulary import ChannelKind, NoticeKind, TicketType
from shared.workdays import local_date

# Status intake shows before dispatch has said anything.
INITIAL_STATUS = {
    Outcome.CLOSED_AT_INTAKE: "closed_at_intake",
    Outcome.ANSWERED: "answered",
    Outcome.SUBMITTED: "submitted",
}


def _drawn_number(prefix: ColumnElement[str]) -> ColumnElement[str]:
    """A short number an agent can read out: GZ + Guangzhou date + sequence (six digits at
    least), drawn by the statement that stores it rather than a round trip of its own."""
    sequence = func.nextval("intake.ticket_number_seq")
    return prefix + func.to_char(sequence, "FM999999000000", type_=String)


def _prefix(now: datetime) -> str:
    return f"GZ{local_date(now):%y%m%d}"


async def next_number(session: AsyncSession, now: datetime) -> str:
    """A number drawn ahead of its ticket (a citizen's submission is told it on arrival)."""
    return str(await session.scalar(select(_drawn_number(literal(_prefix(now))))))


def _storing(*, draws_number: bool) -> Any:
    """A new ticket's INSERT, built once: a statement built per call spent more time coercing
    its some 35 values than anything else in taking a call. A concurrent retry with the same
    key inserts nothing; the new row comes back as a Ticket without reading it again."""
    table = Ticket.__table__  # type: ignore[attr-defined]
    statement = insert(table)
    if draws_number:
        statement = statement.values(number=_drawn_number(bindparam("number_prefix", type_=String)))
    returning = statement.on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(
        *table.c
    )
    return select(Ticket).from_statement(returning)


_STORE_DRAWING_NUMBER = _storing(draws_number=True)
_STORE = _storing(draws_number=False)


async def create(
    session: AsyncSession,
    outbox: Outbox,
    vault: Vault,
    body: TicketCreate,
    *,
    agent: Principal,
    idempotency_key: str | None,
    now: datetime,
    number: str | None = None,
    received_at: datetime | None = None,
) -> tuple[Ticket, bool]:
    """Record a call; with a known idempotency key, return the first result (created False).

    A citizen's reviewed submission keeps the number it was given and the time it arrived:
    the limits count from receipt, not from the review.

    The shared Idempotency-Key mechanism answers retries before they get here; this key,
    scoped to the agent, is the last guard that a call never becomes two tickets (a retry
    that takes over a claim its first attempt left when its process died): the INSERT does
    nothing on it and the first ticket is read. Such a retry is checked again and draws a
    number it does not use — rare enough not to look the key up before every call.
    """
    if idempotency_key:
        idempotency_key = f"{agent.role.value}:{agent.subject}:{idempotency_key}"
    check_outcome(
        outcome=body.outcome,
        ticket_type=body.ticket_type,
        disposition=body.disposition,
        emergency_number=body.emergency_number,
        told_caller=body.told_caller,
        related_ticket_id=body.related_ticket_id,
        kb_entry_id=body.kb_entry_id,
    )
    line, transferred_from = receiving_line(
        agent_unit=agent.unit_id, transfer_to=body.transfer_to, outcome=body.outcome
    )
    if body.category is not None:
        catalogue().check(body.category)
    point = body.point.wgs84() if body.point else None
    # A point names its district when the agent did not (routing follows the district).
    district = body.district or (district_at(point) if point else None)
    if body.district is not None:
        places().check_district(body.district)
    if body.street is not None:
        if district is None:
            raise BadInput("name the street's district", zh="请先选择街道（镇）所在的行政区")
        places().check_street(district, body.street)
    if body.kb_entry_id and not await kb.answer_exists(session, body.kb_entry_id):
        raise BadInput(
            f"no knowledge-base answer {body.kb_entry_id!r} to cite (Art 13(1))",
            zh=f"知识库中没有可引用的答复 {body.kb_entry_id}（《办法》第十三条）",
        )
    if body.related_ticket_id:
        related = await session.get(Ticket, body.related_ticket_id)
        if related is None:
            raise NotFound(
                f"no ticket {body.related_ticket_id!r} to link",
                zh=f"没有可关联的热线事项 {body.related_ticket_id}",
            )
        check_related(
            disposition=body.disposition,
            related_status=related.status,
            same_caller=related.caller_phone_hash is not None
            and related.caller_phone_hash in vault.phone_hashes(body.caller.phone),
        )
    ticket_id = str(uuid.uuid4())
    received_at = received_at or now
    values = {
        "id": ticket_id,
        **({"number": number} if number else {"number_prefix": _prefix(now)}),
        "idempotency_key": idempotency_key,
        "channel": body.channel.value,
        "line": line.number,
        "transferred_from": transferred_from and transferred_from.number,
        "ticket_type": body.ticket_type.value,
        "category": body.category,
        "district": district,
        "street": body.street,
        "text": scrub(
            body.text, name=body.caller.name, phone=body.caller.phone, address=body.caller.address
        ),
        "text_sealed": vault.seal(body.text),
        "place": scrub_free_text(body.place),
        "latitude": point.lat if point else None,
        "longitude": point.lon if point else None,
        "outcome": body.outcome.value,
        "disposition": body.disposition.value,
        "emergency_number": body.emergency_number,
        "told_caller": scrub_free_text(body.told_caller),
        "related_ticket_id": body.related_ticket_id,
        "kb_entry_id": body.kb_entry_id,
        "status": INITIAL_STATUS[body.outcome],
        "caller_name": vault.seal(body.caller.name),
        "caller_phone": vault.seal(body.caller.phone),
        "caller_phone_hash": vault.phone_hash(body.caller.phone),
        "pii_key_id": vault.key_id,
        "caller_address": vault.seal(body.caller.address),
        "sms_consent": body.caller.sms_consent,
        "flags": sorted({f.value for f in body.flags}),
        "agent": agent.subject,
        "received_at": received_at,
        "updated_at": now,
    }
    ticket = await session.scalar(_STORE if number else _STORE_DRAWING_NUMBER, values)
    if ticket is None:
        assert idempotency_key
        earlier = await _by_key(session, idempotency_key)
        assert earlier is not None
        return earlier, False
    if body.outcome is Outcome.SUBMITTED:
        await outbox.add(
            session,
            TicketSubmitted(
                ticket_id=ticket.id,
                number=ticket.number,
                ticket_type=TicketType(ticket.ticket_type),
                category=ticket.category,
                district=ticket.district,
                street=ticket.street,
                # Units get the matter, never the caller's identity (Art 25).
                summary=ticket.text,
                # Art 22: dispatch lets a unit answer it as a repeat only when intake says so.
                repeat_of=ticket.related_ticket_id
                if body.disposition is Disposition.REPEAT
                else None,
                received_at=received_at,
                line=line.number,
                line_unit=line.unit_id,
            ),
            to="dispatch",
            now=now,
            ordering_key=ticket.id,
        )
        await tell_caller(session, outbox, ticket, NoticeKind.CALLER_ACCEPTED, now=now)
    return ticket, True


CALLER_SMS = "caller-sms"  # the one channel callers are told by: the SMS provider
NOTIFICATIONS = Notifications("intake")


async def tell_caller(
    session: AsyncSession,
    outbox: Outbox,
    ticket: Ticket,
    kind: NoticeKind,
    *,
    now: datetime,
    reason: str | None = None,
    due_at: datetime | None = None,
) -> None:
    """Queue an SMS to the caller if they consented; it carries the matter's number, never
    their phone (looked up when sending, by ``caller_route``)."""
    if not ticket.sms_consent:
        return
    params = {"number": ticket.number, "reason": reason or "", "due": due_text(due_at)}
    notice = Notice(kind, "caller", params, ticket_id=ticket.id)
    await NOTIFICATIONS.queue(
        session, outbox, [notice], now=now, channel_ids=lambda _: [CALLER_SMS]
    )


def caller_route(notifier: Notifier, vault: Vault) -> RouteResolver:
    """Callers' SMS: to the number sealed with the ticket, while the consent stands."""

    async def address(session: AsyncSession, record: Mapping[str, Any]) -> str | None:
        ticket = await session.get(Ticket, record["ticket_id"])
        if ticket is None or not ticket.sms_consent:
            return None
        return vault.open(ticket.caller_phone)

    async def resolve(session: AsyncSession, channel_id: str) -> Route:
        channel = notifier.adapter(ChannelKind.SMS, name=CALLER_SMS)
        return Route(channel=channel, kind=ChannelKind.SMS, address=address)

    return resolve


async def _by_key(session: AsyncSession, key: str) -> Ticket | None:
    return (await session.scalars(select(Ticket).where(col(Ticket.idempotency_key) == key))).first()


async def get(session: AsyncSession, ticket_id: str) -> Ticket:
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id!r}", zh=f"没有热线事项 {ticket_id}")
    return ticket


async def by_caller(
    session: AsyncSession, vault: Vault, phone: str, *, limit: int = 50
) -> list[Ticket]:
    """A caller's tickets, newest first, for Art 11(4) progress answers."""
    hashes = vault.phone_hashes(phone)
    if not hashes:
        return []
    query = (
        select(Ticket)
        .where(col(Ticket.caller_phone_hash).in_(hashes))
        .order_by(col(Ticket.received_at).desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


def read(ticket: Ticket, vault: Vault, *, sealed_from: CallerIn | None = None) -> TicketRead:
    """The ticket as every role sees it: the caller's contact masked. ``sealed_from``: what
    the ticket's caller fields were sealed from a moment ago, masked without opening them."""
    caller = sealed_from or CallerIn.model_construct(
        name=vault.open(ticket.caller_name),
        phone=vault.open(ticket.caller_phone),
        address=vault.open(ticket.caller_address),
    )
    return TicketRead(
        **{k: getattr(ticket, k) for k in TicketRead.model_fields if k != "caller"},
        caller=CallerRead(
            name=mask_name(caller.name),
            phone=mask_phone(caller.phone),
            address=mask_address(caller.address),
            masked=True,
            sms_consent=ticket.sms_consent,
        ),
    )


async def contact(
    session: AsyncSession, vault: Vault, ticket: Ticket, *, principal: Principal, now: datetime
) -> CallerRead:
    """The caller's contact in full, for the agent of the call or the assigned unit; logged."""
    allowed = (principal.role is Role.AGENT and principal.subject == ticket.agent) or (
        principal.role is Role.UNIT
        and principal.unit_id is not None
        and principal.unit_id == ticket.assigned_unit
    )
    if not allowed:
        raise Forbidden(
            "only the agent who took the call or the assigned unit sees the contact",
            zh="只有受理该来电的话务员或承办单位可以查看诉求人联系方式",
        )
    session.add(
        ContactAccess(
            ticket_id=ticket.id,
            accessed_by=principal.subject,
            role=principal.role.value,
            unit_id=principal.unit_id,
            at=now,
        )
    )
    return CallerRead(
        name=vault.open(ticket.caller_name),
        phone=vault.open(ticket.caller_phone),
        address=vault.open(ticket.caller_address),
        masked=False,
        sms_consent=ticket.sms_consent,
    )


async def add_note(
    session: AsyncSession,
    outbox: Outbox,
    vault: Vault,
    ticket: Ticket,
    note_text: str,
    *,
    principal: Principal,
    now: datetime,
) -> CallerNote:
    """Art 17: a new situation before feedback goes to dispatch for the unit to judge."""
    check_note_allowed(outcome=ticket.outcome, status=ticket.status)
    note = CallerNote(
        id=str(uuid.uuid4()),
        ticket_id=ticket.id,
        # The unit reads this: the caller's own name, phone and address are masked (Art 25).
        text=scrub(
            note_text,
            name=vault.open(ticket.caller_name),
            phone=vault.open(ticket.caller_phone),
            address=vault.open(ticket.caller_address),
        ),
        added_at=now,
        added_by=principal.subject,
    )
    session.add(note)
    await outbox.add(
        session,
        CallerNoteAdded(ticket_id=ticket.id, note_id=note.id, text=note.text, added_at=now),
        to="dispatch",
        now=now,
        ordering_key=ticket.id,
    )
    await session.flush()
    return note
