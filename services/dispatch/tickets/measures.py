"""What dispatch tells an operator's monitoring (GET /metrics, docs/operations.md)."""

from datetime import datetime

from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dispatch.tickets.models import Ticket
from shared.service import Measure
from shared.vocabulary import TicketStatus


def open_tickets(registry: CollectorRegistry) -> Measure:
    gauge = Gauge(
        "hotline_tickets_open",
        "Tickets not closed, by lead unit (empty: awaiting dispatch)",
        ["unit"],
        registry=registry,
    )

    async def measure(session: AsyncSession, now: datetime) -> None:
        rows = await session.execute(
            select(col(Ticket.lead_unit), func.count())
            .where(col(Ticket.status) != TicketStatus.CLOSED.value)
            .group_by(col(Ticket.lead_unit))
        )
        gauge.clear()
        for unit, count in rows:
            gauge.labels(unit or "").set(count)

    return measure
