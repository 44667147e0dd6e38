"""Clocks on the moving test clock (Art 13, 14, 15, 17, 18, 19, 20, 23)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from shared.auth import Role
from shared.outbox import Outbox

GZ = ZoneInfo("Asia/Shanghai")


async def _clocks(client, ticket_id="T1") -> dict[str, dict]:
    items = (await client.get(f"/v1/tickets/{ticket_id}/clocks")).json()["items"]
    return {c["kind"]: c for c in items if c["state"] == "running"}


async def _outbox(session, event_type, to="dispatch"):
    table = Outbox("sla").outbox
    query = (
        select(table.c.payload)
        .where(table.c.event_type == event_type, table.c.destination == to)
        .order_by(table.c.seq)
    )
    return [r[0] for r in await session.execute(query)]


async def _extend(client, key, ticket_id="T1"):
    return await client.post(
        f"/v1/tickets/{ticket_id}/extensions",
        json={"reason": "需要多部门会商", "requested_by": "clerk"},
        headers={"Idempotency-Key": key},
    )


# The test clock starts Monday 2026-11-23 09:30 in Guangzhou.


async def test_art13_14_17_clocks_start_with_the_measures_lengths(
    dispatched, sla_app, client_for, session
):
    await dispatched()
    async with client_for(sla_app, Role.DISPATCHER) as client:
        items = (await client.get("/v1/tickets/T1/clocks")).json()["items"]
    by_kind = {c["kind"]: c for c in items}
    assert by_kind["dispatch"]["state"] == "stopped"
    assert by_kind["dispatch"]["due_date"] == "2026-11-24"  # Art 13: 1 working day
    assert by_kind["verification"]["due_date"] == "2026-11-25"  # Art 14: 2
    assert by_kind["handling"]["due_date"] == "2026-12-07"  # Art 17(2): 10
    assert by_kind["handling"]["due_at"] == "2026-12-07T16:00:00Z"  # 24:00 in Guangzhou
    deadlines = await _outbox(session, "clock.deadline_changed.v1")
    assert [d["clock"] for d in deadlines] == ["dispatch", "verification", "handling"]
    # Intake is told the due time a citizen asking for progress is given: handling's only.
    told = await _outbox(session, "clock.deadline_changed.v1", to="intake")
    handling_due = datetime.fromisoformat(by_kind["handling"]["due_at"])
    assert [(d["clock"], datetime.fromisoformat(d["due_at"])) for d in told] == [
        ("handling", handling_due)
    ]


async def test_art17_consultation_is_two_working_days(dispatched, sla_app, client_for):
    await dispatched(ticket_type="consultation")
    async with client_for(sla_app, Role.DISPATCHER) as client:
        assert (await _clocks(client))["handling"]["due_date"] == "2026-11-25"


async def test_art18_two_extensions_then_refused(dispatched, sla_app, client_for):
    await dispatched()
    async with client_for(sla_app, Role.SERVICE, as_service="dispatch") as client:
        first = await _extend(client, "k1")
        again = await _extend(client, "k1")  # a retry: same answer, nothing added
        second = await _extend(client, "k2")
        third = await _extend(client, "k3")
    assert first.json()["due_date"] == "2026-12-21"  # 10 more after 7 Dec
    assert again.json() == first.json()
    assert (second.json()["due_date"], second.json()["extensions_used"]) == ("2027-01-04", 2)
    assert second.json()["provisional"]  # 1 Jan 2027 counted as a weekday: no schedule yet
    assert third.status_code == 409
    assert third.json()["error"]["code"] == "extension_limit_reached"


async def test_art18_extension_after_the_due_time_is_refused(
    dispatched, sla_app, client_for, clock
):
    await dispatched()
    clock.advance(timedelta(days=20))
    async with client_for(sla_app, Role.SERVICE, as_service="dispatch") as client:
        late = await _extend(client, "late")
    assert late.json()["error"]["code"] == "extension_after_due"


async def test_art20_rehandling_cannot_be_extended(dispatched, step, sla_app, client_for, clock):
    await dispatched()
    await step("T1", "feedback_submitted", clock.now(), ("stop", "handling", "completed"))
    await step("T1", "sent_back_for_rehandling", clock.now(), ("start", "rehandling"))
    async with client_for(sla_app, Role.SERVICE, as_service="dispatch") as client:
        refused = await _extend(client, "r1")
        running = await _clocks(client)
    assert refused.json()["error"]["code"] == "no_extension_in_rehandling"
    assert running["rehandling"]["due_date"] == "2026-12-07"
    assert running["rehandling"]["max_extensions"] == 0


async def test_art15_1_restart_closes_the_old_run_and_starts_a_new_one(
    dispatched, step, sla_app, client_for, clock
):
    await dispatched()
    clock.advance(timedelta(days=1))
    await step("T1", "dispatched", clock.now(), ("restart", "handling"), unit_id="tianhe-gov")
    async with client_for(sla_app, Role.DISPATCHER) as client:
        items = (await client.get("/v1/tickets/T1/clocks")).json()["items"]
    handling = [c for c in items if c["kind"] == "handling"]
    assert [(c["unit_id"], c["state"]) for c in handling] == [
        ("tianhe-urban", "stopped"),
        ("tianhe-gov", "running"),
    ]
    assert handling[0]["stop_kind"] == "restarted"
    assert handling[1]["due_date"] == "2026-12-08"


async def test_art19_non_compliant_feedback_resumes_without_restart(
    dispatched, step, sla_app, client_for, clock
):
    await dispatched()
    await step("T1", "feedback_submitted", clock.now(), ("stop", "handling", "completed"))
    clock.advance(timedelta(days=3))
    await step("T1", "feedback_sent_back", clock.now(), ("resume", "handling"))
    async with client_for(sla_app, Role.DISPATCHER) as client:
        items = (await client.get("/v1/tickets/T1/clocks")).json()["items"]
    handling = [c for c in items if c["kind"] == "handling"]
    assert len(handling) == 1
    assert (handling[0]["state"], handling[0]["due_date"]) == ("running", "2026-12-07")


async def test_a_redelivered_step_changes_nothing(sla_app, client_for, clock):
    from tests.sla.conftest import step_envelope

    envelope = step_envelope("T9", "submitted", clock.now(), ("start", "dispatch"))
    async with client_for(sla_app, Role.SERVICE, as_service="dispatch") as client:
        await client.post("/v1/events", json=envelope)
        assert (await client.post("/v1/events", json=envelope)).json()["status"] == "duplicate"
        assert len((await client.get("/v1/tickets/T9/clocks")).json()["items"]) == 1


async def test_a_start_while_the_clock_runs_leaves_it_as_it_was(step, sla_app, client_for, clock):
    """Art 13: a clock runs once per run; another step that would start it (a second
    submission's news, a sender's retry under a new event id) changes nothing."""
    await step("T8", "submitted", clock.now(), ("start", "dispatch"), unit_id=None)
    async with client_for(sla_app, Role.DISPATCHER) as client:
        before = (await client.get("/v1/tickets/T8/clocks")).json()["items"]
        clock.advance(timedelta(days=1))
        await step("T8", "submitted", clock.now(), ("start", "dispatch"), unit_id=None)
        after = (await client.get("/v1/tickets/T8/clocks")).json()["items"]
    assert len(before) == 1 and after == before


async def test_art23_breach_marks_once_tells_dispatch_and_opens_supervision(
    dispatched, sla_app, client_for, clock, session
):
    await dispatched()
    async with client_for(sla_app, Role.ADMIN) as client:
        assert (await client.post("/v1/scan")).json()["breached"] == 0
        clock.advance(timedelta(days=3))  # Thursday: verification (Wed 24:00) has passed
        assert (await client.post("/v1/scan")).json()["breached"] == 1
        clock.advance(timedelta(days=12))  # past 7 Dec 24:00
        assert (await client.post("/v1/scan")).json()["breached"] == 1
        assert (await client.post("/v1/scan")).json()["breached"] == 0
        supervisions = (await client.get("/v1/supervisions")).json()["items"]
    breaches = await _outbox(session, "clock.breached.v1")
    assert [b["clock"] for b in breaches] == ["verification", "handling"]
    assert [(s["reason"], s["unit_id"]) for s in supervisions] == [("late", "tianhe-urban")]


async def test_the_scan_reads_the_due_index_not_the_table(session):
    from sla.clocks.service import due_clocks
    from sqlalchemy.dialects import postgresql

    # 10,000 clocks breached long ago and still open, 10,000 due later: the scan reads neither.
    await session.execute(
        text(
            "INSERT INTO sla.clock (ticket_id, kind, state, ticket_type, started_at,"
            " working_days, due_date, due_at, provisional, max_extensions,"
            " extension_working_days, limit_rule_id, breached_at)"
            " SELECT 'B' || n, 'handling', 'running', 'complaint', now(), 10, current_date,"
            " now() + (n % 300 + 1) * interval '1 day' * (CASE WHEN n % 2 = 0 THEN -1 ELSE 1 END),"
            " false, 2, 10, 1, CASE WHEN n % 2 = 0 THEN now() END"
            " FROM generate_series(1, 20000) n"
        )
    )
    await session.execute(text("ANALYZE sla.clock"))
    # The very statement the scan runs, with its values inlined for EXPLAIN.
    statement = due_clocks(datetime.now(UTC)).compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    rows = await session.execute(text(f"EXPLAIN {statement}"))
    plan = "\n".join(r[0] for r in rows)
    assert "ix_clock_scan_due_at" in plan, plan
    assert "Seq Scan" not in plan, plan


async def test_art17_force_majeure_adjustment_is_audited(dispatched, sla_app, client_for, session):
    await dispatched()
    told = "已电话告知诉求人：受台风影响，办理期限调整至12月14日"
    async with client_for(sla_app, Role.DISPATCHER) as client:
        weekend = await client.post(
            "/v1/tickets/T1/adjustments",
            json={"due_date": "2026-12-12", "reason": "台风", "told_caller": told},
        )
        untold = await client.post(
            "/v1/tickets/T1/adjustments", json={"due_date": "2026-12-14", "reason": "台风"}
        )
        moved = await client.post(
            "/v1/tickets/T1/adjustments",
            json={"due_date": "2026-12-14", "reason": "台风停工三天", "told_caller": told},
        )
    assert (weekend.status_code, untold.status_code) == (422, 422)
    [announced] = [
        d for d in await _outbox(session, "clock.deadline_changed.v1") if d["adjustment"]
    ]
    assert announced["adjustment"] == {"reason": "台风停工三天", "told_caller": told}
    assert (moved.json()["due_date"], moved.json()["adjusted"]) == ("2026-12-14", True)
    reasons = [
        r[0]
        for r in await session.execute(
            text("SELECT reason FROM sla.clock_change WHERE action = 'adjust'")
        )
    ]
    assert reasons == ["台风停工三天"]


async def test_loading_a_year_recomputes_provisional_clocks(
    step, sla_app, client_for, clock, session
):
    late_december = datetime(2026, 12, 28, 10, tzinfo=GZ)
    await step("T2", "dispatched", late_december, ("restart", "handling"))
    schedule = {
        "source": "test",
        "holidays": [{"date": "2027-01-01", "name": "元旦"}],
        "makeup_workdays": [],
    }
    async with client_for(sla_app, Role.ADMIN) as client:
        before = (await _clocks(client, "T2"))["handling"]
        loaded = (await client.put("/v1/calendar/years/2027", json=schedule)).json()
        after = (await _clocks(client, "T2"))["handling"]
    assert (before["due_date"], before["provisional"]) == ("2027-01-11", True)
    assert (after["due_date"], after["provisional"]) == ("2027-01-12", False)
    assert loaded["deadlines_moved"] == 1
    told = await _outbox(session, "clock.deadline_changed.v1")
    assert datetime.fromisoformat(told[-1]["due_at"]) == datetime(2027, 1, 13, tzinfo=GZ)


async def test_extension_needs_an_idempotency_key(dispatched, sla_app, client_for):
    await dispatched()
    async with client_for(sla_app, Role.SERVICE, as_service="dispatch") as client:
        response = await client.post(
            "/v1/tickets/T1/extensions", json={"reason": "x", "requested_by": "y"}
        )
    assert response.status_code == 422


async def test_art21_final_feedback_is_due_three_working_days_after_the_procedure(
    dispatched, step, sla_app, client_for, clock
):
    await dispatched()
    await step(
        "T1",
        "legal_procedure_awaited",
        clock.now(),
        ("stop", "handling", "paused"),
        ("start", "progress_report"),
    )
    async with client_for(sla_app, Role.DISPATCHER) as client:
        running = await _clocks(client)
    assert set(running) == {"verification", "progress_report"}
    assert running["progress_report"]["due_date"] == "2026-12-07"  # 10 working days
    await step(
        "T1",
        "legal_procedure_ended",
        clock.now(),
        ("stop", "progress_report", "completed"),
        ("start", "final_feedback"),
    )
    async with client_for(sla_app, Role.DISPATCHER) as client:
        assert (await _clocks(client))["final_feedback"]["due_date"] == "2026-11-26"
    await step("T1", "feedback_submitted", clock.now(), ("stop", "final_feedback", "completed"))
    async with client_for(sla_app, Role.DISPATCHER) as client:
        assert "final_feedback" not in await _clocks(client)


async def test_art21_23_a_paused_handling_period_is_never_late_a_missed_report_is_supervised(
    dispatched, step, sla_app, client_for, clock
):
    await dispatched()
    await step(
        "T1",
        "legal_procedure_awaited",
        clock.now(),
        ("stop", "handling", "paused"),
        ("start", "progress_report"),
    )
    clock.advance(timedelta(days=30))  # past the handling due day and the report's
    async with client_for(sla_app, Role.ADMIN) as admin:
        await admin.post("/v1/scan")
        clocks = (await admin.get("/v1/tickets/T1/clocks")).json()["items"]
        supervisions = (await admin.get("/v1/supervisions?ticket_id=T1")).json()["items"]
    handling = next(c for c in clocks if c["kind"] == "handling")
    assert (handling["stop_kind"], handling["breached_at"]) == ("paused", None)
    assert [s["reason"] for s in supervisions] == ["long_running"]  # Art 23(3), not late


async def test_art18_an_extension_key_used_on_another_ticket_is_refused(
    dispatched, sla_app, client_for
):
    await dispatched("T1")
    await dispatched("T2")
    async with client_for(sla_app, Role.SERVICE, as_service="dispatch") as client:
        first = await client.post(
            "/v1/tickets/T1/extensions",
            json={"reason": "需协调", "requested_by": "u"},
            headers={"Idempotency-Key": "k"},
        )
        other = await client.post(
            "/v1/tickets/T2/extensions",
            json={"reason": "需协调", "requested_by": "u"},
            headers={"Idempotency-Key": "k"},
        )
        clocks = (await client.get("/v1/tickets/T2/clocks")).json()["items"]
    assert first.status_code == 200
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    handling = next(c for c in clocks if c["kind"] == "handling")
    assert handling["extensions_used"] == 0


async def test_art17_23_feedback_at_2359_whose_news_came_after_the_scan_is_on_time(
    dispatched, step, sla_app, client_for, clock, session
):
    """The scan breached the clock before the feedback event arrived; the feedback's own
    time was before the due time: breach, supervision and overdue flag are withdrawn."""
    await dispatched()  # Monday 23 Nov: handling due Monday 7 Dec 24:00
    due = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
    clock.advance(due - clock.now() + timedelta(minutes=30))  # 00:30, news not yet here
    async with client_for(sla_app, Role.ADMIN) as admin:
        await admin.post("/v1/scan")
    await step(
        "T1",
        "feedback_submitted",
        due - timedelta(minutes=1),  # the unit fed back at 23:59
        ("stop", "handling", "completed"),
        ("stop", "final_feedback", "completed"),
    )
    async with client_for(sla_app, Role.SUPERVISOR) as supervisor:
        clocks = (await supervisor.get("/v1/tickets/T1/clocks")).json()["items"]
        supervisions = (await supervisor.get("/v1/supervisions")).json()["items"]
        kpis = (
            await supervisor.get(
                "/v1/kpis",
                params={"unit": "tianhe-urban", "from": "2026-11-01", "to": "2026-12-31"},
            )
        ).json()
    handling = next(c for c in clocks if c["kind"] == "handling")
    assert handling["breached_at"] is None and handling["working_days_late"] == 0
    late = [s for s in supervisions if s["reason"] == "late"]
    assert len(late) == 1 and late[0]["withdrawn_at"] is not None  # kept, withdrawn
    assert (kpis["closed_on_time"], kpis["overdue"], kpis["supervisions"]) == (1, 0, 0)
    [withdrawn] = await _outbox(session, "clock.breach_withdrawn.v1")
    assert (withdrawn["clock"], withdrawn["ticket_id"]) == ("handling", "T1")


async def test_feedback_after_the_due_time_stays_late(
    dispatched, step, sla_app, client_for, clock, session
):
    await dispatched()
    due = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
    clock.advance(due - clock.now() + timedelta(minutes=30))
    async with client_for(sla_app, Role.ADMIN) as admin:
        await admin.post("/v1/scan")
    await step("T1", "feedback_submitted", clock.now(), ("stop", "handling", "completed"))
    async with client_for(sla_app, Role.SUPERVISOR) as supervisor:
        clocks = (await supervisor.get("/v1/tickets/T1/clocks")).json()["items"]
    handling = next(c for c in clocks if c["kind"] == "handling")
    assert handling["breached_at"] is not None and handling["working_days_late"] == 1
    assert await _outbox(session, "clock.breach_withdrawn.v1") == []


async def test_art14_the_verification_clock_stops_when_the_unit_accepts(
    dispatched, step, sla_app, client_for, clock, session
):
    await dispatched()
    await step(
        "T1",
        "accepted",
        clock.now(),
        ("stop", "verification", "completed"),
        actor_unit_id="tianhe-urban",
    )
    clock.advance(timedelta(days=3))  # past the 2-working-day window
    async with client_for(sla_app, Role.ADMIN) as admin:
        assert (await admin.post("/v1/scan")).json()["breached"] == 0
        clocks = (await admin.get("/v1/tickets/T1/clocks")).json()["items"]
    verification = next(c for c in clocks if c["kind"] == "verification")
    assert (verification["state"], verification["stop_kind"]) == ("stopped", "completed")
    assert await _outbox(session, "clock.breached.v1") == []


@pytest.mark.parametrize(
    ("kind", "start", "stop"),
    [
        ("dispatch", None, "dispatched"),  # Art 13
        ("verification", None, "accepted"),  # Art 14
        ("handling", None, "feedback_submitted"),  # Art 17
        ("rehandling", "sent_back_for_rehandling", "feedback_submitted"),  # Art 20
        ("final_feedback", "legal_procedure_ended", "feedback_submitted"),  # Art 21
        ("progress_report", "legal_procedure_awaited", "progress_reported"),  # Art 21
    ],
)
async def test_art13_to_21_every_clock_judges_by_the_acts_time_not_the_news(
    step, sla_app, client_for, clock, session, kind, start, stop
):
    """For each clock: the scan breaches it, then the news of an act done one minute before
    the due time arrives; the breach is withdrawn and the run ends on time."""
    now = clock.now()
    await step("T1", "submitted", now, ("start", "dispatch"), unit_id=None)
    if kind != "dispatch":
        await step(
            "T1",
            "dispatched",
            now,
            ("stop", "dispatch", "completed"),
            ("restart", "verification"),
            ("restart", "handling"),
        )
    if start:
        await step("T1", start, now, ("start", kind))
    async with client_for(sla_app, Role.ADMIN) as admin:
        clocks = (await admin.get("/v1/tickets/T1/clocks")).json()["items"]
        running = next(c for c in clocks if c["kind"] == kind and c["state"] == "running")
        due = datetime.fromisoformat(running["due_at"])
        clock.advance(due - clock.now() + timedelta(hours=1))
        await admin.post("/v1/scan")
        await step("T1", stop, due - timedelta(minutes=1), ("stop", kind, "completed"))
        after = (await admin.get("/v1/tickets/T1/clocks")).json()["items"]
    ended = next(c for c in after if c["id"] == running["id"])
    assert (ended["state"], ended["breached_at"], ended["working_days_late"]) == (
        "stopped",
        None,
        0,
    )
    withdrawn = await _outbox(session, "clock.breach_withdrawn.v1")
    assert [w["clock"] for w in withdrawn] == [kind]


async def test_a_tickets_clocks_are_found_by_its_number(dispatched, sla_app, client_for):
    await dispatched("T1")
    async with client_for(sla_app, Role.DISPATCHER) as client:
        by_id = (await client.get("/v1/tickets/T1/clocks")).json()
        number = f"GZ261123{sum(map(ord, 'T1')):06d}"
        by_number = (await client.get(f"/v1/tickets/{number}/clocks")).json()
    assert by_number == by_id and by_id["items"]


async def test_metrics_say_what_is_overdue_by_unit_how_far_the_scan_lags_and_the_years_ahead(
    dispatched, sla_app, client_for, clock
):
    """Issue 19: what an operator alerts on, read at each scrape."""
    from prometheus_client.parser import text_string_to_metric_families

    from tests.sla.test_calendar_api import SCHEDULE_2027

    def samples(text: str) -> dict[tuple[str, str], float]:
        return {
            (s.name, s.labels.get("unit", "")): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    await dispatched()
    async with client_for(sla_app) as anonymous:
        before = samples((await anonymous.get("/metrics")).text)
        clock.advance(timedelta(days=3, hours=2))  # verification fell due Wed 24:00
        waiting = samples((await anonymous.get("/metrics")).text)
        async with client_for(sla_app, Role.ADMIN) as admin:
            assert (await admin.post("/v1/scan")).json()["breached"] == 1
            after = samples((await anonymous.get("/metrics")).text)
            await admin.put("/v1/calendar/years/2027", json=SCHEDULE_2027)
        loaded = samples((await anonymous.get("/metrics")).text)
    assert before[("hotline_breach_scan_lag_seconds", "")] == 0
    assert ("hotline_tickets_overdue", "tianhe-urban") not in before
    assert waiting[("hotline_breach_scan_lag_seconds", "")] > 3600  # due at midnight, not scanned
    assert after[("hotline_breach_scan_lag_seconds", "")] == 0
    assert after[("hotline_tickets_overdue", "tianhe-urban")] == 1
    # The test's year is 2026, the last chinesecalendar knows: December's alert fires
    # until next year's schedule is loaded.
    assert after[("hotline_calendar_years_ahead", "")] == 0
    assert loaded[("hotline_calendar_years_ahead", "")] == 1
