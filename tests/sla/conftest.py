"""sla tests drive clocks the way production does: dispatch's steps arrive in the inbox."""

from datetime import datetime

import pytest

from shared.auth import Role
from shared.events import ClockChange, EventEnvelope, TicketStepped


@pytest.fixture
def sla_app(make_app):
    return make_app("sla")


def step_envelope(
    ticket_id: str,
    action: str,
    at: datetime,
    *changes: tuple[str, ...],
    unit_id: str | None = "tianhe-urban",
    ticket_type: str = "complaint",
    details: dict | None = None,
    actor_unit_id: str | None = None,
    district: str = "天河区",
    street: str | None = None,
) -> dict:
    event = TicketStepped(
        ticket_id=ticket_id,
        number=f"GZ261123{sum(map(ord, ticket_id)):06d}",
        ticket_type=ticket_type,
        category="noise.construction",
        district=district,
        street=street,
        unit_id=unit_id,
        action=action,
        actor_unit_id=actor_unit_id,
        details=details or {},
        # (action, clock) or, for a stop, (action, clock, stop_kind)
        changes=[
            ClockChange(action=c[0], clock=c[1], reason=action, stop_kind=c[2] if c[2:] else None)
            for c in changes
        ],
        at=at,
    )
    return EventEnvelope(
        type=event.type_name,
        source="dispatch",
        occurred_at=at,
        payload=event.model_dump(mode="json"),
    ).model_dump(mode="json")


@pytest.fixture
def step(sla_app, client_for):
    """Deliver one of dispatch's steps to sla's inbox."""

    async def deliver(
        ticket_id: str, action: str, at: datetime, *changes: tuple[str, ...], **options
    ) -> None:
        async with client_for(sla_app, Role.SERVICE, as_service="dispatch") as client:
            response = await client.post(
                "/v1/events", json=step_envelope(ticket_id, action, at, *changes, **options)
            )
        assert response.json()["status"] == "applied", response.text

    return deliver


@pytest.fixture
def dispatched(step, clock):
    """A complaint received now and dispatched to tianhe-urban right away."""

    async def make(ticket_id: str = "T1", ticket_type: str = "complaint") -> str:
        now = clock.now()
        await step(
            ticket_id,
            "submitted",
            now,
            ("start", "dispatch"),
            unit_id=None,
            ticket_type=ticket_type,
        )
        await step(
            ticket_id,
            "dispatched",
            now,
            ("stop", "dispatch", "completed"),
            ("restart", "verification"),
            ("restart", "handling"),
            ticket_type=ticket_type,
        )
        return ticket_id

    return make
