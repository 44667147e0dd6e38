"""A week's clusters: the tickets of the weeks up to it, read from intake's records, judged
by the pure ``rules``."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.concurrency import run_in_threadpool

from intake.clusters import rules
from intake.clusters.schemas import ClusterRead, ClusterTicket
from intake.tickets.models import Ticket
from intake.tickets.rules import Disposition, Outcome
from shared.workdays import end_of_day

WINDOW_WEEKS = 4  # a matter raised over a month is still one matter


async def week_clusters(
    session: AsyncSession, monday: date, district: str | None
) -> list[ClusterRead]:
    """The clusters with a ticket received in the week from ``monday`` (Beijing time), over
    the dispatched tickets of the ``WINDOW_WEEKS`` weeks to its end; confidential ones
    (Art 11(5)) are never grouped."""
    start = end_of_day(monday - timedelta(days=1))
    end, earliest = start + timedelta(weeks=1), start - timedelta(weeks=WINDOW_WEEKS - 1)
    query = select(Ticket).where(
        col(Ticket.received_at) >= earliest,
        col(Ticket.received_at) < end,
        col(Ticket.outcome) == Outcome.SUBMITTED.value,
        col(Ticket.disposition) != Disposition.CONFIDENTIAL.value,
    )
    if district:
        query = query.where(col(Ticket.district) == district)
    tickets = {t.id: t for t in await session.scalars(query)}
    matters = [
        rules.Matter(
            ticket_id=t.id,
            number=t.number,
            received_at=t.received_at,
            category=t.category,
            district=t.district,
            street=t.street,
            place=t.place,
            text=t.text,
            caller=t.caller_phone_hash or t.id,
            unit=t.assigned_unit,
        )
        for t in tickets.values()
    ]
    # Seconds of CPU at a city's scale: off the event loop, which serves other requests.
    found = await run_in_threadpool(rules.week_clusters, matters, start, end)
    before = start - timedelta(weeks=1)
    return [
        ClusterRead(
            key=cluster[0].number,
            district=cluster[0].district,
            street=rules.most_common(m.street for m in cluster),
            place=rules.most_common(m.place for m in cluster),
            category=rules.most_common(m.category for m in cluster),
            summary=cluster[-1].text,
            callers=len({m.caller for m in cluster}),
            this_week=(now := sum(start <= m.received_at < end for m in cluster)),
            previous_week=(then := sum(before <= m.received_at < start for m in cluster)),
            growing=now > then,
            units=sorted({m.unit for m in cluster if m.unit}),
            first_at=cluster[0].received_at,
            last_at=cluster[-1].received_at,
            tickets=[
                ClusterTicket(
                    ticket_id=m.ticket_id,
                    number=m.number,
                    received_at=m.received_at,
                    category=m.category,
                    status=tickets[m.ticket_id].status,
                )
                for m in cluster
            ],
        )
        for cluster in found
    ]
