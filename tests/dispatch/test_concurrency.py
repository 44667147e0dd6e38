"""Real concurrency: two replicas of dispatch (own engines, own connections) on one database.

Each workflow action must check its rule on the ticket as locked, not as read before the lock.
"""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI

from shared.auth import Role
from shared.db import make_engine
from tests.dispatch.conftest import submitted_envelope

PAIRS = 10


@pytest.fixture
async def replicas(fresh_database_url, settings, clock) -> AsyncIterator[list[FastAPI]]:
    from dispatch.app import build_app

    engines = [make_engine(fresh_database_url, pool_size=PAIRS + 2) for _ in range(2)]
    yield [
        build_app(settings=settings, engine=engine, clock=clock, run_relay=False)
        for engine in engines
    ]
    for engine in engines:
        await engine.dispose()


async def _submitted(app: FastAPI, client_for, clock, **options) -> str:
    envelope, ticket_id = submitted_envelope(clock, **options)
    async with client_for(app, Role.SERVICE, as_service="intake") as service:
        assert (await service.post("/v1/events", json=envelope)).status_code == 200
    return ticket_id


async def _history_actions(app: FastAPI, client_for, ticket_id: str) -> list[str]:
    async with client_for(app, Role.DISPATCHER) as agency:
        history = (await agency.get(f"/v1/tickets/{ticket_id}/history")).json()
    return [entry["action"] for entry in history["items"]]


async def test_art13_two_simultaneous_dispatches_send_a_ticket_once(replicas, client_for, clock):
    first, second = replicas
    tickets = [await _submitted(first, client_for, clock) for _ in range(PAIRS)]
    async with (
        client_for(first, Role.DISPATCHER) as one,
        client_for(second, Role.DISPATCHER) as other,
    ):
        answers = await asyncio.gather(
            *(
                call
                for ticket_id in tickets
                for call in (
                    one.post(f"/v1/tickets/{ticket_id}/dispatch", json={"unit_id": "tianhe-urban"}),
                    other.post(f"/v1/tickets/{ticket_id}/dispatch", json={"unit_id": "tianhe-gov"}),
                )
            )
        )
    for index, ticket_id in enumerate(tickets):
        pair = answers[2 * index : 2 * index + 2]
        assert sorted(a.status_code for a in pair) == [200, 409], [a.text for a in pair]
        winner = next(a for a in pair if a.status_code == 200).json()["lead_unit"]
        async with client_for(first, Role.DISPATCHER) as agency:
            ticket = (await agency.get(f"/v1/tickets/{ticket_id}")).json()
        assert ticket["lead_unit"] == winner
        actions = await _history_actions(first, client_for, ticket_id)
        assert actions.count("dispatched") == 1


async def test_art6_two_simultaneous_designations_pick_one_sub_unit(replicas, client_for, clock):
    first, second = replicas
    tickets = [
        await _submitted(first, client_for, clock, category="other.general") for _ in range(PAIRS)
    ]
    async with client_for(first, Role.DISPATCHER) as agency:
        for ticket_id in tickets:
            await agency.post(f"/v1/tickets/{ticket_id}/dispatch", json={"unit_id": "tianhe-gov"})
    async with client_for(first, Role.UNIT, "tianhe-gov") as unit:
        for ticket_id in tickets:
            await unit.post(f"/v1/tickets/{ticket_id}/accept")
    async with (
        client_for(first, Role.UNIT, "tianhe-gov") as one,
        client_for(second, Role.UNIT, "tianhe-gov") as other,
    ):
        answers = await asyncio.gather(
            *(
                call
                for ticket_id in tickets
                for call in (
                    one.post(
                        f"/v1/tickets/{ticket_id}/designate",
                        json={"sub_unit_id": "tianhe-street-07"},
                    ),
                    other.post(
                        f"/v1/tickets/{ticket_id}/designate",
                        json={"sub_unit_id": "tianhe-street-01"},
                    ),
                )
            )
        )
    for index, ticket_id in enumerate(tickets):
        pair = answers[2 * index : 2 * index + 2]
        assert sorted(a.status_code for a in pair) == [200, 409], [a.text for a in pair]
        actions = await _history_actions(first, client_for, ticket_id)
        assert actions.count("designated") == 1


async def test_two_decisions_on_one_return_apply_exactly_one(
    fresh_database_url, settings, clock, client_for, token
):
    """Real concurrency: separate connections, no shared test transaction."""
    from dispatch.app import build_app

    from tests.dispatch.conftest import submitted_envelope

    engine = make_engine(fresh_database_url, pool_size=4)
    app = build_app(settings=settings, engine=engine, clock=clock, run_relay=False)
    try:
        async with client_for(app, Role.SERVICE, as_service="intake") as service:
            envelope, ticket_id = submitted_envelope(clock)
            await service.post("/v1/events", json=envelope)
        async with client_for(app, Role.DISPATCHER) as agency:
            await agency.post(f"/v1/tickets/{ticket_id}/dispatch", json={})
        async with client_for(app, Role.UNIT, "tianhe-urban") as unit:
            application = (
                await unit.post(
                    f"/v1/tickets/{ticket_id}/returns", json={"reason": "x", "basis": "y"}
                )
            ).json()
        async with (
            client_for(app, Role.DISPATCHER) as first,
            client_for(app, Role.DISPATCHER) as second,
        ):
            url = f"/v1/returns/{application['id']}/decision"
            answers = await asyncio.gather(
                first.post(url, json={"decision": "approve", "reason": "a"}),
                second.post(url, json={"decision": "reject", "reason": "b"}),
            )
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200, 409]
        refused = next(a for a in answers if a.status_code == 409)
        assert refused.json()["error"]["code"] == "return_already_decided"
    finally:
        await engine.dispose()


async def test_art18_no_ticket_lock_is_held_while_sla_decides_an_extension(
    replicas, client_for, clock
):
    """While dispatch waits for sla's answer, the ticket's other work (here: sla's own
    deadline event arriving in the inbox) goes on instead of queueing behind the lock."""
    import httpx

    from shared.clients.base import ServiceClient
    from shared.events import DeadlineChanged, EventEnvelope
    from shared.vocabulary import ClockKind

    app, _ = replicas
    asked, answer = asyncio.Event(), asyncio.Event()

    async def slow_sla(request: httpx.Request) -> httpx.Response:
        asked.set()
        await answer.wait()
        return httpx.Response(
            200,
            json={
                "ticket_id": ticket_id,
                "due_at": "2026-12-22T00:00:00+08:00",
                "due_date": "2026-12-21",
                "extensions_used": 1,
            },
        )

    app.state.clients["sla"] = ServiceClient(
        peer="sla",
        base_url="http://sla",
        token=lambda: "t",
        retries=0,
        transport=httpx.MockTransport(slow_sla),
    )
    ticket_id = await _submitted(app, client_for, clock)
    async with client_for(app, Role.DISPATCHER) as agency:
        await agency.post(f"/v1/tickets/{ticket_id}/dispatch", json={"unit_id": "tianhe-urban"})
    deadline = DeadlineChanged(
        ticket_id=ticket_id,
        clock=ClockKind.VERIFICATION,
        due_at=clock.now(),
    )
    envelope = EventEnvelope(
        type=deadline.type_name,
        source="sla",
        occurred_at=clock.now(),
        payload=deadline.model_dump(mode="json"),
    ).model_dump(mode="json")
    async with (
        client_for(app, Role.UNIT, "tianhe-urban") as unit,
        client_for(app, Role.SERVICE, as_service="sla") as sla,
    ):
        await unit.post(f"/v1/tickets/{ticket_id}/accept")
        extension = asyncio.create_task(
            unit.post(
                f"/v1/tickets/{ticket_id}/extensions",
                json={"reason": "需协调多部门", "caller_notified": True},
            )
        )
        try:
            await asyncio.wait_for(asked.wait(), timeout=60)
            # Seconds of work at most; a lock held across sla's answer blocks it for ever.
            delivered = await asyncio.wait_for(sla.post("/v1/events", json=envelope), timeout=60)
        finally:
            answer.set()
        extended = await extension
    assert delivered.status_code == 200, delivered.text
    assert extended.status_code == 200, extended.text
    assert datetime.fromisoformat(extended.json()["handling_due_at"]) == datetime(
        2026, 12, 21, 16, tzinfo=UTC
    )
