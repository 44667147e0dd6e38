"""Reports read daily rollups (sla.dashboard.rollup): they must say what a count from the
records says, whenever the news of an act arrives."""

from datetime import UTC, date, datetime, timedelta

from sla.clocks.tasks import refresh_reports
from sla.dashboard import rollup

from shared.auth import Role

# The test clock starts Monday 2026-11-23 09:30 in Guangzhou.
PERIOD = {"from": "2026-11-01", "to": "2026-12-31"}
DONE = ("stop", "handling", "completed")


async def _reports(client) -> tuple[list[dict], dict, dict]:
    kpis = (await client.get("/v1/kpis/units", params=PERIOD)).json()["items"]
    weeks = (await client.get("/v1/dashboard/volume", params=PERIOD)).json()["groups"]
    units = (await client.get("/v1/dashboard/volume", params={**PERIOD, "by": "unit"})).json()
    return kpis, weeks, units["groups"]


def test_stale_days_are_recounted_in_runs_of_consecutive_days():
    days = [date(2026, 12, 3), date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 9)]
    assert rollup.runs_of_days([*days, date(2026, 12, 2)]) == [
        (date(2026, 12, 1), date(2026, 12, 3)),
        (date(2026, 12, 9), date(2026, 12, 9)),
    ]
    assert rollup.runs_of_days([]) == []


async def test_art17_23_24_a_report_read_before_late_news_counts_it_once_it_arrives(
    dispatched, step, sla_app, client_for, clock
):
    """Both tickets were breached by the scan and a report was read; then the news that T1
    was fed back at 23:59 on its due day arrives: the report read next counts it on time."""
    await dispatched("T1")
    await dispatched("T2")
    due = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)  # Monday 7 Dec 24:00 in Guangzhou
    clock.advance(due - clock.now() + timedelta(minutes=30))
    async with client_for(sla_app, Role.ADMIN) as admin:
        await admin.post("/v1/scan")
    async with client_for(sla_app, Role.SUPERVISOR) as client:
        [before], weeks_before, _ = await _reports(client)
        await step(
            "T1",
            "feedback_submitted",
            due - timedelta(minutes=1),
            DONE,
        )
        [after], weeks_after, _ = await _reports(client)
    assert (before["overdue"], before["supervisions"], before["closed"]) == (2, 2, 0)
    assert weeks_before == [{"key": "2026-11-23", "received": 2, "late": 2}]
    assert (after["closed"], after["closed_on_time"], after["overdue"]) == (1, 1, 1)
    assert after["supervisions"] == 1  # T1's supervision withdrawn, T2's stays
    assert weeks_after == [{"key": "2026-11-23", "received": 2, "late": 1}]


async def test_art15_24_rollups_read_step_by_step_equal_a_count_of_the_records(
    dispatched, step, sla_app, client_for, clock, session
):
    """Reports read after every step (each recounting only the days the step touched) end
    where one count of every day from the records ends; a ticket returned and re-dispatched
    is received by each unit once, and by the city once."""
    await dispatched("T1")
    await dispatched("T2")
    now = clock.now()
    seen = []
    steps = [
        ("T1", "accepted", now + timedelta(hours=2), (), {"actor_unit_id": "tianhe-urban"}),
        ("T2", "return_requested", now + timedelta(hours=3), (), {"actor_unit_id": "tianhe-urban"}),
        (
            "T2", "return_approve", now + timedelta(days=1), (),
            {"details": {"returning_unit": "tianhe-urban"}},
        ),
        (
            "T2", "dispatched", now + timedelta(days=1, hours=1), (("restart", "handling"),),
            {"unit_id": "haizhu-urban"},
        ),
        (
            "T2", "accepted", now + timedelta(days=1, hours=4), (),
            {"unit_id": "haizhu-urban", "actor_unit_id": "haizhu-urban"},
        ),
        ("T1", "feedback_submitted", now + timedelta(days=3), (DONE,), {}),
        ("T1", "evaluated", now + timedelta(days=4), (), {"details": {"rating": "unsatisfied"}}),
        ("T1", "sent_back_for_rehandling", now + timedelta(days=4), (("start", "rehandling"),), {}),
    ]  # fmt: skip
    async with client_for(sla_app, Role.SUPERVISOR) as client:
        for ticket_id, action, at, changes, options in steps:
            await step(ticket_id, action, at, *changes, **options)
            seen.append(await _reports(client))
        await rollup.recount(session, date(2026, 11, 1), date(2026, 12, 31))
        counted = await _reports(client)
    assert seen[-1] == counted
    kpis, weeks, units = counted
    tianhe = next(k for k in kpis if k["unit"] == "tianhe-urban")
    haizhu = next(k for k in kpis if k["unit"] == "haizhu-urban")
    assert (tianhe["received"], tianhe["return_applications"], tianhe["returns_upheld"]) == (
        2,
        1,
        1,
    )
    assert (tianhe["closed"], tianhe["rated"], tianhe["satisfaction_rate"]) == (1, 1, 0.0)
    assert (tianhe["rehandled"], tianhe["response_hours"]) == (1, 2.0)
    assert (haizhu["received"], haizhu["response_hours"]) == (1, 3.0)
    assert weeks == [{"key": "2026-11-23", "received": 2, "late": 0}]
    assert units == [
        {"key": "tianhe-urban", "received": 2, "late": 0},
        {"key": "haizhu-urban", "received": 1, "late": 0},
    ]


async def test_the_recount_job_counts_every_changed_day_and_leaves_none_stale(dispatched, sla_app):
    await dispatched("T1")  # received, and due, on days of their own
    assert await refresh_reports(sla_app.state) >= 2
    assert await refresh_reports(sla_app.state) == 0


async def test_the_resolution_rate_counts_what_callers_say_and_the_agency_judges_apart(
    dispatched, step, sla_app, client_for, clock
):
    """Four tickets rated: solved, partly, not solved, and one whose caller did not say; the
    agency judged two of them solved and one not when approving the feedback."""
    answers = {"T1": "solved", "T2": "partly_solved", "T3": "not_solved", "T4": "no_answer"}
    judged = {"T1": "solved", "T2": "solved", "T3": "not_solved"}  # T4: not judged
    later = clock.now() + timedelta(days=2)
    for ticket_id, resolution in answers.items():
        await dispatched(ticket_id)
        await step(ticket_id, "feedback_submitted", later, DONE)
        approved = (
            {"details": {"resolution_judged": judged[ticket_id]}} if ticket_id in judged else {}
        )
        await step(ticket_id, "feedback_approved", later, **approved)
        details = {"rating": "satisfied", "resolution": resolution}
        await step(ticket_id, "evaluated", later + timedelta(hours=1), details=details)
    async with client_for(sla_app, Role.SUPERVISOR) as client:
        [kpis], _, _ = await _reports(client)
    assert (kpis["rated"], kpis["resolution_answered"]) == (4, 3)  # "no answer" is not asked
    assert kpis["resolution_rate"] == round(1 / 3, 4)
    assert kpis["partly_solved_rate"] == round(1 / 3, 4)
    assert (kpis["judged"], kpis["judged_resolution_rate"]) == (3, round(2 / 3, 4))


async def test_the_response_rate_counts_contacts_by_their_time_and_leaves_out_returned_runs(
    dispatched, step, sla_app, client_for, clock
):
    """Three tickets sent to the unit on Monday, each with a working day to contact the
    caller (due Tuesday 24:00): one contacted Tuesday, one on Thursday, one returned."""
    monday = clock.now()
    for ticket_id in ("T1", "T2", "T3"):
        await dispatched(ticket_id)
        await step(ticket_id, "dispatched", monday, ("restart", "contact"))
    await step("T1", "contacted", monday + timedelta(days=1), ("stop", "contact", "completed"))
    await step("T2", "contacted", monday + timedelta(days=3), ("stop", "contact", "completed"))
    await step("T3", "return_approve", monday + timedelta(days=1), ("stop", "contact", "returned"),
               details={"returning_unit": "tianhe-urban"})  # fmt: skip
    async with client_for(sla_app, Role.SUPERVISOR) as client:
        [kpis], _, _ = await _reports(client)
    assert (kpis["to_contact"], kpis["response_rate"]) == (2, 0.5)


def test_a_trend_is_cut_into_weeks_from_monday_or_calendar_months_within_the_period():
    from sla.dashboard.service import periods

    assert periods("week", date(2026, 11, 25), date(2026, 12, 8)) == [
        (date(2026, 11, 25), date(2026, 11, 29)),  # Wednesday to Sunday
        (date(2026, 11, 30), date(2026, 12, 6)),
        (date(2026, 12, 7), date(2026, 12, 8)),
    ]
    assert periods("month", date(2026, 11, 15), date(2027, 1, 10)) == [
        (date(2026, 11, 15), date(2026, 11, 30)),
        (date(2026, 12, 1), date(2026, 12, 31)),
        (date(2027, 1, 1), date(2027, 1, 10)),
    ]


async def test_the_kpis_by_district_and_a_units_months(
    dispatched, step, sla_app, client_for, clock
):
    await dispatched("T1")  # 天河区, Monday 23 November
    # tianhe-urban's too, in another district
    await step("T2", "dispatched", clock.now(), ("restart", "handling"), district="海珠区")
    await step("T1", "feedback_submitted", clock.now() + timedelta(days=1), DONE)
    clock.advance(datetime(2026, 12, 1, 2, 0, tzinfo=UTC) - clock.now())
    await dispatched("T3")  # 天河区, 1 December
    period = {"from": "2026-11-01", "to": "2026-12-31"}
    async with client_for(sla_app, Role.SUPERVISOR) as client:
        by_district = (
            await client.get("/v1/kpis/breakdown", params={**period, "by": "district"})
        ).json()
        city = (await client.get("/v1/kpis/breakdown", params={**period, "by": "all"})).json()
        kinds = await client.get("/v1/kpis/breakdown", params={**period, "by": "category"})
        months = (
            await client.get(
                "/v1/kpis/trend", params={**period, "by": "month", "unit": "tianhe-urban"}
            )
        ).json()
    async with client_for(sla_app, Role.UNIT, "tianhe-urban") as unit:
        refused = await unit.get("/v1/kpis/breakdown", params={**period, "by": "district"})
    groups = {g["key"]: g for g in by_district["items"]}
    assert (groups["天河区"]["received"], groups["天河区"]["closed"]) == (2, 1)
    assert groups["天河区"]["on_time_rate"] == 1.0
    assert (groups["海珠区"]["received"], groups["海珠区"]["on_time_rate"]) == (1, None)
    [whole] = city["items"]
    [(kind, count, district)] = [
        (g["key"], g["received"], g["district"]) for g in kinds.json()["items"]
    ]
    assert (kind, count, district) == ("noise.construction", 3, None)
    assert (whole["key"], whole["received"], whole["closed"]) == (None, 3, 1)
    assert [(m["key"], m["received"], m["closed"]) for m in months["items"]] == [
        ("2026-11-01", 2, 1),
        ("2026-12-01", 1, 0),
    ]
    assert months["items"][0]["unit"] == "tianhe-urban"
    assert refused.status_code == 403


async def test_the_kpis_by_street_keep_each_street_within_its_district(
    step, sla_app, client_for, clock
):
    now = clock.now()
    await step("T1", "dispatched", now, ("restart", "handling"), street="石牌街道")
    await step("T2", "dispatched", now, ("restart", "handling"), street="石牌街道")
    await step("T3", "dispatched", now, ("restart", "handling"), street="沙河街道")
    await step("T4", "dispatched", now, ("restart", "handling"))  # no street recorded
    await step("T5", "dispatched", now, ("restart", "handling"), district="海珠区",
               street="江南中街道")  # fmt: skip
    await step("T1", "feedback_submitted", now + timedelta(days=1), DONE)
    period = {"from": "2026-11-01", "to": "2026-11-30", "by": "street"}
    async with client_for(sla_app, Role.SUPERVISOR) as client:
        streets = (await client.get("/v1/kpis/breakdown", params=period)).json()
        haizhu = await client.get("/v1/kpis/breakdown", params={**period, "district": "海珠区"})
    rows = {(g["district"], g["key"]): (g["received"], g["closed"]) for g in streets["items"]}
    assert rows == {
        ("天河区", "石牌街道"): (2, 1),
        ("天河区", "沙河街道"): (1, 0),
        ("天河区", None): (1, 0),
        ("海珠区", "江南中街道"): (1, 0),
    }
    assert [g["key"] for g in haizhu.json()["items"]] == ["江南中街道"]


async def test_an_urgent_categorys_contact_limit_in_hours_is_judged_by_the_hour(
    step, sla_app, client_for, clock
):
    """The city marks construction noise urgent: contact within 2 hours, round the clock.
    Monday 09:30 in Guangzhou, two tickets: one contacted at 11:00 (on time), one at 13:00 —
    the same working day, yet late, breached by the scan at 11:30 and supervised."""
    async with client_for(sla_app, Role.ADMIN) as admin:
        limit = await admin.post("/v1/time-limits", json={
            "clock_kind": "contact", "category": "noise.construction", "hours": 2,
            "reason": "紧急类诉求2小时内联系来电人"})  # fmt: skip
        monday = clock.now()
        for ticket_id in ("T1", "T2"):
            await step(ticket_id, "dispatched", monday, ("restart", "handling"),
                       ("restart", "contact"))  # fmt: skip
        running = (await admin.get("/v1/tickets/T1/clocks")).json()["items"]
        await step("T1", "contacted", monday + timedelta(hours=1.5),
                   ("stop", "contact", "completed"))  # fmt: skip
        clock.advance(timedelta(hours=2, minutes=1))
        breached = (await admin.post("/v1/scan")).json()["breached"]
        await step("T2", "contacted", monday + timedelta(hours=3.5),
                   ("stop", "contact", "completed"))  # fmt: skip
        late = (await admin.get("/v1/tickets/T2/clocks")).json()["items"]
        supervisions = (await admin.get("/v1/supervisions")).json()["items"]
    async with client_for(sla_app, Role.SUPERVISOR) as client:
        [kpis], _, _ = await _reports(client)
    assert limit.status_code == 201 and limit.json()["hours"] == 2
    contact = next(c for c in running if c["kind"] == "contact")
    assert (contact["hours"], contact["due_at"]) == (2, "2026-11-23T03:30:00Z")
    assert breached == 1 and [s["ticket_id"] for s in supervisions] == ["T2"]
    assert next(c for c in late if c["kind"] == "contact")["working_days_late"] == 1
    assert (kpis["to_contact"], kpis["response_rate"]) == (2, 0.5)
