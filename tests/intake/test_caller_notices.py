"""Callers told by SMS, with their consent (Art 18: an extension's reason and new due date);
their number stays in intake, sealed, and leaves only to the SMS adapter when sending."""

from datetime import UTC, datetime

import pytest
from intake.tickets.service import CALLER_SMS
from sqlalchemy import select

from shared.auth import Role
from shared.events import CallerNoticeDue, EventEnvelope
from shared.notify import Notifications
from shared.outbox import Outbox
from tests.intake.conftest import CALL

PHONE = CALL["caller"]["phone"]
CONSENTING = {**CALL, "caller": {**CALL["caller"], "sms_consent": True}}


async def _notifications(session) -> list[dict]:
    records = Notifications("intake").records
    rows = await session.execute(select(records).order_by(records.c.created_at))
    return [dict(r) for r in rows.mappings()]


async def _take(client, call) -> dict:
    response = await client.post("/v1/tickets", json=call)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("phone", [None, "020-83123456"])
async def test_consent_to_sms_needs_a_mobile_number(agent, session, phone):
    call = {**CALL, "caller": {"name": "李雷", "phone": phone, "sms_consent": True}}
    async with agent() as client:
        response = await client.post("/v1/tickets", json=call)
    assert response.status_code == 422
    assert "SMS" in response.text or "短信" in response.text
    assert await _notifications(session) == []


async def test_a_consenting_caller_is_told_the_matter_was_accepted_with_its_number(agent, session):
    async with agent() as client:
        ticket = await _take(client, CONSENTING)
        listed = (await client.get(f"/v1/tickets/{ticket['id']}/notifications")).json()
    assert ticket["caller"]["sms_consent"] is True
    [record] = await _notifications(session)
    assert (record["kind"], record["channel_id"], record["owner"]) == (
        "caller_accepted",
        CALLER_SMS,
        "caller",
    )
    assert record["params"]["number"] == ticket["number"]
    [item] = listed["items"]
    assert (item["kind"], item["channel_kind"], item["state"]) == (
        "caller_accepted",
        "sms",
        "queued",
    )
    # The number is neither in the record nor in the outbox row: it is looked up when sending.
    outbox = Outbox("intake").outbox
    payloads = await session.scalars(select(outbox.c.payload))
    assert PHONE not in str(record) + str(list(payloads)) + str(listed)


async def test_a_caller_who_did_not_consent_is_sent_nothing(agent, session):
    async with agent() as client:
        await _take(client, CALL)
    assert await _notifications(session) == []


async def _from_dispatch(intake_app, client_for, clock, event) -> None:
    envelope = EventEnvelope(
        type=event.type_name,
        source="dispatch",
        occurred_at=clock.now(),
        payload=event.model_dump(mode="json"),
    )
    async with client_for(intake_app, Role.SERVICE, as_service="dispatch") as client:
        response = await client.post("/v1/events", json=envelope.model_dump(mode="json"))
    assert response.json()["status"] == "applied", response.text


async def test_art18_an_extension_tells_the_caller_its_reason_and_the_new_due_date(
    agent, intake_app, client_for, clock, session
):
    async with agent() as client:
        told = await _take(client, CONSENTING)
        not_told = await _take(client, {**CALL, "text": "另一宗施工噪音"})
    for ticket in (told, not_told):
        await _from_dispatch(
            intake_app,
            client_for,
            clock,
            CallerNoticeDue(
                ticket_id=ticket["id"],
                kind="caller_extended",
                reason="需多部门联合执法",
                due_at=datetime(2026, 12, 10, 16, 0, tzinfo=UTC),  # 24:00 of the 10th
                at=clock.now(),
            ),
        )
    accepted, extended = await _notifications(session)
    assert extended["ticket_id"] == told["id"] and extended["kind"] == "caller_extended"
    assert extended["params"]["reason"] == "需多部门联合执法"
    assert extended["params"]["due"] == "2026年12月10日 24:00"
    assert accepted["kind"] == "caller_accepted"
