"""Overdue and due-soon dashboards, supervision records and unit KPIs (Art 9, 23, 24)."""

from datetime import timedelta

import pytest

from shared.auth import Role


@pytest.fixture
async def three_tickets(dispatched, step, clock):
    """T1 and T2 with tianhe-urban, T3 with haizhu-urban, all received Monday 23 Nov."""
    await dispatched("T1")
    await dispatched("T2", ticket_type="consultation")
    now = clock.now()
    await step("T3", "dispatched", now, ("restart", "handling"), unit_id="haizhu-urban")


async def test_due_soon_and_overdue_move_with_the_clock(three_tickets, sla_app, client_for, clock):
    async with client_for(sla_app, Role.SUPERVISOR) as client:
        soon = (await client.get("/v1/dashboard/due-soon")).json()
        clock.advance(timedelta(days=2, hours=16))  # Thursday 26 Nov 01:30 in Guangzhou
        overdue = (await client.get("/v1/dashboard/overdue", params={"group_by": "unit"})).json()
        by_type = (await client.get("/v1/dashboard/overdue", params={"group_by": "type"})).json()
    # Monday: the consultation is due Wednesday, beyond "today or the next working day".
    assert soon["total"] == 0
    assert overdue["total"] == 1
    assert overdue["groups"] == [{"key": "tianhe-urban", "count": 1}]
    item = overdue["items"][0]
    assert (item["ticket_id"], item["clock"], item["working_days_late"]) == ("T2", "handling", 1)
    assert item["number"] == f"GZ261123{sum(map(ord, 'T2')):06d}"
    assert by_type["groups"] == [{"key": "consultation", "count": 1}]
    assert not any(key in str(overdue) for key in ("caller", "phone", "name", "address"))


async def test_due_soon_shows_today_and_the_next_working_day(
    three_tickets, sla_app, client_for, clock
):
    clock.advance(timedelta(days=1))  # Tuesday: the consultation is due Wednesday
    async with client_for(sla_app, Role.SUPERVISOR) as client:
        soon = (await client.get("/v1/dashboard/due-soon", params={"group_by": "type"})).json()
    assert soon["groups"] == [{"key": "consultation", "count": 1}]


async def test_a_unit_sees_only_its_own_dashboard(three_tickets, sla_app, client_for, clock):
    clock.advance(timedelta(days=30))
    async with client_for(sla_app, Role.UNIT, "haizhu-urban") as client:
        own = (await client.get("/v1/dashboard/overdue")).json()
        other = await client.get("/v1/dashboard/overdue", params={"unit": "tianhe-urban"})
    assert [g["key"] for g in own["groups"]] == ["haizhu-urban"]
    assert other.status_code == 403


async def test_art23_supervision_opened_answered_and_closed(three_tickets, sla_app, client_for):
    async with client_for(sla_app, Role.DISPATCHER) as agency:
        opened = (
            await agency.post(
                "/v1/supervisions",
                json={
                    "ticket_id": "T1",
                    "unit_id": "tianhe-urban",
                    "reason": "long_running",
                    "method": "meeting",
                    "note": "召开协调会",
                },
            )
        ).json()
    async with client_for(sla_app, Role.UNIT, "haizhu-urban") as other:
        foreign = await other.post(
            f"/v1/supervisions/{opened['id']}/response", json={"response": "x"}
        )
    async with client_for(sla_app, Role.UNIT, "tianhe-urban") as unit:
        answered = (
            await unit.post(
                f"/v1/supervisions/{opened['id']}/response", json={"response": "已制定整改计划"}
            )
        ).json()
        listed = (await unit.get("/v1/supervisions")).json()["items"]
    async with client_for(sla_app, Role.SUPERVISOR) as supervisor:
        closed = (
            await supervisor.post(
                f"/v1/supervisions/{opened['id']}/close", json={"outcome": "已落实"}
            )
        ).json()
        twice = await supervisor.post(
            f"/v1/supervisions/{opened['id']}/close", json={"outcome": "x"}
        )
    assert foreign.status_code == 403
    assert answered["response"] == "已制定整改计划"
    assert [s["id"] for s in listed] == [opened["id"]]
    assert closed["outcome"] == "已落实"
    assert twice.json()["error"]["code"] == "supervision_closed"


async def test_kpis_count_from_the_steps_and_clocks(dispatched, step, sla_app, client_for, clock):
    await dispatched("T1")
    await dispatched("T2")
    now = clock.now()
    await step("T1", "accepted", now + timedelta(hours=2), actor_unit_id="tianhe-urban")
    await step("T2", "return_requested", now, actor_unit_id="tianhe-urban")
    await step("T2", "return_reject", now, details={"returning_unit": "tianhe-urban"})
    await step(
        "T1", "feedback_submitted", now + timedelta(days=3), ("stop", "handling", "completed")
    )
    await step(
        "T1", "evaluated", now + timedelta(days=4), details={"rating": "basically_satisfied"}
    )
    clock.advance(timedelta(days=20))
    await step("T2", "feedback_submitted", clock.now(), ("stop", "handling", "completed"))
    async with client_for(sla_app, Role.SUPERVISOR) as client:
        kpis = (
            await client.get(
                "/v1/kpis",
                params={"unit": "tianhe-urban", "from": "2026-11-01", "to": "2026-12-31"},
            )
        ).json()
        backwards = await client.get(
            "/v1/kpis", params={"unit": "tianhe-urban", "from": "2026-12-01", "to": "2026-11-01"}
        )
    assert kpis["received"] == 2 and kpis["closed"] == 2
    assert kpis["closed_on_time"] == 1 and kpis["on_time_rate"] == 0.5
    assert kpis["overdue"] == 1
    assert kpis["working_days_late"] == 5  # 7 Dec due; closed Sunday 13 Dec: 8–11, 14 Dec
    assert (kpis["return_applications"], kpis["returns_upheld"]) == (1, 0)
    assert kpis["satisfaction_rate"] == 1.0 and kpis["rated"] == 1
    assert kpis["response_hours"] == 2.0
    assert backwards.status_code == 422


async def test_art24_an_approved_return_is_not_a_closure(
    dispatched, step, sla_app, client_for, clock
):
    """A unit cannot raise its on-time rate by returning tickets (Art 15(1), 24)."""
    from dispatch.workflow import rules

    await dispatched("T1")
    now = clock.now()
    await step("T1", "return_requested", now, actor_unit_id="tianhe-urban")
    approved = rules.decide_return(
        rules.Ticket(status=rules.Status.RETURN_REQUESTED, lead_unit="tianhe-urban"),
        decision=rules.ReturnDecision.APPROVE,
    )
    changes = [
        (c.action.value, c.clock.value, c.stop_kind.value)
        if c.stop_kind
        else (c.action.value, c.clock.value)
        for c in approved.clocks
    ]
    await step("T1", "return_approve", now, *changes, details={"returning_unit": "tianhe-urban"})
    async with client_for(sla_app, Role.SUPERVISOR) as client:
        kpis = (
            await client.get(
                "/v1/kpis",
                params={"unit": "tianhe-urban", "from": "2026-11-01", "to": "2026-12-31"},
            )
        ).json()
    assert (kpis["received"], kpis["returns_upheld"]) == (1, 1)
    assert (kpis["closed"], kpis["closed_on_time"], kpis["on_time_rate"]) == (0, 0, None)


async def test_art23_26_an_inspector_reads_what_stays_unhandled_after_supervision(
    dispatched, step, sla_app, client_for, clock
):
    await dispatched("T1")
    await dispatched("T2")
    clock.advance(timedelta(days=20))  # both overdue: supervised by the scan
    async with client_for(sla_app, Role.ADMIN) as admin:
        await admin.post("/v1/scan")
    await step("T2", "feedback_submitted", clock.now(), ("stop", "handling", "completed"))
    async with client_for(sla_app, Role.INSPECTOR) as inspector:
        unhandled = (await inspector.get("/v1/supervisions", params={"unhandled": True})).json()[
            "items"
        ]
        everything = (await inspector.get("/v1/supervisions")).json()["items"]
        refused = await inspector.post(
            "/v1/supervisions",
            json={
                "ticket_id": "T1",
                "unit_id": "tianhe-urban",
                "reason": "other",
                "method": "phone",
                "note": "督查",
            },
        )
    assert [s["ticket_id"] for s in unhandled] == ["T1"]
    assert {s["ticket_id"] for s in everything} == {"T1", "T2"}
    assert refused.status_code == 403  # inspectors read; the agency supervises


async def test_art21_24_a_legal_procedure_pause_is_no_closure_the_final_feedback_is(
    dispatched, step, sla_app, client_for, clock
):
    """T1 pauses in time and feeds back within the 3 days; T2 pauses after its period had
    passed: that lateness stays counted (docs/kpis.md)."""
    await dispatched("T1")
    await dispatched("T2")
    paused = (("stop", "handling", "paused"), ("start", "progress_report"))
    ended = (("stop", "progress_report", "completed"), ("start", "final_feedback"))
    await step("T1", "legal_procedure_awaited", clock.now(), *paused)
    clock.advance(timedelta(days=20))  # 13 Dec: T2's period (due 7 Dec) has passed
    await step("T2", "legal_procedure_awaited", clock.now(), *paused)
    for ticket in ("T1", "T2"):
        await step(ticket, "legal_procedure_ended", clock.now(), *ended)
        await step(
            ticket, "feedback_submitted", clock.now(), ("stop", "final_feedback", "completed")
        )
    async with client_for(sla_app, Role.SUPERVISOR) as client:
        kpis = (
            await client.get(
                "/v1/kpis",
                params={"unit": "tianhe-urban", "from": "2026-11-01", "to": "2026-12-31"},
            )
        ).json()
    assert (kpis["received"], kpis["closed"], kpis["closed_on_time"]) == (2, 2, 2)
    assert (kpis["overdue"], kpis["working_days_late"]) == (1, 5)  # T2: 8–11 and 14 Dec


async def test_art21_the_guidance_department_supervises_the_matters_it_oversees(
    dispatched, step, sla_app, client_for, clock
):
    await dispatched("T1")
    await dispatched("T2")
    await step(
        "T1",
        "legal_procedure_awaited",
        clock.now(),
        ("stop", "handling", "paused"),
        ("start", "progress_report"),
        details={"procedure": "litigation", "guidance_department": "city-urban"},
    )

    def supervision(ticket_id: str, reason: str = "long_running") -> dict:
        return {
            "ticket_id": ticket_id,
            "unit_id": "tianhe-urban",
            "reason": reason,
            "method": "document",
            "note": "请按期报送诉讼进展",
        }

    async with client_for(sla_app, Role.DISPATCHER) as agency:
        await agency.post("/v1/supervisions", json=supervision("T2", "other"))
    async with client_for(sla_app, Role.GUIDANCE, "city-urban") as guidance:
        opened = await guidance.post("/v1/supervisions", json=supervision("T1"))
        late = await guidance.post("/v1/supervisions", json=supervision("T1", "late"))
        foreign = await guidance.post("/v1/supervisions", json=supervision("T2"))
        listed = (await guidance.get("/v1/supervisions")).json()["items"]
    async with client_for(sla_app, Role.GUIDANCE, "city-housing") as other:
        not_theirs = await other.post("/v1/supervisions", json=supervision("T1"))
    assert opened.status_code == 201, opened.text
    assert late.json()["error"]["code"] == "guidance_supervises_long_running"
    assert (foreign.status_code, not_theirs.status_code) == (403, 403)
    assert [s["ticket_id"] for s in listed] == ["T1"]


async def test_art5_a_district_hotline_agency_watches_and_supervises_its_own_district(
    dispatched, step, sla_app, client_for, clock
):
    await dispatched("T1")  # 天河区 (the fixture's district)
    await step("T3", "dispatched", clock.now(), ("restart", "handling"), district="海珠区")
    clock.advance(timedelta(days=30))
    async with client_for(sla_app, Role.ADMIN) as admin:
        await admin.post("/v1/scan")
        [tianhe_late] = (await admin.get("/v1/supervisions", params={"ticket_id": "T1"})).json()[
            "items"
        ]
    note = {"unit_id": "tianhe-urban", "reason": "other", "method": "phone", "note": "电话督办"}
    async with client_for(sla_app, Role.SUPERVISOR, district="海珠区") as district:
        overdue = (await district.get("/v1/dashboard/overdue")).json()
        elsewhere = await district.get("/v1/dashboard/overdue", params={"district": "天河区"})
        listed = (await district.get("/v1/supervisions")).json()["items"]
        foreign = await district.post("/v1/supervisions", json={**note, "ticket_id": "T1"})
        own = await district.post("/v1/supervisions", json={**note, "ticket_id": "T3"})
        not_closed = await district.post(
            f"/v1/supervisions/{tianhe_late['id']}/close", json={"outcome": "x"}
        )
    assert [i["ticket_id"] for i in overdue["items"]] == ["T3"]
    assert elsewhere.status_code == 403
    assert {s["ticket_id"] for s in listed} == {"T3"}
    assert foreign.status_code == 403
    assert (own.status_code, own.json()["district"]) == (201, "海珠区")
    assert not_closed.status_code == 403


async def test_art24_every_units_kpis_in_one_call_and_an_unknown_unit_is_404(
    three_tickets, sla_app, client_for
):
    period = {"from": "2026-11-01", "to": "2026-12-31"}
    async with client_for(sla_app, Role.SUPERVISOR) as client:
        every = (await client.get("/v1/kpis/units", params=period)).json()["items"]
        unknown = await client.get("/v1/kpis", params={**period, "unit": "no-such-unit"})
    async with client_for(sla_app, Role.UNIT, "haizhu-urban") as unit:
        own = (await unit.get("/v1/kpis/units", params=period)).json()["items"]
    assert {k["unit"]: k["received"] for k in every} == {"haizhu-urban": 1, "tianhe-urban": 2}
    assert unknown.status_code == 404
    assert [k["unit"] for k in own] == ["haizhu-urban"]


async def test_art23_supervisions_awaiting_the_units_answer(dispatched, sla_app, client_for):
    await dispatched("T1")
    await dispatched("T2")
    body = {"unit_id": "tianhe-urban", "reason": "other", "method": "phone", "note": "电话督办"}
    async with client_for(sla_app, Role.DISPATCHER) as agency:
        ids = [
            (await agency.post("/v1/supervisions", json={**body, "ticket_id": t})).json()["id"]
            for t in ("T1", "T2")
        ]
    async with client_for(sla_app, Role.UNIT, "tianhe-urban") as unit:
        await unit.post(f"/v1/supervisions/{ids[0]}/response", json={"response": "已整改"})
    async with client_for(sla_app, Role.DISPATCHER) as agency:
        waiting = (await agency.get("/v1/supervisions", params={"awaiting_answer": True})).json()
    assert [s["id"] for s in waiting["items"]] == [ids[1]]


async def test_a_supervision_names_its_ticket_by_number(dispatched, sla_app, client_for):
    await dispatched("T1")
    number = f"GZ261123{sum(map(ord, 'T1')):06d}"  # the number sla's fixture reports
    body = {"unit_id": "tianhe-urban", "reason": "other", "method": "phone", "note": "电话督办"}
    async with client_for(sla_app, Role.DISPATCHER) as agency:
        opened = (await agency.post("/v1/supervisions", json={**body, "ticket_id": number})).json()
        listed = (await agency.get("/v1/supervisions", params={"ticket_id": number})).json()
        unknown = await agency.post(
            "/v1/supervisions", json={**body, "ticket_id": "GZ261123999999"}
        )
    assert opened["ticket_id"] == "T1" and opened["district"] == "天河区"
    assert [s["id"] for s in listed["items"]] == [opened["id"]]
    assert listed["items"][0]["number"] == number  # lists show the number people quote
    assert unknown.status_code == 404


async def test_art24_volume_and_lateness_by_week_and_by_unit(
    three_tickets, sla_app, client_for, clock
):
    async with client_for(sla_app, Role.SUPERVISOR) as client:
        period = {"from": "2026-11-01", "to": "2026-12-31"}
        clock.advance(timedelta(days=2, hours=16))  # the consultation T2 is a day late
        async with client_for(sla_app, Role.ADMIN) as admin:
            assert (await admin.post("/v1/scan")).status_code == 200
        weeks = (await client.get("/v1/dashboard/volume", params=period)).json()
        units = (await client.get("/v1/dashboard/volume", params={**period, "by": "unit"})).json()
        later = (
            await client.get(
                "/v1/dashboard/volume", params={"from": "2026-12-01", "to": "2026-12-31"}
            )
        ).json()
        backwards = await client.get(
            "/v1/dashboard/volume", params={"from": "2026-12-01", "to": "2026-11-01"}
        )
    async with client_for(sla_app, Role.UNIT, "haizhu-urban") as unit:
        own = (await unit.get("/v1/dashboard/volume", params={**period, "by": "unit"})).json()
    # Received Monday 23 Nov: one week, three tickets, one of them late.
    assert weeks["groups"] == [{"key": "2026-11-23", "received": 3, "late": 1}]
    assert units["groups"] == [
        {"key": "tianhe-urban", "received": 2, "late": 1},
        {"key": "haizhu-urban", "received": 1, "late": 0},
    ]
    assert later["groups"] == [] and backwards.status_code == 422
    assert own["groups"] == [{"key": "haizhu-urban", "received": 1, "late": 0}]


async def test_art24_every_units_kpis_at_once_are_each_units_own(
    dispatched, step, sla_app, client_for, clock
):
    """One set-based query serves the table of all units: each row must be what the unit's
    own KPIs say, with work of several kinds mixed across two units."""
    await dispatched("T1")
    await dispatched("T2")
    now = clock.now()
    await step("H1", "dispatched", now, ("restart", "handling"), unit_id="haizhu-urban")
    await step("T1", "accepted", now + timedelta(hours=2), actor_unit_id="tianhe-urban")
    await step(
        "H1", "accepted", now + timedelta(hours=5), unit_id="haizhu-urban",
        actor_unit_id="haizhu-urban",
    )  # fmt: skip
    await step("T2", "return_requested", now, actor_unit_id="tianhe-urban")
    await step(
        "H1", "feedback_submitted", now + timedelta(days=1),
        ("stop", "handling", "completed"), unit_id="haizhu-urban",
    )  # fmt: skip
    await step(
        "H1", "evaluated", now + timedelta(days=2), unit_id="haizhu-urban",
        details={"rating": "unsatisfied"},
    )  # fmt: skip
    clock.advance(timedelta(days=20))
    await step("T1", "feedback_submitted", clock.now(), ("stop", "handling", "completed"))
    period = {"from": "2026-11-01", "to": "2026-12-31"}
    async with client_for(sla_app, Role.SUPERVISOR) as client:
        every = (await client.get("/v1/kpis/units", params=period)).json()["items"]
        own = [
            (await client.get("/v1/kpis", params={**period, "unit": unit})).json()
            for unit in ("haizhu-urban", "tianhe-urban")
        ]
    assert every == own
    haizhu, tianhe = own
    assert (haizhu["closed_on_time"], haizhu["satisfaction_rate"]) == (1, 0.0)
    assert (tianhe["closed"], tianhe["overdue"], tianhe["return_applications"]) == (1, 1, 1)
    assert (haizhu["response_hours"], tianhe["response_hours"]) == (5.0, 2.0)


async def test_a_period_at_the_edge_of_the_calendar_counts_nothing_and_fails_nothing(
    three_tickets, sla_app, client_for
):
    edges = [
        ("0001-01-01", "0001-03-24"),
        ("0001-01-01", "9999-12-31"),
        ("9999-12-31", "9999-12-31"),
    ]
    async with client_for(sla_app, Role.SUPERVISOR) as client:
        for start, end in edges:
            period = {"from": start, "to": end}
            volume = await client.get("/v1/dashboard/volume", params=period)
            kpis = await client.get("/v1/kpis/units", params=period)
            assert volume.status_code == kpis.status_code == 200, (start, end)
            whole = start == "0001-01-01" and end == "9999-12-31"
            assert (sum(g["received"] for g in volume.json()["groups"]) == 3) is whole


async def test_art5_a_district_agency_reads_the_kpis_of_its_own_districts_tickets(
    dispatched, step, sla_app, client_for, clock
):
    await dispatched("T1")  # tianhe-urban, 天河区
    now = clock.now()
    await step("H1", "dispatched", now, ("restart", "handling"), district="海珠区")  # the same unit
    haizhu = {"unit_id": "haizhu-urban", "district": "海珠区"}
    await step("H2", "dispatched", now, ("restart", "handling"), **haizhu)
    await step("H2", "accepted", now, actor_unit_id="haizhu-urban", **haizhu)
    period = {"from": "2026-11-01", "to": "2026-12-31"}
    async with client_for(sla_app, Role.SUPERVISOR) as city:
        everywhere = (await city.get("/v1/kpis/units", params=period)).json()["items"]
    async with client_for(sla_app, Role.SUPERVISOR, district="海珠区") as district:
        own = (await district.get("/v1/kpis/units", params=period)).json()["items"]
        one = (await district.get("/v1/kpis", params={**period, "unit": "tianhe-urban"})).json()
    async with client_for(sla_app, Role.SUPERVISOR, district="越秀区") as other:
        none_there = await other.get("/v1/kpis", params={**period, "unit": "tianhe-urban"})
    assert {k["unit"]: k["received"] for k in everywhere} == {"haizhu-urban": 1, "tianhe-urban": 2}
    assert {k["unit"]: k["received"] for k in own} == {"haizhu-urban": 1, "tianhe-urban": 1}
    assert one["received"] == 1  # its 海珠区 ticket, not its 天河区 one
    assert own[0]["response_hours"] == 0.0  # accepted at once: no time, not "no data"
    assert none_there.status_code == 404
