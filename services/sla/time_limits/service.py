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
        hours=row.hours,
    )


async def list_limits(session: AsyncSession) -> list[TimeLimit]:
    query = select(TimeLimit).order_by(
        col(TimeLimit.clock_kind), col(TimeLimit.effective_from), col(TimeLimit.id)
    )
    return list((await session.scalars(query)).all())


_RULES = "sla.time_limits"  # the session's rules read so far, by clock kind


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
    # Read once per session (a request, or a batch of events), not once per clock started.
    known: dict[ClockKind, list[TimeLimitRule]] = session.info.setdefault(_RULES, {})
    if base not in known:
        query = select(TimeLimit).where(col(TimeLimit.clock_kind) == base)
        known[base] = [as_rule(r) for r in await session.scalars(query)]
    return resolve_limit(
        known[base],
        clock_kind=clock_kind,
        ticket_type=ticket_type,
        category=category,
        at=at,
    )


async def add_limit(session: AsyncSession, limit: TimeLimit) -> TimeLimit:
    session.info.pop(_RULES, None)
    session.add(limit)
    await session.flush()
    return limit
