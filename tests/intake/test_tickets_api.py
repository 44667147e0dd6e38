"""Taking calls: the three endings (Art 11, 13), idempotency, masking and contact (Art 25)."""

import json
import re

import pytest
from sqlalchemy import select, text

from shared.auth import Role, mint_token
from shared.events import EventEnvelope, TicketStatusChanged
from shared.outbox import Outbox
from tests.intake.conftest import CALL


async def _events(session, event_type: str) -> list[dict]:
    table = Outbox("intake").outbox
    query = select(table.c.payload).where(table.c.event_type == event_type).order_by(table.c.seq)
    rows = await session.execute(query)
    return [r[0] for r in rows]


async def _take(client, call=None, status=201, **headers) -> dict:
    response = await client.post("/v1/tickets", json=call or CALL, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


async def test_art13_a_submitted_call_goes_to_dispatch_without_the_callers_identity(agent, session):
    async with agent() as client:
        ticket = await _take(client)
    assert ticket["number"].startswith("GZ261123")
    assert ticket["status"] == "submitted"
    [submitted] = await _events(session, "ticket.submitted.v1")
    assert submitted["ticket_id"] == ticket["id"]
    assert submitted["category"] == "noise.construction" and submitted["district"] == "天河区"
    assert "13812345678" not in str(submitted) and "李雷" not in str(submitted)


async def test_a_number_is_the_guangzhou_day_and_six_digits_at_least(agent, session):
    async with agent() as client:
        first = (await _take(client))["number"]
        await session.execute(text("SELECT setval('intake.ticket_number_seq', 1234566)"))
        later = (await _take(client))["number"]
    assert re.fullmatch(r"GZ261123\d{6}", first), first
    assert later == "GZ2611231234567"  # a seventh digit rather than a number cut short


async def test_a_retried_call_with_the_same_key_creates_nothing(agent, session):
    async with agent() as client:
        first = await client.post("/v1/tickets", json=CALL, headers={"Idempotency-Key": "c1"})
        again = await client.post("/v1/tickets", json=CALL, headers={"Idempotency-Key": "c1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert first.json() == again.json()
    assert len(await _events(session, "ticket.submitted.v1")) == 1
    count = await session.scalar(text("SELECT count(*) FROM intake.ticket"))
    assert count == 1


async def test_a_refused_call_leaves_its_key_free_for_the_corrected_one(agent, session):
    async with agent() as client:
        bad = {**CALL, "text": ""}
        refused = await client.post("/v1/tickets", json=bad, headers={"Idempotency-Key": "c2"})
        corrected = await client.post("/v1/tickets", json=CALL, headers={"Idempotency-Key": "c2"})
    assert (refused.status_code, corrected.status_code) == (422, 201)
    assert "idempotent-replayed" not in corrected.headers
    assert await session.scalar(text("SELECT count(*) FROM intake.ticket")) == 1


async def test_a_key_reused_for_another_call_is_refused_and_keys_are_per_agent(
    agent, intake_app, client_for, session
):
    async with agent() as client:
        first = await client.post("/v1/tickets", json=CALL, headers={"Idempotency-Key": "c1"})
        other_call = {**CALL, "text": "另一件事：路灯不亮"}
        reused = await client.post(
            "/v1/tickets", json=other_call, headers={"Idempotency-Key": "c1"}
        )
    # Another agent's key space is its own: the same key takes a new call, never the first.
    async with client_for(intake_app, Role.AGENT) as colleague:
        colleague.headers["Authorization"] = "Bearer " + mint_token(
            intake_app.state.settings, role=Role.AGENT, subject="agent-2"
        )
        theirs = await colleague.post("/v1/tickets", json=CALL, headers={"Idempotency-Key": "c1"})
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    count = await session.scalar(text("SELECT count(*) FROM intake.ticket"))
    assert count == 2


async def test_a_retried_note_reaches_the_unit_once(agent, session):
    async with agent() as client:
        ticket = await _take(client)
        notes = [
            await client.post(
                f"/v1/tickets/{ticket['id']}/notes",
                json={"text": "施工方今晚又开始打桩"},
                headers={"Idempotency-Key": "n1"},
            )
            for _ in range(2)
        ]
    assert [n.status_code for n in notes] == [201, 201]
    assert len(await _events(session, "ticket.caller_note_added.v1")) == 1


@pytest.mark.parametrize(
    ("disposition", "extra"),
    [
        ("emergency", {"emergency_number": "119"}),  # Art 11(1)
        ("legal_channel", {}),  # Art 11(2)
        ("party_organs", {}),  # Art 11(3)
        ("confidential", {}),  # Art 11(5)
    ],
)
async def test_art11_special_cases_close_at_intake_and_are_not_dispatched(
    agent, session, disposition, extra
):
    call = {
        **CALL,
        "outcome": "closed_at_intake",
        "disposition": disposition,
        "told_caller": "已告知诉求人处理渠道",
        **extra,
    }
    async with agent() as client:
        ticket = await _take(client, call)
        dispatched = await client.post("/v1/tickets", json={**call, "outcome": "submitted"})
    assert (ticket["status"], ticket["disposition"]) == ("closed_at_intake", disposition)
    assert dispatched.status_code == 422
    assert await _events(session, "ticket.submitted.v1") == []


async def test_art11_1_an_emergency_names_110_119_120_or_122(agent):
    call = {
        **CALL,
        "outcome": "closed_at_intake",
        "disposition": "emergency",
        "told_caller": "已转接",
        "emergency_number": "12345",
    }
    async with agent() as client:
        response = await client.post("/v1/tickets", json=call)
    assert response.status_code == 422
    assert "110" in response.json()["error"]["message"]


async def test_art11_4_progress_links_the_open_ticket_instead_of_a_new_one(agent, session):
    async with agent() as client:
        first = await _take(client)
        progress = await _take(
            client,
            {
                **CALL,
                "outcome": "closed_at_intake",
                "disposition": "in_progress",
                "told_caller": "已告知办理进度",
                "related_ticket_id": first["id"],
            },
        )
        unlinked = await client.post(
            "/v1/tickets",
            json={
                **CALL,
                "outcome": "closed_at_intake",
                "disposition": "in_progress",
                "told_caller": "x",
            },
        )
    assert progress["related_ticket_id"] == first["id"]
    assert unlinked.status_code == 422
    assert len(await _events(session, "ticket.submitted.v1")) == 1


async def test_art22_a_repeat_links_only_the_same_callers_completed_ticket(agent, session):
    repeat = {**CALL, "disposition": "repeat"}
    other_caller = {**CALL["caller"], "phone": "13900002222"}
    async with agent() as client:
        open_one = await _take(client)
        of_open = await client.post(
            "/v1/tickets", json={**repeat, "related_ticket_id": open_one["id"]}
        )
        theirs = await client.post(
            "/v1/tickets",
            json={**repeat, "caller": other_caller, "related_ticket_id": open_one["id"]},
        )
        answered = await _take(
            client,
            {
                **CALL,
                "outcome": "closed_at_intake",
                "disposition": "legal_channel",
                "told_caller": "已告知向法院起诉",
            },
        )
        repeated = await _take(client, {**repeat, "related_ticket_id": answered["id"]})
    assert (of_open.status_code, of_open.json()["error"]["code"]) == (
        409,
        "repeat_of_open_ticket",
    )
    assert theirs.json()["error"]["code"] == "related_ticket_of_another_caller"
    events = await _events(session, "ticket.submitted.v1")
    assert [e["repeat_of"] for e in events] == [None, answered["id"]]
    assert repeated["related_ticket_id"] == answered["id"]


async def test_art13_a_consultation_answered_from_the_knowledge_base(agent, session):
    async with agent() as client:
        found = await client.get("/v1/kb/search", params={"q": "热线事项可以延期几次"})
        cited = found.json()["items"][0]["id"]
        call = {
            **CALL,
            "ticket_type": "consultation",
            "outcome": "answered",
            "kb_entry_id": cited,
            "told_caller": "按政策原文答复",
        }
        answered = await _take(client, call)
        complaint = await client.post("/v1/tickets", json={**call, "ticket_type": "complaint"})
        invented = await client.post("/v1/tickets", json={**call, "kb_entry_id": "kb-404"})
    assert answered["status"] == "answered" and answered["kb_entry_id"] == cited
    assert complaint.status_code == 422
    assert invented.status_code == 422  # Art 13(1): the answer cited must exist
    assert await _events(session, "ticket.submitted.v1") == []


async def test_art12_flags_are_recorded_and_never_delete_the_call(agent):
    async with agent() as client:
        ticket = await _take(client, {**CALL, "flags": ["abusive", "repeated_same_facts"]})
        again = (await client.get(f"/v1/tickets/{ticket['id']}")).json()
    assert again["flags"] == ["abusive", "repeated_same_facts"]


@pytest.mark.parametrize("role", [Role.AGENT, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN])
async def test_art25_every_role_sees_the_caller_masked(agent, intake_app, client_for, role):
    async with agent() as client:
        ticket = await _take(client)
    async with client_for(intake_app, role) as client:
        seen = (await client.get(f"/v1/tickets/{ticket['id']}")).json()
    assert seen["caller"] == {
        "name": "李*",
        "phone": "138****5678",
        "address": "天河区***",
        "masked": True,
        "sms_consent": False,
    }


async def test_art25_contact_in_full_only_for_the_agent_of_the_call_and_the_assigned_unit(
    agent, intake_app, client_for, clock, session
):
    async with agent() as client:
        ticket = await _take(client)
        own = await client.get(f"/v1/tickets/{ticket['id']}/contact")
    async with client_for(intake_app, Role.UNIT, "tianhe-urban") as unit:
        before = await unit.get(f"/v1/tickets/{ticket['id']}/contact")
    status = TicketStatusChanged(
        ticket_id=ticket["id"], status="dispatched", unit_id="tianhe-urban", at=clock.now()
    )
    envelope = EventEnvelope(
        type=status.type_name,
        source="dispatch",
        occurred_at=clock.now(),
        payload=status.model_dump(mode="json"),
    )
    async with client_for(intake_app, Role.SERVICE, as_service="dispatch") as service:
        await service.post("/v1/events", json=envelope.model_dump(mode="json"))
    async with client_for(intake_app, Role.UNIT, "tianhe-urban") as unit:
        assigned = await unit.get(f"/v1/tickets/{ticket['id']}/contact")
    async with client_for(intake_app, Role.UNIT, "haizhu-urban") as unit:
        other_unit = await unit.get(f"/v1/tickets/{ticket['id']}/contact")
    async with client_for(intake_app, Role.DISPATCHER) as dispatcher:
        agency = await dispatcher.get(f"/v1/tickets/{ticket['id']}/contact")
        status_seen = (await dispatcher.get(f"/v1/tickets/{ticket['id']}")).json()["status"]
    assert own.json() == {
        "name": "李雷",
        "phone": "13812345678",
        "address": "天河区林和西路1号",
        "masked": False,
        "sms_consent": False,
    }
    assert before.status_code == other_unit.status_code == agency.status_code == 403
    assert assigned.json()["phone"] == "13812345678"
    assert status_seen == "dispatched"
    reads = (
        await session.execute(text("SELECT role, unit_id FROM intake.contact_access ORDER BY id"))
    ).all()
    assert [tuple(r) for r in reads] == [("agent", None), ("unit", "tianhe-urban")]


async def test_art25_a_unit_whose_return_was_approved_no_longer_reads_the_contact(
    agent, intake_app, client_for, clock
):
    async with agent() as client:
        ticket = await _take(client)

    async def status(name: str, unit_id: str | None) -> None:
        event = TicketStatusChanged(
            ticket_id=ticket["id"], status=name, unit_id=unit_id, at=clock.now()
        )
        envelope = EventEnvelope(
            type=event.type_name,
            source="dispatch",
            occurred_at=clock.now(),
            payload=event.model_dump(mode="json"),
        )
        async with client_for(intake_app, Role.SERVICE, as_service="dispatch") as service:
            await service.post("/v1/events", json=envelope.model_dump(mode="json"))

    async def read_by_unit() -> int:
        async with client_for(intake_app, Role.UNIT, "tianhe-urban") as unit:
            return (await unit.get(f"/v1/tickets/{ticket['id']}/contact")).status_code

    await status("dispatched", "tianhe-urban")
    while_assigned = await read_by_unit()
    await status("awaiting_dispatch", None)  # Art 15(1): back with the agency
    assert (while_assigned, await read_by_unit()) == (200, 403)


async def test_art11_4_a_caller_is_found_by_phone_in_any_format(agent):
    async with agent() as client:
        ticket = await _take(client)
        found = (
            await client.get("/v1/tickets", params={"caller_phone": "+86 138-1234-5678"})
        ).json()
        nobody = (await client.get("/v1/tickets", params={"caller_phone": "13900000000"})).json()
    assert [t["id"] for t in found["items"]] == [ticket["id"]]
    assert nobody["items"] == []


async def test_art17_a_new_situation_is_forwarded_to_dispatch(agent, session):
    async with agent() as client:
        ticket = await _take(client)
        note = await client.post(
            f"/v1/tickets/{ticket['id']}/notes", json={"text": "施工改到凌晨两点，电话13812345678"}
        )
        closed = await _take(
            client,
            {
                **CALL,
                "outcome": "closed_at_intake",
                "disposition": "confidential",
                "told_caller": "x",
            },
        )
        refused = await client.post(f"/v1/tickets/{closed['id']}/notes", json={"text": "x"})
    assert note.status_code == 201
    [forwarded] = await _events(session, "ticket.caller_note_added.v1")
    assert forwarded["ticket_id"] == ticket["id"] and "13812345678" not in forwarded["text"]
    assert refused.status_code == 409


async def test_bad_calls_are_422_and_change_nothing(agent, session):
    async with agent() as client:
        for body in (
            {**CALL, "channel": "fax"},
            {**CALL, "text": ""},
            {**CALL, "ticket_type": "rumour"},
            {**CALL, "category": "foo.bar"},
        ):
            assert (await client.post("/v1/tickets", json=body)).status_code == 422
        typo = await client.post("/v1/tickets", json={**CALL, "category": "noise.constructon"})
    assert "noise.construction" in typo.json()["error"]["message"]
    assert await session.scalar(text("SELECT count(*) FROM intake.ticket")) == 0


async def test_art25_phones_in_any_script_and_the_callers_name_in_a_note_are_masked(agent, session):
    call = {
        **CALL,
        "text": "噪音扰民，请回电１３９１２３４５６７８或一三九 一二三四 五六七八，住三楼",
        "place": "林和西路工地门口，保安电话13700001111",
    }
    async with agent() as client:
        ticket = await _take(client, call)
        note = await client.post(
            f"/v1/tickets/{ticket['id']}/notes", json={"text": "李雷说工地今晚又开工了"}
        )
    shown = json.dumps([ticket, note.json()], ensure_ascii=False)
    stored = json.dumps(
        [
            [str(v) for v in row]
            for table in ("ticket", "caller_note", "outbox")
            for row in (await session.execute(text(f"SELECT * FROM intake.{table}"))).all()
        ],
        ensure_ascii=False,
    )
    for clear in ("１３９１２３４５６７８", "一三九 一二三四 五六七八", "13700001111", "李雷说"):
        assert clear not in shown
        assert clear not in stored
    assert "住三楼" in ticket["text"]  # the matter's words stay


async def test_art5_a_district_hotline_agency_reads_its_own_districts_calls(
    agent, intake_app, client_for
):
    async with agent() as client:
        tianhe = await _take(client)
        haizhu = await _take(
            client, {**CALL, "district": "海珠区", "street": "赤岗街道", "place": "海珠区江南大道"}
        )
    async with client_for(intake_app, Role.DISPATCHER, district="海珠区") as district_agency:
        own = await district_agency.get(f"/v1/tickets/{haizhu['id']}")
        other = await district_agency.get(f"/v1/tickets/{tianhe['id']}")
        progress = await district_agency.get(
            "/v1/tickets", params={"caller_phone": CALL["caller"]["phone"]}
        )
    assert (own.status_code, other.status_code) == (200, 403)
    assert [t["id"] for t in progress.json()["items"]] == [haizhu["id"]]


async def test_art7_calls_on_a_sub_centres_line_and_transfers_reach_the_line_that_handles_them(
    agent, intake_app, client_for, session
):
    async with client_for(intake_app, Role.AGENT, "subcentre-12333") as centre_agent:
        own = await _take(centre_agent, {**CALL, "category": None, "text": "公司拖欠三个月工资"})
    async with agent() as client:
        transferred = await _take(client, {**CALL, "transfer_to": "12315"})
        refused = await client.post(
            "/v1/tickets", json={**CALL, "transfer_to": "12315", "outcome": "answered"}
        )
    assert (own["line"], own["transferred_from"]) == ("12333", None)
    assert (transferred["line"], transferred["transferred_from"]) == ("12315", "12345")
    assert refused.status_code == 422
    submitted = {e["ticket_id"]: e for e in await _events(session, "ticket.submitted.v1")}
    assert submitted[own["id"]]["line_unit"] == "subcentre-12333"
    assert submitted[transferred["id"]]["line_unit"] == "subcentre-12315"


async def test_a_call_is_found_by_its_number(agent, intake_app, client_for):
    async with agent() as client:
        ticket = await _take(client)
        found = await client.get(f"/v1/tickets/{ticket['number']}")
        warned = await client.post(
            f"/v1/tickets/{ticket['number']}/warnings", json={"note": "已提醒诉求人文明表达"}
        )
    assert found.json()["id"] == ticket["id"]
    assert warned.status_code == 201 and warned.json()["ticket_id"] == ticket["id"]


@pytest.mark.parametrize(
    ("phone", "stored"),
    [
        ("138 1234 5678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("020-83123456", "02083123456"),
        ("(020) 8312 3456", "02083123456"),
        ("+852 9123 4567", "+85291234567"),
    ],
)
async def test_a_callers_phone_is_checked_and_kept_in_one_form(
    agent, intake_app, client_for, phone, stored
):
    call = {**CALL, "caller": {**CALL["caller"], "phone": phone}}
    async with agent() as client:
        ticket = await _take(client, call)
        contact = (await client.get(f"/v1/tickets/{ticket['id']}/contact")).json()
        found = (await client.get("/v1/tickets", params={"caller_phone": stored})).json()
    assert contact["phone"] == stored
    assert ticket["id"] in [t["id"] for t in found["items"]]


@pytest.mark.parametrize("phone", ["abc", "12345", "1381234567", "010-1234"])
async def test_a_phone_that_is_no_phone_number_is_refused_in_chinese(agent, session, phone):
    call = {**CALL, "caller": {**CALL["caller"], "phone": phone}}
    async with agent() as client:
        response = await client.post("/v1/tickets", json=call)
    assert response.status_code == 422
    assert "字段 caller.phone：不是有效的电话号码" in response.json()["error"]["message"]
    assert await session.scalar(text("SELECT count(*) FROM intake.ticket")) == 0


@pytest.mark.parametrize(
    ("place", "hint"),
    [
        ({"district": "天河", "street": None}, "天河区"),
        ({"district": "Tianhe", "street": None}, ""),
    ],
)
async def test_a_district_outside_the_catalogue_is_refused_with_the_nearest(
    agent, session, place, hint
):
    async with agent() as client:
        response = await client.post("/v1/tickets", json={**CALL, **place})
    assert response.status_code == 422
    assert hint in response.json()["error"]["message"]
    assert await session.scalar(text("SELECT count(*) FROM intake.ticket")) == 0
