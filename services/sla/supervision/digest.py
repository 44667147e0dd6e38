"""The supervisors' daily digest: what is overdue, what fell overdue in the last day, and the
supervisions still open; sent once a day (whatever the replicas), through dispatch, to the
supervisors' channels."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.clock import SHANGHAI
from shared.events import OverdueDigest
from shared.outbox import Outbox
from shared.vocabulary import ClockState
from shared.workdays import local_date
from sla.clocks.models import Clock
from sla.supervision.models import DigestDay, Supervision

TOP_UNITS = 10  # the digest names the units with the most overdue, up to this many


def due(now: datetime, at: time) -> bool:
    """Whether today's digest is due: ``at`` (Beijing time) has passed today."""
    return now >= datetime.combine(local_date(now), at, tzinfo=SHANGHAI)


async def send_if_due(session: AsyncSession, outbox: Outbox, *, now: datetime, at: time) -> bool:
    """Send today's digest unless it went already or its time has not come; whether sent."""
    if not due(now, at):
        return False
    day = local_date(now)
    claimed = await session.scalar(
        insert(DigestDay)
        .values(day=day, sent_at=now)
        .on_conflict_do_nothing()
        .returning(col(DigestDay.day))
    )
    if claimed is None:
        return False
    late = (
        col(Clock.state) == ClockState.RUNNING.value,
        col(Clock.breached_at).is_not(None),
    )
    overdue = await session.scalar(select(func.count()).where(*late)) or 0
    new = await session.scalar(
        select(func.count()).where(*late, col(Clock.breached_at) > now - timedelta(days=1))
    )
    open_supervisions = await session.scalar(
        select(func.count()).where(
            col(Supervision.closed_at).is_(None), col(Supervision.withdrawn_at).is_(None)
        )
    )
    per_unit = func.count().label("n")
    top = await session.execute(
        select(col(Clock.unit_id), per_unit)
        .where(*late, col(Clock.unit_id).is_not(None))
        .group_by(col(Clock.unit_id))
        .order_by(per_unit.desc(), col(Clock.unit_id))
        .limit(TOP_UNITS)
    )
    await outbox.add(
        session,
        OverdueDigest(
            day=day,
            overdue=overdue,
            new_overdue=new or 0,
            supervisions=open_supervisions or 0,
            by_unit={str(unit): n for unit, n in top},
        ),
        to="dispatch",
        now=now,
    )
    return True
