"""Dispatch tests build tickets the way they arrive: as intake's event in dispatch's inbox."""

import uuid
from itertools import count

import pytest

from shared.auth import Role
from shared.events import EventEnvelope, TicketSubmitted

_numbers = count(1)


def submitted_envelope(
    clock,
    *,
    category="noise.construction",
    district="天河区",
    ticket_type="complaint",
    repeat_of=None,
    line="12345",
    line_unit=None,
) -> tuple[dict, str]:
    """intake's event for a new ticket, as dispatch's inbox receives it."""
    ticket_id = str(uuid.uuid4())
    event = TicketSubmitted(
        ticket_id=ticket_id,
        number=f"GZ261123{next(_numbers):06d}",
        ticket_type=ticket_type,
        category=category,
        district=district,
        street="林和街道" if district == "天河区" else None,
        summary="天河区林和街道某工地夜间施工噪声扰民",
        received_at=clock.now(),
        repeat_of=repeat_of,
        line=line,
        line_unit=line_unit,
    )
    envelope = EventEnvelope(
        type=event.type_name,
        source="intake",
        occurred_at=clock.now(),
        payload=event.model_dump(mode="json"),
    )
    return envelope.model_dump(mode="json"), ticket_id


@pytest.fixture
def dispatch_app(make_app):
    return make_app("dispatch")


@pytest.fixture
def as_role(dispatch_app, client_for):
    """A client of the dispatch app for a role (and unit, or district: Art 5)."""

    def build(
        role: Role,
        unit_id: str | None = None,
        *,
        as_service: str | None = None,
        district: str | None = None,
    ):
        return client_for(dispatch_app, role, unit_id, as_service=as_service, district=district)

    return build


@pytest.fixture
def submit(as_role, clock):
    async def submit_ticket(
        *,
        category: str | None = "noise.construction",
        district: str | None = "天河区",
        ticket_type: str = "complaint",
        line: str = "12345",
        line_unit: str | None = None,
    ) -> str:
        envelope, ticket_id = submitted_envelope(
            clock,
            category=category,
            district=district,
            ticket_type=ticket_type,
            line=line,
            line_unit=line_unit,
        )
        async with as_role(Role.SERVICE, as_service="intake") as client:
            response = await client.post("/v1/events", json=envelope)
        assert response.json()["status"] == "applied", response.text
        return ticket_id

    return submit_ticket


@pytest.fixture
def agency(as_role):
    return lambda: as_role(Role.DISPATCHER)


@pytest.fixture
def unit(as_role):
    return lambda unit_id="tianhe-urban": as_role(Role.UNIT, unit_id)
