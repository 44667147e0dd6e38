"""A ticket's life across intake, dispatch and sla as real processes, on a moving clock."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from shared.auth import Role, mint_token
from shared.settings import Settings

SETTINGS = Settings(env="test")
CALL = {
    "channel": "phone",
    "caller": {"name": "王芳", "phone": "13900001111", "address": "天河区林和西路9号"},
    "text": "林和西路工地夜间施工，噪音扰民",
    "ticket_type": "complaint",
    "category": "noise.construction",
    "district": "天河区",
    "outcome": "submitted",
}
FEEDBACK = {
    "handling_time": "2026-12-20",
    "process": "现场核查并约谈施工单位",
    "result": "已责令停止夜间施工",
    "caller_reply": "电话回复诉求人",
}


def client(url: str, role: Role, unit_id: str | None = None) -> httpx.AsyncClient:
    token = mint_token(SETTINGS, role=role, subject=f"e2e-{role}", unit_id=unit_id)
    return httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


async def eventually(check: Callable[[], Awaitable[Any]], what: str) -> Any:
    """Wait for other processes to catch up (relays, the scan); fail after two minutes (a
    shared CI host may be slow; a pass returns as soon as they have)."""
    try:
        async with asyncio.timeout(120):
            while not (result := await check()):  # noqa: ASYNC110
                await asyncio.sleep(0.2)
            return result
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def test_a_call_reaches_the_unit_and_is_held_to_its_time_limits(stack):
    intake, dispatch, sla = (stack[s].url for s in ("intake", "dispatch", "sla"))
    admin = mint_token(SETTINGS, role=Role.ADMIN, subject="e2e-admin")

    async with client(intake, Role.AGENT) as agent:
        ticket = (
            await agent.post("/v1/tickets", json=CALL, headers={"Idempotency-Key": "e2e-call-1"})
        ).json()
    ticket_id = ticket["id"]

    async with client(dispatch, Role.DISPATCHER) as agency:

        async def queued() -> Any:
            items = (await agency.get("/v1/queue")).json()["items"]
            return next((t for t in items if t["id"] == ticket_id), None)

        entry = await eventually(queued, "the ticket in the agency's queue")
        assert entry["suggested_unit"] == "tianhe-urban"
        await agency.post(f"/v1/tickets/{ticket_id}/dispatch", json={})

    async with client(dispatch, Role.UNIT, "tianhe-urban") as unit:

        async def in_poll() -> Any:
            items = (await unit.get("/v1/units/tianhe-urban/tickets")).json()["items"]
            return next((t for t in items if t["id"] == ticket_id and t["handling_due_at"]), None)

        polled = await eventually(in_poll, "the ticket with its due time in the unit's poll")
        assert polled["status"] == "dispatched"
        assert (await unit.post(f"/v1/tickets/{ticket_id}/accept")).is_success
        contacted = await unit.post(
            f"/v1/tickets/{ticket_id}/contact-record", json={"method": "phone"}
        )
        assert contacted.is_success, contacted.text  # 响应: the caller reached the same day
        extensions = []
        for key in ("ext-1", "ext-2", "ext-3"):
            extensions.append(
                await unit.post(
                    f"/v1/tickets/{ticket_id}/extensions",
                    json={"reason": "需多部门联合执法", "caller_notified": True},
                    headers={"Idempotency-Key": key},
                )
            )
    assert [r.status_code for r in extensions] == [200, 200, 409]
    assert extensions[2].json()["error"]["code"] == "extension_limit_reached"

    # Ten working days plus two extensions of ten: about six weeks. Jump past them.
    stack.advance_clock(admin, days=60)

    async with client(dispatch, Role.UNIT, "tianhe-urban") as unit:

        async def overdue_in_poll() -> Any:
            items = (
                await unit.get("/v1/units/tianhe-urban/tickets", params={"overdue": True})
            ).json()["items"]
            return [t for t in items if t["id"] == ticket_id]

        await eventually(overdue_in_poll, "the ticket flagged overdue in the unit's poll")
    async with client(sla, Role.SUPERVISOR) as supervisor:

        async def supervised() -> Any:
            items = (
                await supervisor.get("/v1/supervisions", params={"ticket_id": ticket_id})
            ).json()["items"]
            return items

        [record] = await eventually(supervised, "a supervision record for the late ticket")
        assert (record["reason"], record["unit_id"]) == ("late", "tianhe-urban")
        dashboard = (await supervisor.get("/v1/dashboard/overdue")).json()
        assert {"key": "tianhe-urban", "count": 1} in dashboard["groups"]

    async with client(dispatch, Role.UNIT, "tianhe-urban") as unit:
        assert (await unit.post(f"/v1/tickets/{ticket_id}/feedback", json=FEEDBACK)).is_success
    async with client(dispatch, Role.DISPATCHER) as agency:
        await agency.post(f"/v1/tickets/{ticket_id}/feedback/review", json={"approved": True})
        closed = (
            await agency.post(f"/v1/tickets/{ticket_id}/evaluation", json={"rating": "satisfied"})
        ).json()
    assert closed["status"] == "closed"

    async with client(intake, Role.AGENT) as agent:

        async def told_closed() -> Any:
            found = (await agent.get("/v1/tickets", params={"caller_phone": "13900001111"})).json()[
                "items"
            ]
            return found and found[0]["status"] == "closed"

        await eventually(told_closed, "intake knowing the ticket is closed")

    async with client(sla, Role.SUPERVISOR) as supervisor:

        async def counted() -> Any:
            kpis = (
                await supervisor.get(
                    "/v1/kpis",
                    params={"unit": "tianhe-urban", "from": "2026-01-01", "to": "2027-12-31"},
                )
            ).json()
            return kpis if kpis["closed"] == 1 else None

        kpis = await eventually(counted, "the unit's KPIs counting the closed ticket")
    assert kpis["received"] == 1 and kpis["closed_on_time"] == 0
    assert kpis["overdue"] == 1 and kpis["working_days_late"] > 0
    assert kpis["extended"] == 1 and kpis["satisfaction_rate"] == 1.0
    assert kpis["supervisions"] == 1


async def test_a_call_taken_while_dispatch_is_down_reaches_the_queue_later(stack):
    stack["dispatch"].stop()
    async with client(stack["intake"].url, Role.AGENT) as agent:
        taken = await agent.post(
            "/v1/tickets",
            json={**CALL, "caller": {"phone": "13900002222"}},
            headers={"Idempotency-Key": "while-down"},
        )
    assert taken.status_code == 201  # the agent is never held up by dispatch
    stack["dispatch"].start()
    async with client(stack["dispatch"].url, Role.DISPATCHER) as agency:

        async def queued() -> Any:
            items = (await agency.get("/v1/queue")).json()["items"]
            return [t for t in items if t["id"] == taken.json()["id"]]

        await eventually(queued, "the ticket in the queue once dispatch is back")
