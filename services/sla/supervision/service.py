"""Supervision records: opened by a breach (the scan) or by the agency, answered, closed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared import i18n
from shared.auth import Principal, Role
from shared.errors import NotFound
from shared.events import SupervisionOpened
from shared.i18n import Lang
from shared.outbox import Outbox
from shared.vocabulary import ClockState, StepAction
from sla.clocks.models import Clock, TicketStep
from sla.supervision import rules
from sla.supervision.models import Supervision
from sla.supervision.schemas import SupervisionCreate


def overseen_by(department: str) -> Any:
    """The tickets a guidance department was named to oversee (Art 21), from dispatch's steps."""
    return select(col(TicketStep.ticket_id)).where(
        col(TicketStep.action) == StepAction.LEGAL_PROCEDURE_AWAITED.value,
        col(TicketStep.details)["guidance_department"].astext == department,
    )


async def oversees(session: AsyncSession, department: str, ticket_id: str) -> bool:
    query = overseen_by(department).where(col(TicketStep.ticket_id) == ticket_id).exists()
    return bool(await session.scalar(select(query)))


async def search(
    session: AsyncSession,
    *,
    unit: str | None,
    district: str | None = None,
    ticket_id: str | None,
    reason: rules.Reason | None,
    open_only: bool,
    awaiting_answer: bool = False,
    unhandled: bool = False,
    overseen_by_department: str | None = None,
    limit: int,
) -> list[Supervision]:
    query = select(Supervision).order_by(col(Supervision.opened_at).desc()).limit(limit)
    if overseen_by_department:
        query = query.where(col(Supervision.ticket_id).in_(overseen_by(overseen_by_department)))
    if unhandled:
        # Art 26(2): supervised, and the clock it was opened for still runs — not handled.
        still_running = select(col(Clock.id)).where(
            col(Clock.id) == col(Supervision.clock_id), col(Clock.state) == ClockState.RUNNING
        )
        query = query.where(col(Supervision.withdrawn_at).is_(None), still_running.exists())
    if unit:
        query = query.where(col(Supervision.unit_id) == unit)
    if district:
        query = query.where(col(Supervision.district) == district)
    if ticket_id:
        query = query.where(col(Supervision.ticket_id) == ticket_id)
    if reason:
        query = query.where(col(Supervision.reason) == reason.value)
    if open_only or awaiting_answer:
        query = query.where(col(Supervision.closed_at).is_(None))
    if awaiting_answer:
        query = query.where(col(Supervision.responded_at).is_(None))
    return list((await session.scalars(query)).all())


async def open_supervision(
    session: AsyncSession,
    outbox: Outbox,
    body: SupervisionCreate,
    *,
    principal: Principal,
    now: datetime,
) -> Supervision:
    """Art 23: the agency supervises by phone, online, on site, by meeting or document; a
    guidance department the Art 21 matters it oversees. Dispatch tells the unit."""
    if principal.role is Role.GUIDANCE:
        rules.check_guidance_may_open(
            reason=body.reason,
            oversees=await oversees(session, principal.unit_id or "", body.ticket_id),
        )
    district = await ticket_district(session, body.ticket_id)
    rules.check_district(principal, district)
    record = Supervision(
        **body.model_dump(),
        district=district,
        opened_at=now,
        opened_by=principal.subject,
    )
    session.add(record)
    await session.flush()
    ground = REASON_LABELS.get(record.reason, record.reason)
    await outbox.add(
        session,
        SupervisionOpened(
            ticket_id=record.ticket_id,
            supervision_id=record.id or 0,
            unit_id=record.unit_id,
            reason=record.reason,
            summary=f"{ground}：{record.note}" if record.note else ground,
            at=now,
        ),
        to="dispatch",
        now=now,
        ordering_key=record.ticket_id,
    )
    return record


REASON_LABELS = i18n.labels(Lang.ZH, Path(__file__).parents[1] / "labels.json")[
    "supervision_reason"
]


async def _locked(session: AsyncSession, supervision_id: int) -> Supervision:
    query = select(Supervision).where(col(Supervision.id) == supervision_id).with_for_update()
    record = (await session.execute(query)).scalar_one_or_none()
    if record is None:
        raise NotFound(f"no supervision {supervision_id}", zh=f"没有督办记录 {supervision_id}")
    return record


async def respond(
    session: AsyncSession,
    supervision_id: int,
    response: str,
    *,
    principal: Principal,
    now: datetime,
) -> Supervision:
    """Art 23: the unit answers the supervision addressed to it."""
    record = await _locked(session, supervision_id)
    rules.check_answerable(
        addressed_to=record.unit_id, unit=principal.unit_id, closed=record.closed_at is not None
    )
    record.response, record.responded_at, record.responded_by = response, now, principal.subject
    await session.flush()
    return record


async def ticket_district(session: AsyncSession, ticket_id: str) -> str | None:
    """The district of a ticket, as its clocks carry it (None for a ticket sla has not seen)."""
    query = select(col(Clock.district)).where(col(Clock.ticket_id) == ticket_id).limit(1)
    return (await session.execute(query)).scalar_one_or_none()


async def close(
    session: AsyncSession, supervision_id: int, outcome: str, *, principal: Principal, now: datetime
) -> Supervision:
    record = await _locked(session, supervision_id)
    rules.check_district(principal, record.district)
    rules.check_open(closed=record.closed_at is not None)
    record.outcome, record.closed_at, record.closed_by = outcome, now, principal.subject
    await session.flush()
    return record
