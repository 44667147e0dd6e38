"""Dispatch over HTTP: queue, dispatch, returns, determination, feedback, evaluation, history."""

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, text

from shared.auth import Role, mint_token
from shared.events import ClockBreached, DeadlineChanged, EventEnvelope
from shared.outbox import Outbox
from tests.dispatch.conftest import submitted_envelope

FEEDBACK = {
    "handling_time": "2026-11-24 10:00",
    "process": "执法队员到现场核查，施工单位无夜间施工许可",
    "result": "责令停止夜间施工并立案查处",
    "caller_reply": "已电话告知诉求人处理结果",
}


async def _outbox(session, event_type: str) -> list[dict]:
    table = Outbox("dispatch").outbox
    query = select(table.c.payload).where(table.c.event_type == event_type).order_by(table.c.seq)
    rows = await session.execute(query)
    return [r[0] for r in rows]


async def _post(client, path: str, json: dict | None = None, status: int = 200) -> dict:
    response = await client.post(path, json=json or {})
    assert response.status_code == status, response.text
    return response.json()


async def _send_event(as_role, clock, event) -> None:
    """Deliver an event as its sender's identity (intake's note, sla's deadline …)."""
    envelope = EventEnvelope(
        type=event.type_name,
        source=event.sender,
        occurred_at=clock.now(),
        payload=event.model_dump(mode="json"),
    )
    async with as_role(Role.SERVICE, as_service=event.sender) as client:
        assert (await client.post("/v1/events", json=envelope.model_dump(mode="json"))).is_success


async def test_art13_a_submitted_ticket_waits_in_the_queue_with_its_suggested_unit(
    submit, agency, session
):
    ticket_id = await submit()
    async with agency() as client:
        queue = (await client.get("/v1/queue")).json()["items"]
        rules = (await client.get("/v1/routing-rules")).json()["items"]
    entry = next(t for t in queue if t["id"] == ticket_id)
    assert entry["status"] == "awaiting_dispatch"
    assert entry["suggested_unit"] == "tianhe-urban"
    rule = next(r for r in rules if r["id"] == entry["suggested_rule_id"])
    assert (rule["category"], rule["district"]) == ("noise.construction", "天河区")
    [step] = await _outbox(session, "ticket.stepped.v1")
    assert (step["action"], step["district"], step["street"]) == ("submitted", "天河区", "林和街道")
    assert step["changes"] == [
        {
            "action": "start",
            "clock": "dispatch",
            "reason": "call received (Art 13)",
            "stop_kind": None,
        }
    ]


async def test_a_redelivered_submission_creates_nothing_new(as_role, agency, clock, session):
    envelope, ticket_id = submitted_envelope(clock)
    async with as_role(Role.SERVICE, as_service="intake") as intake:
        first = await intake.post("/v1/events", json=envelope)
        again = await intake.post("/v1/events", json=envelope)  # the relay's retry
        # The same ticket in an event of another id (written twice): the ticket's own guard.
        other = await intake.post("/v1/events", json={**envelope, "id": str(uuid.uuid4())})
    async with agency() as client:
        queue = (await client.get("/v1/queue")).json()["items"]
        history = (await client.get(f"/v1/tickets/{ticket_id}/history")).json()
    assert (first.json()["status"], again.json()["status"]) == ("applied", "duplicate")
    assert other.json()["status"] == "applied" and history["chain_intact"]
    history = history["items"]
    assert [t["id"] for t in queue].count(ticket_id) == 1
    assert [e["action"] for e in history] == ["submitted"]
    assert len(await _outbox(session, "ticket.stepped.v1")) == 1  # one dispatch clock for sla


async def test_dispatched_ticket_appears_in_the_units_poll_with_etag(submit, agency, unit):
    ticket_id = await submit()
    async with agency() as client:
        dispatched = await _post(client, f"/v1/tickets/{ticket_id}/dispatch")
    assert dispatched["lead_unit"] == "tianhe-urban"
    async with unit() as client:
        first = await client.get("/v1/units/tianhe-urban/tickets")
        again = await client.get(
            "/v1/units/tianhe-urban/tickets", headers={"If-None-Match": first.headers["etag"]}
        )
        await _post(client, f"/v1/tickets/{ticket_id}/accept")
        changed = await client.get(
            "/v1/units/tianhe-urban/tickets", headers={"If-None-Match": first.headers["etag"]}
        )
    assert [t["id"] for t in first.json()["items"]] == [ticket_id]
    assert again.status_code == 304
    assert changed.status_code == 200
    assert changed.json()["items"][0]["status"] == "handling"


async def test_art15_a_units_poll_follows_tickets_that_leave_it_and_tickets_it_co_handles(
    submit, agency, as_role, session
):
    """A unit's poll holds what it leads and what it co-handles, in change order; a ticket
    that leaves it (a return approved) changes its ETag, so no poller keeps a stale list."""
    first, second, shared_ = await submit(), await submit(), await submit()
    async with agency() as client:
        for ticket_id in (first, second, shared_):
            await _post(client, f"/v1/tickets/{ticket_id}/dispatch", {"unit_id": "tianhe-urban"})
    async with as_role(Role.UNIT, "tianhe-urban") as tianhe:
        asked = await _post(
            tianhe,
            f"/v1/tickets/{shared_}/returns",
            {"reason": "多部门职责", "basis": "三定方案"},
            201,
        )
    async with agency() as client:
        await _post(
            client,
            f"/v1/returns/{asked['id']}/decision",
            {"decision": "several_units", "reason": "共同办理", "co_handlers": ["haizhu-urban"]},
        )
    async with as_role(Role.UNIT, "haizhu-urban") as haizhu:
        co_handled = (await haizhu.get("/v1/units/haizhu-urban/tickets")).json()["items"]
        polled = "/v1/units/haizhu-urban/tickets"
        same_status = await haizhu.get(polled, params={"status": co_handled[0]["status"]})
        closed = await haizhu.get(polled, params={"status": "closed"})
        not_late = await haizhu.get(polled, params={"overdue": "false"})
    async with as_role(Role.UNIT, "tianhe-urban") as tianhe:
        asked = await _post(
            tianhe,
            f"/v1/tickets/{second}/returns",
            {"reason": "不属于本单位", "basis": "三定方案"},
            201,
        )
        before = await tianhe.get("/v1/units/tianhe-urban/tickets")
        async with agency() as client:
            await _post(
                client,
                f"/v1/returns/{asked['id']}/decision",
                {"decision": "approve", "reason": "同意"},
            )
        after = await tianhe.get(
            "/v1/units/tianhe-urban/tickets", headers={"If-None-Match": before.headers["etag"]}
        )
    assert [t["id"] for t in co_handled] == [shared_]
    assert [t["id"] for t in same_status.json()["items"]] == [shared_]  # filtered in index order
    assert closed.json()["items"] == []
    assert [t["id"] for t in not_late.json()["items"]] == [shared_]
    assert [t["id"] for t in before.json()["items"]] == [first, shared_, second]
    assert after.status_code == 200  # the ticket that left changed the unit's list
    assert [t["id"] for t in after.json()["items"]] == [first, shared_]


async def test_old_changes_of_a_unit_are_pruned_and_its_newest_kept(submit, agency, session):
    from dispatch.tickets.service import last_change, prune_unit_changes

    for _ in range(3):
        ticket_id = await submit()
        async with agency() as client:
            await _post(client, f"/v1/tickets/{ticket_id}/dispatch", {"unit_id": "tianhe-urban"})
    newest = await last_change(session, "tianhe-urban")
    assert await prune_unit_changes(session) >= 2
    assert await prune_unit_changes(session) == 0
    assert await last_change(session, "tianhe-urban") == newest > 0


async def test_art15_16_three_approved_returns_then_determination(submit, agency, as_role):
    ticket_id = await submit()
    returned_by = []
    for named in (None, None, "haizhu-urban"):
        async with agency() as client:
            ticket = await _post(client, f"/v1/tickets/{ticket_id}/dispatch", {"unit_id": named})
        unit_id = ticket["lead_unit"]
        assert unit_id not in returned_by  # the suggestion skips units that returned it
        returned_by.append(unit_id)
        async with as_role(Role.UNIT, unit_id) as client:
            application = await _post(
                client,
                f"/v1/tickets/{ticket_id}/returns",
                {"reason": "不属于本单位职责", "basis": "三定方案"},
                201,
            )
        async with agency() as client:
            await _post(
                client,
                f"/v1/returns/{application['id']}/decision",
                {"decision": "approve", "reason": "同意退回"},
            )
    async with agency() as client:
        ticket = (await client.get(f"/v1/tickets/{ticket_id}")).json()
        refused = await client.post(f"/v1/tickets/{ticket_id}/dispatch", json={})
        wrong_body = await client.post(
            f"/v1/tickets/{ticket_id}/determination",
            json={
                "dispute_kind": "cross_district",
                "consulted_body": "justice_bureau",
                "unit_id": "tianhe-gov",
            },
        )
        settled = await _post(
            client,
            f"/v1/tickets/{ticket_id}/determination",
            {
                "dispute_kind": "unclear_responsibility",
                "consulted_body": "establishment_office",
                "unit_id": "tianhe-gov",
                "principle": "工地夜间施工噪声由属地区政府统筹处理",
                "record_as_routing_rule": True,
            },
        )
        rules = (await client.get("/v1/routing-rules")).json()["items"]
        proposed = (
            await client.get("/v1/determinations", params={"principle_status": "proposed"})
        ).json()["items"]
    # Art 16 ¶3: the principle is proposed; it becomes a routing rule once approved (审定).
    assert all(r["source"] != "determination" for r in rules)
    assert [p["principle_status"] for p in proposed] == ["proposed"]
    async with as_role(Role.ADMIN) as admin:
        approved = await _post(
            admin,
            f"/v1/determinations/{proposed[0]['id']}/principle-review",
            {"approved": True, "reason": "符合属地管理原则"},
        )
        again = await admin.post(
            f"/v1/determinations/{proposed[0]['id']}/principle-review",
            json={"approved": False, "reason": "x"},
        )
        rules = (await admin.get("/v1/routing-rules")).json()["items"]
    assert approved["principle_status"] == "approved" and approved["principle_reviewed_by"]
    assert again.json()["error"]["code"] == "principle_not_proposed"
    assert returned_by == ["tianhe-urban", "tianhe-gov", "haizhu-urban"]
    assert ticket["difficult"] and ticket["approved_returns"] == 3
    assert refused.status_code == 409 and refused.json()["error"]["code"] == (
        "determination_required"
    )
    assert wrong_body.json()["error"]["code"] == "wrong_body_consulted"
    assert settled["lead_unit"] == settled["determined_unit"] == "tianhe-gov"
    assert rules[0]["source"] == "determination" and rules[0]["unit_id"] == "tianhe-gov"
    async with as_role(Role.UNIT, "tianhe-gov") as client:
        response = await client.post(
            f"/v1/tickets/{ticket_id}/returns", json={"reason": "x", "basis": "y"}
        )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "determined_unit_cannot_return"


async def test_art15_2_rejected_return_keeps_the_unit(submit, agency, unit, session):
    ticket_id = await submit()
    async with agency() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/dispatch")
    async with unit() as client:
        application = await _post(
            client,
            f"/v1/tickets/{ticket_id}/returns",
            {"reason": "不属于本单位", "basis": "职责"},
            201,
        )
    async with agency() as client:
        ticket = await _post(
            client,
            f"/v1/returns/{application['id']}/decision",
            {"decision": "reject", "reason": "属于城管职责"},
        )
        again = await client.post(
            f"/v1/returns/{application['id']}/decision", json={"decision": "approve", "reason": "x"}
        )
    assert (ticket["status"], ticket["lead_unit"]) == ("dispatched", "tianhe-urban")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "return_already_decided"
    # Only the dispatch and its restart of the unit's periods reached sla: no second restart.
    steps = await _outbox(session, "ticket.stepped.v1")
    assert [s["action"] for s in steps] == [
        "submitted",
        "dispatched",
        "return_requested",
        "return_reject",
    ]
    restarted = [{c["clock"] for c in s["changes"] if c["action"] == "restart"} for s in steps]
    assert restarted == [set(), {"verification", "handling", "contact"}, set(), set()]


async def test_art14_return_refused_once_sla_closes_the_window(
    submit, agency, unit, as_role, clock
):
    ticket_id = await submit()
    async with agency() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/dispatch")
    await _send_event(
        as_role,
        clock,
        ClockBreached(
            ticket_id=ticket_id, clock="verification", due_at=clock.now() + timedelta(days=2)
        ),
    )
    async with unit() as client:
        response = await client.post(
            f"/v1/tickets/{ticket_id}/returns", json={"reason": "x", "basis": "y"}
        )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "return_window_closed"


async def test_walk_feedback_rejected_unsatisfied_rehandled_closed(submit, agency, unit):
    ticket_id = await submit()
    async with agency() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/dispatch")
    async with unit() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/accept")
        incomplete = await client.post(
            f"/v1/tickets/{ticket_id}/feedback", json={**FEEDBACK, "caller_reply": ""}
        )
        await _post(client, f"/v1/tickets/{ticket_id}/feedback", FEEDBACK)
    assert incomplete.status_code == 409
    assert "回复诉求人情况" in incomplete.json()["error"]["message"]  # what is missing
    async with agency() as client:
        back = await _post(
            client,
            f"/v1/tickets/{ticket_id}/feedback/review",
            {"approved": False, "reason": "未说明办理过程"},
        )
    assert back["status"] == "handling"
    async with unit() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/feedback", FEEDBACK)
    async with agency() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/feedback/review", {"approved": True})
        unsatisfied = await _post(
            client, f"/v1/tickets/{ticket_id}/evaluation", {"rating": "unsatisfied"}
        )
        rehandling = await _post(
            client, f"/v1/tickets/{ticket_id}/rehandle", {"reason": "诉求人不满意"}
        )
    assert unsatisfied["status"] == "unsatisfied" and rehandling["status"] == "rehandling"
    async with unit() as client:
        no_extension = await client.post(
            f"/v1/tickets/{ticket_id}/extensions", json={"reason": "x", "caller_notified": True}
        )
        await _post(client, f"/v1/tickets/{ticket_id}/feedback", FEEDBACK)
    assert no_extension.json()["error"]["code"] == "no_extension_in_rehandling"
    async with agency() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/feedback/review", {"approved": True})
        await _post(client, f"/v1/tickets/{ticket_id}/evaluation", {"rating": "unsatisfied"})
        once = await client.post(f"/v1/tickets/{ticket_id}/rehandle", json={"reason": "x"})
        closed = await _post(client, f"/v1/tickets/{ticket_id}/close", {"reason": "已二次办理"})
        history = (await client.get(f"/v1/tickets/{ticket_id}/history")).json()
    assert once.json()["error"]["code"] == "rehandling_once"
    assert closed["status"] == "closed"
    assert history["chain_intact"]
    actions = [e["action"] for e in history["items"]]
    assert actions[:3] == ["submitted", "dispatched", "accepted"]
    assert actions[-1] == "closed" and actions.count("feedback_submitted") == 3
    assert all(e["actor"] and e["role"] and e["at"] for e in history["items"])


async def test_art6_19_sub_unit_result_reviewed_before_feedback(submit, agency, as_role):
    ticket_id = await submit(category="other.general")
    async with agency() as client:
        ticket = await _post(client, f"/v1/tickets/{ticket_id}/dispatch")
    assert ticket["lead_unit"] == "tianhe-gov"
    street = "tianhe-street-07"  # 林和街道
    async with as_role(Role.UNIT, "tianhe-gov") as client:
        await _post(client, f"/v1/tickets/{ticket_id}/accept")
        foreign = await client.post(
            f"/v1/tickets/{ticket_id}/designate", json={"sub_unit_id": "yuexiu-street-01"}
        )
        await _post(client, f"/v1/tickets/{ticket_id}/designate", {"sub_unit_id": street})
    assert foreign.json()["error"]["code"] == "not_own_sub_unit"
    async with as_role(Role.SUB_UNIT, street) as client:
        polled = (await client.get(f"/v1/units/{street}/tickets")).json()["items"]
        await _post(client, f"/v1/tickets/{ticket_id}/sub-unit-result", FEEDBACK)
    assert [t["id"] for t in polled] == [ticket_id]
    async with as_role(Role.UNIT, "tianhe-gov") as client:
        early = await client.post(f"/v1/tickets/{ticket_id}/feedback", json=FEEDBACK)
        await _post(client, f"/v1/tickets/{ticket_id}/sub-unit-result/review", {"approved": True})
        done = await _post(client, f"/v1/tickets/{ticket_id}/feedback", FEEDBACK)
    assert early.json()["error"]["code"] == "sub_unit_result_unreviewed"
    assert done["status"] == "feedback_review"


async def test_sla_deadlines_and_breaches_show_in_the_poll(submit, agency, unit, as_role, clock):
    ticket_id = await submit()
    async with agency() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/dispatch")
    due = clock.now() + timedelta(days=14)
    poll = "/v1/units/tianhe-urban/tickets"
    async with unit() as client:
        seen = await client.get(poll, params={"limit": 1})
    await _send_event(
        as_role, clock, DeadlineChanged(ticket_id=ticket_id, clock="handling", due_at=due)
    )
    async with unit() as client:
        told = await client.get(
            poll,
            params={"limit": 1, "cursor": seen.json()["next_cursor"]},
            headers={"If-None-Match": seen.headers["etag"]},
        )
    # A new due time is news for the unit's poll: past the cursor it had, not a 304.
    assert [t["id"] for t in told.json()["items"]] == [ticket_id]
    assert told.json()["items"][0]["handling_due_at"].startswith(due.date().isoformat())
    await _send_event(
        as_role, clock, ClockBreached(ticket_id=ticket_id, clock="handling", due_at=due)
    )
    async with unit() as client:
        overdue = (
            await client.get("/v1/units/tianhe-urban/tickets", params={"overdue": True})
        ).json()["items"]
        on_time = (
            await client.get("/v1/units/tianhe-urban/tickets", params={"overdue": False})
        ).json()["items"]
    assert [t["id"] for t in overdue] == [ticket_id] and on_time == []
    assert overdue[0]["handling_due_at"].startswith(due.date().isoformat())


async def test_art17_caller_note_then_judgement_restarts_the_period(
    submit, agency, unit, as_role, clock, session
):
    from shared.events import CallerNoteAdded

    ticket_id = await submit()
    async with agency() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/dispatch")
    async with unit() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/accept")
    await _send_event(
        as_role,
        clock,
        CallerNoteAdded(
            ticket_id=ticket_id, note_id="n1", text="施工时间改到凌晨", added_at=clock.now()
        ),
    )
    async with unit() as client:
        pending = (await client.get(f"/v1/tickets/{ticket_id}")).json()
        judged = await _post(
            client,
            f"/v1/tickets/{ticket_id}/new-situation",
            {
                "affects_handling": True,
                "reason": "需重新取证",
                "told_caller": "已告知诉求人需重新取证，办理期限重新计算",
            },
        )
    assert pending["new_situation_pending"] and not judged["new_situation_pending"]
    restarts = [
        c
        for c in await _outbox(session, "ticket.stepped.v1")
        if c["changes"] and c["changes"][0]["reason"] == "new situation (Art 17)"
    ]
    assert restarts[0]["changes"][0]["action"] == "restart"


async def test_history_is_append_only(submit, session):
    ticket_id = await submit()
    with pytest.raises(Exception, match="append-only"):
        async with session.begin_nested():
            await session.execute(
                text("UPDATE dispatch.ticket_event SET reason = 'edited' WHERE ticket_id = :t"),
                {"t": ticket_id},
            )


async def test_keyset_cursor_never_skips_a_ticket_changed_while_paging(submit, agency, unit):
    ids = [await submit() for _ in range(5)]
    async with agency() as client:
        for ticket_id in ids:
            await _post(client, f"/v1/tickets/{ticket_id}/dispatch")
    seen = []
    async with unit() as client:
        page = (await client.get("/v1/units/tianhe-urban/tickets", params={"limit": 2})).json()
        seen += [t["id"] for t in page["items"]]
        await _post(client, f"/v1/tickets/{ids[2]}/accept")  # changes while we page
        while page["next_cursor"]:
            page = (
                await client.get(
                    "/v1/units/tianhe-urban/tickets",
                    params={"limit": 2, "cursor": page["next_cursor"]},
                )
            ).json()
            seen += [t["id"] for t in page["items"]]
    assert set(seen) == set(ids)


async def test_bad_input_is_4xx_and_changes_nothing(submit, agency, unit):
    ticket_id = await submit(category=None, district=None)
    async with agency() as client:
        no_unit = await client.post(f"/v1/tickets/{ticket_id}/dispatch", json={})
        unknown = await client.post(
            f"/v1/tickets/{ticket_id}/dispatch", json={"unit_id": "nowhere"}
        )
        missing = await client.post("/v1/tickets/nope/dispatch", json={"unit_id": "tianhe-gov"})
        ticket = (await client.get(f"/v1/tickets/{ticket_id}")).json()
    assert no_unit.status_code == 422 and unknown.status_code == 404
    assert missing.status_code == 404
    assert ticket["status"] == "awaiting_dispatch"
    async with unit() as client:
        bad_cursor = await client.get("/v1/units/tianhe-urban/tickets", params={"cursor": "x"})
    assert bad_cursor.status_code == 422


async def test_a_routing_rule_names_a_category_and_district_of_the_catalogues(as_role):
    async with as_role(Role.ADMIN) as admin:
        unknown = await admin.post(
            "/v1/routing-rules",
            json={"category": "noise.constructon", "unit_id": "tianhe-urban", "note": "x"},
        )
        nowhere = await admin.post(
            "/v1/routing-rules",
            json={"district": "Tianhe", "unit_id": "tianhe-urban", "note": "x"},
        )
        rules = (await admin.get("/v1/routing-rules")).json()["items"]
        known = await admin.post(
            "/v1/routing-rules",
            json={"category": "noise.construction", "unit_id": "tianhe-urban", "note": "x"},
        )
    assert unknown.status_code == 422
    assert "noise.construction" in unknown.json()["error"]["message"]
    assert nowhere.status_code == 422 and "没有行政区 Tianhe" in nowhere.json()["error"]["message"]
    assert known.status_code == 201
    assert not any(r["district"] == "Tianhe" for r in rules)


async def test_art17_a_withdrawn_breach_lifts_the_overdue_flag(
    submit, agency, unit, as_role, clock
):
    from shared.events import ClockBreachWithdrawn

    ticket_id = await submit()
    async with agency() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/dispatch")
    due = clock.now()
    await _send_event(
        as_role, clock, ClockBreached(ticket_id=ticket_id, clock="handling", due_at=due)
    )
    async with unit() as client:
        overdue = (await client.get(f"/v1/tickets/{ticket_id}")).json()["overdue"]
    await _send_event(
        as_role,
        clock,
        ClockBreachWithdrawn(
            ticket_id=ticket_id, clock="handling", due_at=due, act_at=due - timedelta(minutes=1)
        ),
    )
    async with unit() as client:
        ticket = (await client.get(f"/v1/tickets/{ticket_id}")).json()
        history = (await client.get(f"/v1/tickets/{ticket_id}/history")).json()["items"]
    assert (overdue, ticket["overdue"]) == (True, False)
    assert history[-1]["action"] == "breach_withdrawn"


async def test_art14_a_return_a_minute_after_the_window_is_refused_without_waiting_for_sla(
    submit, agency, unit, as_role, clock
):
    ticket_id = await submit()
    async with agency() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/dispatch")
    due = clock.now() + timedelta(days=2)
    await _send_event(
        as_role,
        clock,
        DeadlineChanged(ticket_id=ticket_id, clock="verification", due_at=due),
    )
    clock.advance(due - clock.now() + timedelta(minutes=1))  # sla's scan has not run
    async with unit() as client:
        late = await client.post(
            f"/v1/tickets/{ticket_id}/returns", json={"reason": "不属于本单位", "basis": "职责"}
        )
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "return_window_closed"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("returns", {"reason": "   ", "basis": "职责"}),  # Art 14: a reason
        ("returns", {"reason": "不属于本单位", "basis": "\u3000\n"}),  # Art 14: and its basis
        ("extensions", {"reason": " \t", "caller_notified": True}),  # Art 18
    ],
)
async def test_art14_18_whitespace_is_not_a_reason(submit, agency, unit, path, body, session):
    ticket_id = await submit()
    async with agency() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/dispatch")
    async with unit() as client:
        refused = await client.post(f"/v1/tickets/{ticket_id}/{path}", json=body)
        ticket = (await client.get(f"/v1/tickets/{ticket_id}")).json()
    assert refused.status_code == 422
    assert ticket["status"] == "dispatched"
    assert await session.scalar(text("SELECT count(*) FROM dispatch.return_request")) == 0


async def test_art22_a_unit_answers_as_a_repeat_only_what_intake_recorded_as_one(
    as_role, agency, unit, clock
):
    tickets = {}
    for repeat_of in (None, "earlier-ticket"):
        envelope, ticket_id = submitted_envelope(clock, repeat_of=repeat_of)
        async with as_role(Role.SERVICE, as_service="intake") as intake:
            await intake.post("/v1/events", json=envelope)
        async with agency() as client:
            await _post(client, f"/v1/tickets/{ticket_id}/dispatch")
        tickets[repeat_of] = ticket_id
    async with unit() as client:
        ordinary = await client.post(f"/v1/tickets/{tickets[None]}/repeat-answer", json=FEEDBACK)
        repeat = await client.post(
            f"/v1/tickets/{tickets['earlier-ticket']}/repeat-answer", json=FEEDBACK
        )
    assert (ordinary.status_code, ordinary.json()["error"]["code"]) == (409, "not_a_repeat")
    assert repeat.status_code == 200 and repeat.json()["status"] == "closed"


async def test_art20_three_revisits_without_reaching_the_caller_close_it_unrated(
    submit, agency, unit
):
    ticket_id = await submit()
    async with agency() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/dispatch")
    async with unit() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/accept")
        await _post(client, f"/v1/tickets/{ticket_id}/feedback", FEEDBACK)
    async with agency() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/feedback/review", {"approved": True})
        statuses = [
            (
                await _post(
                    client,
                    f"/v1/tickets/{ticket_id}/revisits",
                    {"channel": "phone", "reached": False, "note": "无人接听"},
                )
            )["status"]
            for _ in range(3)
        ]
        history = (await client.get(f"/v1/tickets/{ticket_id}/history")).json()["items"]
    assert statuses == ["awaiting_evaluation", "awaiting_evaluation", "closed"]
    assert [e["action"] for e in history][-3:] == ["revisited", "revisited", "evaluated"]
    assert history[-1]["details"]["rating"] == "none"


async def test_art21_a_matter_waits_on_a_legal_procedure_under_its_guidance_department(
    submit, agency, unit, as_role, session
):
    ticket_id = await submit()
    other_id = await submit()
    async with agency() as client:
        for ticket in (ticket_id, other_id):
            await _post(client, f"/v1/tickets/{ticket}/dispatch")
    waiting_on = {
        "procedure": "administrative_reconsideration",
        "reference": "穗府复〔2026〕123号 行政复议",
        "guidance_department": "city-urban",
    }
    async with unit() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/accept")
        not_a_department = await client.post(
            f"/v1/tickets/{ticket_id}/legal-procedure",
            json={**waiting_on, "guidance_department": "tianhe-housing"},
        )
        waiting = await _post(client, f"/v1/tickets/{ticket_id}/legal-procedure", waiting_on)
        too_early = await client.post(f"/v1/tickets/{ticket_id}/feedback", json=FEEDBACK)
        await _post(client, f"/v1/tickets/{ticket_id}/progress", {"plan": "复议机关已受理"})
    async with as_role(Role.GUIDANCE, "city-urban") as guidance:
        overseen = (await guidance.get("/v1/legal-procedures")).json()["items"]
        seen = await guidance.get(f"/v1/tickets/{ticket_id}")
        unseen = await guidance.get(f"/v1/tickets/{other_id}")
        polled = await guidance.get("/v1/units/tianhe-urban/tickets")
    async with as_role(Role.GUIDANCE, "city-housing") as stranger:
        nothing = (await stranger.get("/v1/legal-procedures")).json()["items"]
    async with agency() as client:  # the agency may say the procedure ended (Art 21)
        ended = await _post(
            client, f"/v1/tickets/{ticket_id}/legal-procedure-ended", {"reason": "复议决定已送达"}
        )
    assert not_a_department.status_code == 422
    assert (waiting["status"], waiting["legal_procedure"]) == (
        "awaiting_legal_procedure",
        "administrative_reconsideration",
    )
    assert waiting["handling_due_at"] is None  # paused: no handling due time is shown
    assert too_early.json()["error"]["code"] == "invalid_state"
    assert [t["id"] for t in overseen] == [ticket_id]
    assert (seen.status_code, unseen.status_code, polled.status_code) == (200, 403, 403)
    assert nothing == []
    assert ended["status"] == "handling"
    steps = await _outbox(session, "ticket.stepped.v1")
    paused = next(s for s in steps if s["action"] == "legal_procedure_awaited")
    assert paused["details"] == {
        "procedure": "administrative_reconsideration",
        "guidance_department": "city-urban",
    }
    assert [(c["action"], c["clock"], c["stop_kind"]) for c in paused["changes"]] == [
        ("stop", "handling", "paused"),
        ("start", "progress_report", None),
    ]
    last = steps[-1]
    assert last["action"] == "legal_procedure_ended"
    assert ("start", "final_feedback") in [(c["action"], c["clock"]) for c in last["changes"]]


async def test_art7_a_sub_centre_receives_handles_reviews_and_revisits_its_own_lines_tickets(
    submit, unit, agency
):
    own = await submit(category="labour.wages", line="12333", line_unit="subcentre-12333")
    city = await submit()
    async with unit("subcentre-12333") as centre:
        received = (await centre.get(f"/v1/tickets/{own}")).json()
        await _post(centre, f"/v1/tickets/{own}/accept")
        await _post(centre, f"/v1/tickets/{own}/feedback", FEEDBACK)
        await _post(centre, f"/v1/tickets/{own}/feedback/review", {"approved": True})
        await _post(centre, f"/v1/tickets/{own}/revisits", {"channel": "phone", "reached": True})
        rated = await _post(centre, f"/v1/tickets/{own}/evaluation", {"rating": "satisfied"})
        history = (await centre.get(f"/v1/tickets/{own}/history")).json()["items"]
        not_its_line = await centre.get(f"/v1/tickets/{city}")
    async with agency() as client:
        queue = [t["id"] for t in (await client.get("/v1/queue")).json()["items"]]
        await _post(client, f"/v1/tickets/{city}/dispatch")
    async with unit() as handler:  # an ordinary unit does not review its own feedback
        await _post(handler, f"/v1/tickets/{city}/accept")
        await _post(handler, f"/v1/tickets/{city}/feedback", FEEDBACK)
        own_review = await handler.post(
            f"/v1/tickets/{city}/feedback/review", json={"approved": True}
        )
    assert (received["status"], received["lead_unit"], received["line"]) == (
        "dispatched",
        "subcentre-12333",
        "12333",
    )
    assert own not in queue  # never waited in 12345's queue
    assert rated["status"] == "closed"
    assert [e["action"] for e in history][:2] == ["submitted", "dispatched"]
    assert not_its_line.status_code == 403
    assert own_review.status_code == 403


async def _awaiting_evaluation(submit, agency, unit) -> str:
    ticket_id = await submit()
    async with agency() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/dispatch")
    async with unit() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/accept")
        await _post(client, f"/v1/tickets/{ticket_id}/feedback", FEEDBACK)
    async with agency() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/feedback/review", {"approved": True})
    return ticket_id


async def test_art20_the_caller_rates_through_the_link_the_agency_sent(
    submit, agency, unit, dispatch_app, settings
):
    ticket_id = await _awaiting_evaluation(submit, agency, unit)
    other_id = await submit()
    async with agency() as client:
        early = await client.post(
            f"/v1/tickets/{other_id}/evaluation-invitation", json={"channel": "sms"}
        )
        invitation = await _post(
            client, f"/v1/tickets/{ticket_id}/evaluation-invitation", {"channel": "sms"}, 201
        )
    link = {"Authorization": f"Bearer {invitation['token']}"}
    stale = mint_token(
        settings,
        role=Role.CALLER,
        subject=ticket_id,
        ttl=timedelta(days=7),
        now=datetime.now(UTC) - timedelta(days=8),
    )
    rating = {"rating": "basically_satisfied", "comment": "处理及时，但噪音偶尔仍有"}
    transport = httpx.ASGITransport(app=dispatch_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as caller:
        elsewhere = await caller.post(
            f"/v1/tickets/{other_id}/caller-evaluation", json=rating, headers=link
        )
        expired = await caller.post(
            f"/v1/tickets/{ticket_id}/caller-evaluation",
            json=rating,
            headers={"Authorization": f"Bearer {stale}"},
        )
        rated = await caller.post(
            f"/v1/tickets/{ticket_id}/caller-evaluation", json=rating, headers=link
        )
        again = await caller.post(
            f"/v1/tickets/{ticket_id}/caller-evaluation", json=rating, headers=link
        )
        peek = await caller.get(f"/v1/tickets/{ticket_id}/history", headers=link)
    async with agency() as client:
        history = (await client.get(f"/v1/tickets/{ticket_id}/history")).json()["items"]
    assert early.json()["error"]["code"] == "invalid_state"
    assert (elsewhere.status_code, expired.status_code) == (403, 401)
    assert rated.json() == {
        "number": rated.json()["number"],
        "status": "closed",
        "rating": "basically_satisfied",
    }
    assert again.json()["error"]["code"] == "invalid_state"  # rated once
    assert peek.status_code == 403  # the link rates; it shows nothing of the handling
    invited, evaluated = history[-2:]
    assert (invited["action"], invited["details"]) == ("evaluation_invited", {"channel": "sms"})
    assert (evaluated["role"], evaluated["details"]["channel"]) == ("caller", "caller")
    assert evaluated["reason"] == "处理及时，但噪音偶尔仍有"


async def test_a_ticket_is_found_and_acted_on_by_the_number_a_caller_quotes(submit, agency, unit):
    ticket_id = await submit()
    async with agency() as client:
        number = (await client.get(f"/v1/tickets/{ticket_id}")).json()["number"]
        by_number = await client.post(f"/v1/tickets/{number}/dispatch", json={})
        unknown = await client.get("/v1/tickets/GZ261123999999")
    async with unit() as client:
        accepted = await _post(client, f"/v1/tickets/{number}/accept")
        record = (await client.get(f"/v1/tickets/{number}/caller-record")).json()
    assert by_number.json()["id"] == ticket_id and accepted["id"] == ticket_id
    assert record["number"] == number
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "没有编号为 GZ261123999999 的热线事项"


async def test_the_agency_works_from_desks_each_counted_sorted_and_paged(
    submit, agency, unit, as_role, clock
):
    first = await submit()
    second = await submit()
    # sla's dispatch limits: the later ticket is due first (say, taken before a weekend).
    for ticket, hours in ((first, 30), (second, 6)):
        due = DeadlineChanged(
            ticket_id=ticket, clock="dispatch", due_at=clock.now() + timedelta(hours=hours)
        )
        await _send_event(as_role, clock, due)
    returning = await submit()
    reviewing = await submit()
    async with agency() as client:
        for ticket in (returning, reviewing):
            await _post(client, f"/v1/tickets/{ticket}/dispatch")
    async with unit() as client:
        await _post(
            client,
            f"/v1/tickets/{returning}/returns",
            {"reason": "不属本单位职责", "basis": "《城市管理执法条例》第十条"},
            201,
        )
        await _post(client, f"/v1/tickets/{reviewing}/accept")
        await _post(client, f"/v1/tickets/{reviewing}/feedback", FEEDBACK)
    async with agency() as client:
        counts = {q["queue"]: q["count"] for q in (await client.get("/v1/queues")).json()["items"]}
        page_one = (await client.get("/v1/queues/awaiting_dispatch", params={"limit": 1})).json()
        page_two = (
            await client.get(
                "/v1/queues/awaiting_dispatch",
                params={"limit": 1, "cursor": page_one["next_cursor"]},
            )
        ).json()
        returns = (await client.get("/v1/queues/return_applications")).json()
        unknown = await client.get("/v1/queues/everything")
        capped = (await client.get("/v1/queue", params={"limit": 1})).json()
    async with as_role(Role.DISPATCHER, district="海珠区") as other_district:
        elsewhere = (await other_district.get("/v1/queues")).json()["items"]
    assert (counts["awaiting_dispatch"], counts["return_applications"]) == (2, 1)
    assert (counts["feedback_review"], counts["difficult"]) == (1, 0)
    assert page_one["count"] == 2 and page_one["next_cursor"]
    # The one due first comes first; the second page holds the other; nothing is lost.
    assert [i["ticket"]["id"] for i in page_one["items"] + page_two["items"]] == [second, first]
    assert page_one["items"][0]["due_at"] < page_two["items"][0]["due_at"]
    [application] = returns["items"]
    assert application["return_request"]["reason"] == "不属本单位职责"
    assert application["return_request"]["basis"] == "《城市管理执法条例》第十条"
    assert application["ticket"]["summary_line"]
    assert unknown.status_code == 422
    assert all(q["count"] == 0 for q in elsewhere)
    # The baseline queue is never cut short silently either.
    assert capped["count"] == 2 and capped["next_cursor"] and len(capped["items"]) == 1


async def test_tickets_are_searched_by_number_words_place_status_and_day(
    submit, agency, unit, as_role, clock
):
    noise = await submit()
    clock.advance(timedelta(days=1))
    haizhu = await submit(district="海珠区", category="noise.commercial")
    async with agency() as client:
        await _post(client, f"/v1/tickets/{noise}/dispatch")
        number = (await client.get(f"/v1/tickets/{noise}")).json()["number"]
        by_number = (await client.get("/v1/tickets", params={"number": number})).json()
        by_words = (await client.get("/v1/tickets", params={"q": "夜间施工"})).json()
        wildcard = (await client.get("/v1/tickets", params={"q": "%"})).json()
        by_place = (await client.get("/v1/tickets", params={"district": "海珠区"})).json()
        by_status = (await client.get("/v1/tickets", params={"status": "dispatched"})).json()
        # The first was received on Monday 23 Nov (Guangzhou), the second on the 24th.
        monday = (
            await client.get("/v1/tickets", params={"from": "2026-11-23", "to": "2026-11-23"})
        ).json()
        paged = (await client.get("/v1/tickets", params={"limit": 1})).json()
        ids = (await client.get("/v1/tickets", params={"ids": f"{haizhu},nope"})).json()
    async with unit("haizhu-urban") as other_unit:
        theirs = (await other_unit.get("/v1/tickets")).json()
    assert [t["id"] for t in by_number["items"]] == [noise]
    assert {noise, haizhu} <= {t["id"] for t in by_words["items"]}
    assert wildcard["count"] == 0  # the words are matched as written
    assert [t["id"] for t in by_place["items"]] == [haizhu]
    assert [t["id"] for t in by_status["items"]] == [noise]
    assert [t["id"] for t in monday["items"]] == [noise]
    assert paged["count"] == 2 and paged["next_cursor"] and paged["items"][0]["id"] == haizhu
    assert [t["id"] for t in ids["items"]] == [haizhu]
    assert theirs["count"] == 0  # a unit searches within its own tickets


async def test_a_units_tickets_are_listed_least_time_left_first_and_paged(
    submit, agency, unit, as_role, clock
):
    later, sooner, undated = await submit(), await submit(), await submit()
    async with agency() as client:
        for ticket_id in (later, sooner, undated):
            await _post(client, f"/v1/tickets/{ticket_id}/dispatch")
    for ticket_id, days in ((later, 20), (sooner, 5)):
        due = clock.now() + timedelta(days=days)
        await _send_event(
            as_role, clock, DeadlineChanged(ticket_id=ticket_id, clock="handling", due_at=due)
        )
    await _send_event(
        as_role, clock, ClockBreached(ticket_id=sooner, clock="handling", due_at=clock.now())
    )
    seen, cursor = [], None
    async with unit() as client:
        while True:
            params = {"unit": "tianhe-urban", "order": "due", "limit": 1}
            page = (
                await client.get(
                    "/v1/tickets", params={**params, **({"cursor": cursor} if cursor else {})}
                )
            ).json()
            seen += [t["id"] for t in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        late = (await client.get("/v1/tickets", params={"overdue": "true"})).json()
        wrong = await client.get("/v1/tickets", params={"order": "urgency"})
    # Least time left first; a ticket with no due time yet after all that have one.
    assert seen == [sooner, later, undated]
    assert [t["id"] for t in late["items"]] == [sooner]
    assert wrong.status_code == 422


async def test_a_user_is_told_which_actions_the_rules_allow_now_and_why_not(
    submit, agency, unit, as_role
):
    ticket_id = await submit()
    async with agency() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/dispatch")
    async with unit() as client:
        before = {
            a["action"]: a
            for a in (await client.get(f"/v1/tickets/{ticket_id}/actions")).json()["items"]
        }
        await _post(client, f"/v1/tickets/{ticket_id}/accept")
        after = {
            a["action"]: a
            for a in (await client.get(f"/v1/tickets/{ticket_id}/actions")).json()["items"]
        }
    async with as_role(Role.UNIT, "haizhu-urban") as other:
        foreign = await other.get(f"/v1/tickets/{ticket_id}/actions")
    assert before["accept"]["allowed"] and not before["feedback"]["allowed"]
    assert before["repeat_answer"]["message"].endswith("（《办法》第二十二条）")
    assert not after["accept"]["allowed"] and after["feedback"]["allowed"]
    assert after["extend"]["allowed"]
    assert foreign.status_code == 403


async def test_a_provisional_handling_due_time_is_marked_until_its_year_is_loaded(
    submit, agency, as_role, clock
):
    ticket_id = await submit()
    due = clock.now() + timedelta(days=40)
    for provisional in (True, False):  # started across New Year; then the year is loaded
        await _send_event(
            as_role,
            clock,
            DeadlineChanged(
                ticket_id=ticket_id, clock="handling", due_at=due, provisional=provisional
            ),
        )
        async with agency() as client:
            seen = (await client.get(f"/v1/tickets/{ticket_id}")).json()["due_provisional"]
        assert seen is provisional


async def test_art20_the_callers_word_on_whether_it_was_solved_is_kept_beside_the_agencys(
    submit, agency, unit, session
):
    ticket_id = await submit()
    async with agency() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/dispatch")
    async with unit() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/accept")
        await _post(client, f"/v1/tickets/{ticket_id}/feedback", FEEDBACK)
    async with agency() as client:
        review = {"approved": True, "resolution_judged": "solved"}
        await _post(client, f"/v1/tickets/{ticket_id}/feedback/review", review)
        unknown = await client.post(
            f"/v1/tickets/{ticket_id}/evaluation",
            json={"rating": "satisfied", "resolution": "maybe"},
        )
        rating = {"rating": "basically_satisfied", "resolution": "partly_solved"}
        await _post(client, f"/v1/tickets/{ticket_id}/evaluation", rating)
    assert unknown.status_code == 422
    steps = {s["action"]: s["details"] for s in await _outbox(session, "ticket.stepped.v1")}
    assert steps["feedback_approved"] == {"resolution_judged": "solved"}
    assert steps["evaluated"] == {"rating": "basically_satisfied", "resolution": "partly_solved"}


async def test_the_lead_unit_records_when_it_contacted_the_caller_judged_by_that_time(
    submit, agency, unit, as_role, clock, session
):
    ticket_id = await submit()
    async with agency() as client:
        await _post(client, f"/v1/tickets/{ticket_id}/dispatch")
    clock.advance(timedelta(hours=30))
    called_at = clock.now() - timedelta(hours=26)  # they phoned the caller yesterday
    async with unit() as client:
        future = await client.post(
            f"/v1/tickets/{ticket_id}/contact-record",
            json={"method": "phone", "at": (clock.now() + timedelta(hours=1)).isoformat()},
        )
        await _post(
            client,
            f"/v1/tickets/{ticket_id}/contact-record",
            {"method": "phone", "at": called_at.isoformat(), "note": "已电话联系诉求人"},
        )
        no_zone = await client.post(
            f"/v1/tickets/{ticket_id}/contact-record",
            json={"method": "phone", "at": "2026-11-24T10:00:00"},  # whose ten o'clock?
        )
    async with as_role(Role.UNIT, "haizhu-urban") as other:
        foreign = await other.post(
            f"/v1/tickets/{ticket_id}/contact-record", json={"method": "phone"}
        )
    assert future.status_code == no_zone.status_code == 422 and foreign.status_code == 403
    contacted = [
        s for s in await _outbox(session, "ticket.stepped.v1") if s["action"] == "contacted"
    ]
    [step] = contacted
    assert datetime.fromisoformat(step["at"]) == called_at  # sla judges by the call's time
    assert step["changes"] == [
        {
            "action": "stop",
            "clock": "contact",
            "reason": "caller contacted",
            "stop_kind": "completed",
        }
    ]
    assert step["details"]["method"] == "phone"


async def test_metrics_count_open_tickets_by_unit_and_failed_notifications(
    submit, agency, as_role, clock, session
):
    """Issue 19: what an operator alerts on, read at each scrape."""
    from uuid import uuid4

    from prometheus_client.parser import text_string_to_metric_families

    from shared.notify import Notifications

    async def scrape() -> dict[tuple[str, str], float]:
        async with as_role(None) as client:
            text = (await client.get("/metrics")).text
        return {
            (s.name, s.labels.get("unit", s.labels.get("kind", ""))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    first = await submit()
    await submit()  # awaits dispatch
    async with agency() as client:
        await _post(client, f"/v1/tickets/{first}/dispatch")
    records = Notifications("dispatch").records
    for state, days_ago in (("failed", 0), ("failed", 2), ("sent", 0)):
        await session.execute(
            records.insert().values(
                id=uuid4(),
                channel_id="c1",
                owner="tianhe-urban",
                kind="dispatched",
                params={},
                urgent=False,
                state=state,
                created_at=clock.now() - timedelta(days=days_ago),
            )
        )
    found = await scrape()
    assert found[("hotline_tickets_open", "tianhe-urban")] == 1
    assert found[("hotline_tickets_open", "")] == 1  # awaiting dispatch
    assert found[("hotline_notifications_failed", "dispatched")] == 1  # within the last day
