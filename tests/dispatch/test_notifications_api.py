"""Units' notification channels and the notifications a step queues, over dispatch's API."""

from datetime import UTC, datetime

from sqlalchemy import select

from shared.auth import Role
from shared.events import ClockBreached, ClockDueSoon, OverdueDigest, SupervisionOpened
from shared.notify import Notifications, render
from shared.outbox import Outbox
from shared.vocabulary import NoticeKind
from tests.dispatch.test_tickets_api import _send_event

UNIT = "tianhe-urban"
HOOK = {"kind": "webhook", "name": "政务微信", "target": "https://gw.tianhe.example/hotline"}


async def test_a_unit_manages_its_own_channels_and_sees_a_webhook_secret_once(unit):
    async with unit() as client:
        created = await client.post(f"/v1/units/{UNIT}/channels", json=HOOK)
        assert created.status_code == 201, created.text
        channel = created.json()
        assert channel["secret"].startswith("whsec_") and channel["kinds"] == []
        [listed] = (await client.get(f"/v1/units/{UNIT}/channels")).json()["items"]
        assert listed["secret"] is None and listed["target"] == HOOK["target"]
        renewed = (await client.post(f"/v1/units/{UNIT}/channels/{channel['id']}/secret")).json()
        assert renewed["secret"].startswith("whsec_") and renewed["secret"] != channel["secret"]
        off = await client.patch(
            f"/v1/units/{UNIT}/channels/{channel['id']}", json={"active": False}
        )
        assert off.json()["active"] is False


async def test_a_unit_cannot_touch_another_units_channels(unit):
    async with unit("haizhu-urban") as client:
        assert (await client.post(f"/v1/units/{UNIT}/channels", json=HOOK)).status_code == 403
        assert (await client.get(f"/v1/units/{UNIT}/channels")).status_code == 403


async def test_a_target_that_does_not_fit_its_kind_is_refused_and_nothing_is_stored(unit):
    async with unit() as client:
        for body in (
            {**HOOK, "target": "gw.tianhe.example"},
            {"kind": "email", "name": "值班邮箱", "target": "not-an-address"},
            {"kind": "sms", "name": "值班手机", "target": "12345"},
        ):
            response = await client.post(f"/v1/units/{UNIT}/channels", json=body)
            assert response.status_code == 422, response.text
        assert (await client.get(f"/v1/units/{UNIT}/channels")).json()["items"] == []


async def test_art13_dispatching_queues_one_notification_per_channel_that_takes_the_kind(
    submit, agency, unit, as_role, session
):
    async with unit() as client:
        await client.post(f"/v1/units/{UNIT}/channels", json=HOOK)
        await client.post(
            f"/v1/units/{UNIT}/channels",
            json={"kind": "sms", "name": "值班手机", "target": "13800138000"},
        )
        # A channel for overdue tickets only gets nothing when a ticket arrives.
        await client.post(
            f"/v1/units/{UNIT}/channels",
            json={
                "kind": "email",
                "name": "督办邮箱",
                "target": "duty@tianhe.example",
                "kinds": ["overdue"],
            },
        )
    ticket_id = await submit()
    async with agency() as client:
        response = await client.post(f"/v1/tickets/{ticket_id}/dispatch", json={"unit_id": UNIT})
        assert response.is_success, response.text
    async with unit() as client:
        items = (await client.get(f"/v1/tickets/{ticket_id}/notifications")).json()["items"]
        per_unit = (await client.get(f"/v1/units/{UNIT}/notifications")).json()["items"]
    assert sorted(n["channel_kind"] for n in items) == ["sms", "webhook"]
    assert {(n["kind"], n["state"], n["owner"]) for n in items} == {
        ("ticket_assigned", "queued", UNIT)
    }
    assert {n["id"] for n in per_unit} == {n["id"] for n in items}
    outbox = Outbox("dispatch").outbox
    destinations = await session.scalars(
        select(outbox.c.destination).where(outbox.c.event_type == "notice.queued.v1")
    )
    assert sorted(d.split(":")[0] for d in destinations) == ["notify", "notify"]
    # Another unit's staff see none of them.
    async with as_role(Role.UNIT, "haizhu-urban") as other:
        response = await other.get(f"/v1/tickets/{ticket_id}/notifications")
        assert response.status_code == 403


async def test_art17_a_passed_handling_limit_tells_the_unit_which_limit_and_when_it_fell_due(
    submit, agency, unit, as_role, clock, session
):
    async with unit() as client:
        await client.post(
            f"/v1/units/{UNIT}/channels",
            json={"kind": "sink", "name": "开发收件箱", "target": "dev", "kinds": ["overdue"]},
        )
    ticket_id = await submit()
    async with agency() as client:
        await client.post(f"/v1/tickets/{ticket_id}/dispatch", json={"unit_id": UNIT})
    async with unit() as client:
        await client.post(f"/v1/tickets/{ticket_id}/accept")
    # 24:00 of 2026-11-25 in Guangzhou, as sla reports a due time.
    due = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    await _send_event(
        as_role, clock, ClockBreached(ticket_id=ticket_id, clock="handling", due_at=due)
    )
    records = Notifications("dispatch").records
    [params] = await session.scalars(
        select(records.c.params).where(records.c.ticket_id == ticket_id)
    )
    assert params["clock"] == "办理时限"
    assert params["due"] == "2026年11月25日 24:00"
    title, text = render(NoticeKind.OVERDUE, params)
    assert title == f"热线事项 {params['number']} 已超期"
    assert "已超过办理时限（2026年11月25日 24:00 届满）" in text


async def test_a_changed_target_must_still_fit_its_kind(unit):
    async with unit() as client:
        channel = (
            await client.post(
                f"/v1/units/{UNIT}/channels",
                json={"kind": "sms", "name": "值班手机", "target": "13800138000"},
            )
        ).json()
        landline = await client.patch(
            f"/v1/units/{UNIT}/channels/{channel['id']}", json={"target": "020-83123456"}
        )
        mobile = await client.patch(
            f"/v1/units/{UNIT}/channels/{channel['id']}", json={"target": "13900139000"}
        )
    assert landline.status_code == 422
    assert "短信填手机号码" in landline.json()["error"]["message"]
    assert mobile.json()["target"] == "+8613900139000"


async def _sink(client, path: str, kinds: list[str]) -> None:
    body = {"kind": "sink", "name": "开发收件箱", "target": "dev", "kinds": kinds}
    assert (await client.post(path, json=body)).status_code == 201


async def _params(session, kind: str) -> list[dict]:
    records = Notifications("dispatch").records
    rows = await session.execute(
        select(records.c.owner, records.c.params).where(records.c.kind == kind)
    )
    return [{"owner": owner, **params} for owner, params in rows]


async def test_a_unit_is_told_when_its_limit_is_due_soon_and_when_it_is_supervised(
    submit, agency, unit, as_role, clock, session
):
    async with unit() as client:
        await _sink(client, f"/v1/units/{UNIT}/channels", ["due_soon", "supervision_opened"])
    ticket_id = await submit()
    async with agency() as client:
        await client.post(f"/v1/tickets/{ticket_id}/dispatch", json={"unit_id": UNIT})
    due = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
    await _send_event(
        as_role, clock, ClockDueSoon(ticket_id=ticket_id, clock="handling", due_at=due)
    )
    # The verification window is not the unit's lateness: no warning of it.
    await _send_event(
        as_role, clock, ClockDueSoon(ticket_id=ticket_id, clock="verification", due_at=due)
    )
    await _send_event(
        as_role,
        clock,
        SupervisionOpened(
            ticket_id=ticket_id,
            supervision_id=7,
            unit_id=UNIT,
            reason="other",
            summary="其他情形：群众反映强烈",
            at=clock.now(),
        ),
    )
    [soon] = await _params(session, "due_soon")
    [supervised] = await _params(session, "supervision_opened")
    assert (soon["owner"], soon["clock"], soon["due"]) == (UNIT, "办理时限", "2026年12月07日 24:00")
    assert (supervised["owner"], supervised["reason"]) == (UNIT, "其他情形：群众反映强烈")


async def test_supervisors_get_the_daily_digest_by_their_channels(as_role, clock, session):
    async with as_role(Role.UNIT, UNIT) as client:
        refused = await client.post(
            "/v1/supervisors/channels",
            json={"kind": "sink", "name": "x", "target": "dev"},
        )
    assert refused.status_code == 403
    async with as_role(Role.SUPERVISOR) as client:
        await _sink(client, "/v1/supervisors/channels", [])
    await _send_event(
        as_role,
        clock,
        OverdueDigest(
            day="2026-12-08",
            overdue=4,
            new_overdue=1,
            supervisions=2,
            by_unit={UNIT: 3, "no-such-unit": 1},
        ),
    )
    [digest] = await _params(session, "overdue_digest")
    assert digest["owner"] == "supervisors" and digest["date"] == "2026年12月08日"
    assert digest["lines"].splitlines() == [
        "天河区城市管理和综合执法局：3 件",
        "no-such-unit：1 件",
    ]
    title, text = render(NoticeKind.OVERDUE_DIGEST, digest)
    assert title.startswith("2026年12月08日") and "已超期热线事项 4 件" in text


async def test_art6_a_sub_unit_keeps_its_own_channels_and_is_told_when_designated(
    submit, agency, as_role, session
):
    lead, street = "tianhe-gov", "tianhe-street-07"  # 林和街道, a sub-unit of tianhe-gov
    async with as_role(Role.SUB_UNIT, street) as client:
        await _sink(client, f"/v1/units/{street}/channels", ["ticket_assigned"])
        refused = await client.get(f"/v1/units/{lead}/channels")
    assert refused.status_code == 403
    ticket_id = await submit(category="other.general")
    async with agency() as client:
        await client.post(f"/v1/tickets/{ticket_id}/dispatch", json={"unit_id": lead})
    async with as_role(Role.UNIT, lead) as client:
        await client.post(f"/v1/tickets/{ticket_id}/accept")
        designated = await client.post(
            f"/v1/tickets/{ticket_id}/designate", json={"sub_unit_id": street}
        )
        assert designated.is_success, designated.text
    assert [p["owner"] for p in await _params(session, "ticket_assigned")] == [street]
