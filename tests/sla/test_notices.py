"""What sla tells dispatch so that units and supervisors are told: a limit of the unit's own
due by the end of the next working day (once per due time), a supervision opened (Art 23),
and the supervisors' daily digest (once a day, whatever the replicas)."""

from datetime import time, timedelta

from sla.clocks.tasks import send_digest
from sqlalchemy import select

from shared.auth import Role
from shared.outbox import Outbox

# The test clock starts Monday 2026-11-23 09:30 in Guangzhou; dispatched() starts handling
# (10 working days: due 2026-12-07 24:00) and verification (2: due 2026-11-25 24:00).


async def _sent(session, event_type: str) -> list[dict]:
    table = Outbox("sla").outbox
    rows = await session.execute(
        select(table.c.payload).where(table.c.event_type == event_type).order_by(table.c.seq)
    )
    return [r[0] for r in rows]


async def test_a_units_limit_is_warned_of_once_by_the_end_of_the_next_working_day(
    dispatched, sla_app, client_for, clock, session
):
    await dispatched()
    async with client_for(sla_app, Role.ADMIN) as admin:
        # Monday: verification is due Wednesday (not the unit's lateness: no warning), and
        # handling on 7 December.
        assert (await admin.post("/v1/scan")).json()["warned"] == 0
        clock.advance(timedelta(days=11))  # Friday 4 December: due by Monday 24:00
        first = (await admin.post("/v1/scan")).json()
        again = (await admin.post("/v1/scan")).json()
    assert (first["warned"], again["warned"]) == (1, 0)
    [warning] = await _sent(session, "clock.due_soon.v1")
    assert (warning["ticket_id"], warning["clock"]) == ("T1", "handling")
    assert warning["due_at"].startswith("2026-12-07T16:00:00")  # 24:00 in Guangzhou


async def test_a_moved_due_time_is_warned_of_again(dispatched, sla_app, client_for, clock, session):
    await dispatched()
    async with client_for(sla_app, Role.ADMIN) as admin:
        clock.advance(timedelta(days=11))
        await admin.post("/v1/scan")
    async with client_for(sla_app, Role.SERVICE, as_service="dispatch") as unit_side:
        extended = await unit_side.post(
            "/v1/tickets/T1/extensions",
            json={"reason": "需要多部门会商", "requested_by": "clerk"},
            headers={"Idempotency-Key": "ext-1"},
        )
    assert extended.json()["due_date"] == "2026-12-21"
    async with client_for(sla_app, Role.ADMIN) as admin:
        assert (await admin.post("/v1/scan")).json()["warned"] == 0  # not due soon now
        clock.advance(timedelta(days=14))  # Friday 18 December
        assert (await admin.post("/v1/scan")).json()["warned"] == 1
    warnings = await _sent(session, "clock.due_soon.v1")
    assert [w["due_at"][:10] for w in warnings] == ["2026-12-07", "2026-12-21"]


async def test_art23_an_opened_supervision_is_sent_to_dispatch_with_its_ground(
    dispatched, sla_app, client_for, session
):
    await dispatched()
    body = {
        "ticket_id": "T1",
        "unit_id": "tianhe-urban",
        "reason": "other",
        "method": "phone",
        "note": "群众反映强烈，请加快办理",
    }
    async with client_for(sla_app, Role.SUPERVISOR) as supervisor:
        opened = await supervisor.post("/v1/supervisions", json=body)
    assert opened.status_code == 201, opened.text
    [event] = await _sent(session, "supervision.opened.v1")
    assert (event["ticket_id"], event["unit_id"], event["reason"]) == (
        "T1",
        "tianhe-urban",
        "other",
    )
    assert event["summary"].endswith("：群众反映强烈，请加快办理")
    assert event["supervision_id"] == opened.json()["id"]


async def test_the_daily_digest_goes_once_a_day_after_its_time(
    dispatched, sla_app, client_for, clock, session
):
    await dispatched("T1")
    await dispatched("T2")
    state = sla_app.state
    state.settings = state.settings.model_copy(update={"sla_digest_at": time(8, 30)})
    clock.advance(timedelta(days=15))  # Tuesday 8 December 09:30: both handling limits passed
    async with client_for(sla_app, Role.ADMIN) as admin:
        assert (await admin.post("/v1/scan")).json()["breached"] == 4  # verification too
    assert await send_digest(state) is True
    assert await send_digest(state) is False  # the same day: already sent
    [digest] = await _sent(session, "digest.overdue.v1")
    assert digest["day"] == "2026-12-08"
    assert (digest["overdue"], digest["new_overdue"]) == (4, 4)
    assert digest["by_unit"] == {"tianhe-urban": 4}
    assert digest["supervisions"] == 2  # the scan opened one per late handling limit
    clock.advance(timedelta(hours=22, minutes=30))  # Wednesday 08:00: not yet time
    assert await send_digest(state) is False
    clock.advance(timedelta(minutes=30))
    assert await send_digest(state) is True
    assert len(await _sent(session, "digest.overdue.v1")) == 2
