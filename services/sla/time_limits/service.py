"""Reading and adding time limits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.vocabulary import ClockKind
from sla.time_limits.models import TimeLimit
from sla.time_limits.rules import ResolvedLimit, TimeLimitRule, resolve_limit


def as_rule(row: TimeLimit) -> TimeLimitRule:
    assert row.id is not None
    return TimeLimitRule(
        id=row.id,
        clock_kind=ClockKind(row.clock_kind),
        ticket_type=row.ticket_type,
        category=row.category,
        working_days=row.working_days,
        max_extensions=row.max_extensions,
        effective_from=row.effective_from,
    )


async def list_limits(session: AsyncSession) -> list[TimeLimit]:
    query = select(TimeLimit).order_by(
        col(TimeLimit.clock_kind), col(TimeLimit.effective_from), col(TimeLimit.id)
    )
    return list((await session.scalars(query)).all())


async def resolve(
    session: AsyncSession,
    *,
    clock_kind: ClockKind,
    ticket_type: str,
    category: str | None,
    at: datetime,
) -> ResolvedLimit:
    """The limit a clock of this kind started at ``at`` gets."""
    base = ClockKind.HANDLING if clock_kind is ClockKind.REHANDLING else clock_kind
    rows = (await session.scalars(select(TimeLimit).where(col(TimeLimit.clock_kind) == base))).all()
    return resolve_limit(
        [as_rule(r) for r in rows],
        clock_kind=clock_kind,
        ticket_type=ticket_type,
        category=category,
        at=at,
    )


async def add_limit(session: AsyncSession, limit: TimeLimit) -> TimeLimit:
    session.add(limit)
    await session.flush()
    return limit
