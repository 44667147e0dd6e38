"""Conduct records: written once, read by supervisors and administrators."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from intake.conduct.models import ConductRecord
from intake.conduct.schemas import ConductKind
from intake.privacy import scrub_free_text
from intake.tickets import service as tickets
from shared.auth import Principal


async def record(
    session: AsyncSession,
    ticket_id: str,
    kind: ConductKind,
    note: str,
    *,
    principal: Principal,
    at: datetime,
    referred_to: str | None = None,
) -> ConductRecord:
    await tickets.get(session, ticket_id)  # 404 for an unknown ticket
    record = ConductRecord(
        ticket_id=ticket_id,
        kind=kind.value,
        note=scrub_free_text(note) or "",
        referred_to=referred_to,
        at=at,
        by=principal.subject,
        role=principal.role.value,
    )
    session.add(record)
    await session.flush()
    return record


async def of_ticket(session: AsyncSession, ticket_id: str) -> list[ConductRecord]:
    query = (
        select(ConductRecord)
        .where(col(ConductRecord.ticket_id) == ticket_id)
        .order_by(col(ConductRecord.id))
    )
    return list((await session.scalars(query)).all())
