"""Supervision records: opened by a breach (the scan) or by the agency, answered, closed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.auth import Principal
from shared.errors import NotFound
from shared.vocabulary import ClockState
from sla.clocks.models import Clock
from sla.supervision import rules
from sla.supervision.models import Supervision
from sla.supervision.schemas import SupervisionCreate


async def search(
    session: AsyncSession,
    *,
    unit: str | None,
    ticket_id: str | None,
    reason: rules.Reason | None,
    open_only: bool,
    unhandled: bool = False,
    limit: int,
) -> list[Supervision]:
    query = select(Supervision).order_by(col(Supervision.opened_at).desc()).limit(limit)
    if unhandled:
        # Art 26(2): supervised, and the clock it was opened for still runs — not handled.
        still_running = select(col(Clock.id)).where(
            col(Clock.id) == col(Supervision.clock_id), col(Clock.state) == ClockState.RUNNING
        )
        query = query.where(col(Supervision.withdrawn_at).is_(None), still_running.exists())
    if unit:
        query = query.where(col(Supervision.unit_id) == unit)
    if ticket_id:
        query = query.where(col(Supervision.ticket_id) == ticket_id)
    if reason:
        query = query.where(col(Supervision.reason) == reason.value)
    if open_only:
        query = query.where(col(Supervision.closed_at).is_(None))
    return list((await session.scalars(query)).all())


async def open_supervision(
    session: AsyncSession, body: SupervisionCreate, *, principal: Principal, now: datetime
) -> Supervision:
    """Art 23: the agency supervises by phone, online, on site, by meeting or document."""
    record = Supervision(**body.model_dump(), opened_at=now, opened_by=principal.subject)
    session.add(record)
    await session.flush()
    return record


async def _locked(session: AsyncSession, supervision_id: int) -> Supervision:
    query = select(Supervision).where(col(Supervision.id) == supervision_id).with_for_update()
    record = (await session.execute(query)).scalar_one_or_none()
    if record is None:
        raise NotFound(f"no supervision {supervision_id}")
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


async def close(
    session: AsyncSession, supervision_id: int, outcome: str, *, principal: Principal, now: datetime
) -> Supervision:
    record = await _locked(session, supervision_id)
    rules.check_open(closed=record.closed_at is not None)
    record.outcome, record.closed_at, record.closed_by = outcome, now, principal.subject
    await session.flush()
    return record
