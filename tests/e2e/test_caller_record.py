"""What an agent tells a caller who asks about progress (Art 11(4), 17, 18), across the
three services as real processes."""

from datetime import datetime
from typing import Any

from shared.auth import Role
from tests.e2e.test_ticket_life import CALL, client, eventually


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_art17_18_the_caller_record_shows_limits_reasons_and_what_the_caller_was_told(
    stack,
):
    intake, dispatch, sla = (stack[s].url for s in ("intake", "dispatch", "sla"))
    call = {**CALL, "caller": {**CALL["caller"], "phone": "13900002222"}}
    async with client(intake, Role.AGENT) as agent:
        ticket_id = (await agent.post("/v1/tickets", json=call)).json()["id"]
    async with client(dispatch, Role.DISPATCHER) as agency:

        async def queued() -> Any:
            items = (await agency.get("/v1/queue")).json()["items"]
            return any(t["id"] == ticket_id for t in items)

        await eventually(queued, "the ticket in the agency's queue")
        await agency.post(f"/v1/tickets/{ticket_id}/dispatch", json={})
    extension_told = "已电话告知诉求人：需协调多部门，延期至新的办理期限"
    async with client(dispatch, Role.UNIT, "tianhe-urban") as unit:

        async def due() -> Any:
            found = (await unit.get(f"/v1/tickets/{ticket_id}")).json()
            return found["handling_due_at"]

        await eventually(due, "the handling due time from sla")
        await unit.post(f"/v1/tickets/{ticket_id}/accept")
        extended = (
            await unit.post(
                f"/v1/tickets/{ticket_id}/extensions",
                json={
                    "reason": "需协调多部门",
                    "caller_notified": True,
                    "told_caller": extension_told,
                },
                headers={"Idempotency-Key": "caller-record-ext-1"},
            )
        ).json()
    async with client(intake, Role.AGENT) as agent:
        await agent.post(f"/v1/tickets/{ticket_id}/notes", json={"text": "施工改到凌晨两点"})
    async with client(dispatch, Role.UNIT, "tianhe-urban") as unit:

        async def told_of_note() -> Any:
            found = (await unit.get(f"/v1/tickets/{ticket_id}")).json()
            return found["new_situation_pending"]

        await eventually(told_of_note, "the caller's new situation reaching the unit")
        judged = await unit.post(
            f"/v1/tickets/{ticket_id}/new-situation",
            json={
                "affects_handling": True,
                "reason": "需重新取证",
                "told_caller": "已告知诉求人重新取证，办理期限重新计算",
            },
        )
        assert judged.is_success, judged.text
    async with client(sla, Role.DISPATCHER) as agency:
        clocks = (await agency.get(f"/v1/tickets/{ticket_id}/clocks")).json()["items"]
        handling = next(c for c in clocks if c["kind"] == "handling" and c["state"] == "running")
        later = (
            await agency.get(
                "/v1/calendar/due", params={"from": handling["due_at"], "working_days": 3}
            )
        ).json()["due_date"]
        adjusted = await agency.post(
            f"/v1/tickets/{ticket_id}/adjustments",
            json={
                "due_date": later,
                "reason": "台风红色预警，全市停工",
                "told_caller": "已短信告知诉求人：受台风影响，办理期限顺延",
            },
        )
        assert adjusted.is_success, adjusted.text
    async with client(dispatch, Role.AGENT) as agent:

        async def record() -> Any:
            found = (await agent.get(f"/v1/tickets/{ticket_id}/caller-record")).json()
            actions = [e["action"] for e in found["entries"]]
            return found if "deadline_adjusted" in actions else None

        shown = await eventually(record, "the adjustment in the caller-facing record")
    by_action = {e["action"]: e for e in shown["entries"]}
    assert by_action["extended"]["reason"] == "需协调多部门"
    assert by_action["extended"]["told_caller"] == extension_told
    assert _instant(by_action["extended"]["due_at"]) == _instant(extended["handling_due_at"])
    assert by_action["new_situation_judged"]["told_caller"].startswith("已告知诉求人重新取证")
    assert by_action["caller_new_situation"]["reason"] == "施工改到凌晨两点"
    assert by_action["deadline_adjusted"]["reason"] == "台风红色预警，全市停工"
    assert by_action["deadline_adjusted"]["told_caller"].startswith("已短信告知诉求人")
    assert shown["handling_due_at"] == by_action["deadline_adjusted"]["due_at"]
    assert shown["handling_due_at"].startswith(later)  # 24:00 in Guangzhou is 16:00Z that day
    assert "accepted" not in by_action  # the units' steps are not the caller's business
