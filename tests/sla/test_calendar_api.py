"""The calendar over HTTP: loading official schedules, listing days, due times."""

import pytest

from shared.auth import Role

# A schedule shaped like the State Council's notice, for a year the package does not cover.
SCHEDULE_2027 = {
    "source": "test schedule for 2027",
    "holidays": [{"date": "2027-01-01", "name": "元旦"}]
    + [{"date": f"2027-02-{d:02d}", "name": "春节"} for d in range(5, 12)],
    "makeup_workdays": [{"date": "2027-02-20", "name": "春节"}],
}


@pytest.fixture
def sla(make_app):
    return make_app("sla")


async def _due(client, start: str, n: int) -> dict:
    response = await client.get("/v1/calendar/due", params={"from": start, "working_days": n})
    assert response.status_code == 200, response.text
    return response.json()


async def test_due_answers_date_time_and_provisional_flag(sla, client_for):
    async with client_for(sla, Role.AGENT) as client:
        due = await _due(client, "2026-09-30T16:30:00Z", 1)  # 1 October in Guangzhou
    assert due == {
        "from": "2026-09-30T16:30:00Z",
        "from_date": "2026-10-01",
        "working_days": 1,
        "due_date": "2026-10-08",
        "due_at": "2026-10-09T00:00:00+08:00",
        "provisional": False,
    }


async def test_loading_a_year_turns_provisional_deadlines_final(sla, client_for):
    async with client_for(sla, Role.ADMIN) as client:
        before = await _due(client, "2026-12-28T10:00:00+08:00", 10)
        loaded = await client.put("/v1/calendar/years/2027", json=SCHEDULE_2027)
        after = await _due(client, "2026-12-28T10:00:00+08:00", 10)
    assert (before["due_date"], before["provisional"]) == ("2027-01-11", True)
    assert loaded.status_code == 200
    assert loaded.json()["holidays"] == 8 and loaded.json()["makeup_workdays"] == 1
    assert (after["due_date"], after["provisional"]) == ("2027-01-12", False)


async def test_a_load_on_one_replica_reaches_the_others(make_app, client_for):
    first, second = make_app("sla"), make_app("sla")
    async with client_for(second, Role.ADMIN) as reader:
        assert (await _due(reader, "2026-12-31T10:00:00+08:00", 1))["due_date"] == "2027-01-01"
        async with client_for(first, Role.ADMIN) as writer:
            await writer.put("/v1/calendar/years/2027", json=SCHEDULE_2027)
        assert (await _due(reader, "2026-12-31T10:00:00+08:00", 1))["due_date"] == "2027-01-04"


async def test_a_reload_replaces_the_year(sla, client_for):
    corrected = {
        **SCHEDULE_2027,
        "holidays": [{"date": "2027-01-01", "name": "元旦"}],
        "makeup_workdays": [],
    }
    async with client_for(sla, Role.ADMIN) as client:
        await client.put("/v1/calendar/years/2027", json=SCHEDULE_2027)
        await client.put("/v1/calendar/years/2027", json=corrected)
        days = (
            await client.get("/v1/calendar/days", params={"from": "2027-02-05", "to": "2027-02-20"})
        ).json()
        years = (await client.get("/v1/calendar/years")).json()
    kinds = {d["date"]: d["kind"] for d in days["items"]}
    assert kinds["2027-02-05"] == "workday"  # no longer a holiday
    assert kinds["2027-02-20"] == "weekend"  # no longer a make-up working day
    assert [(y["year"], y["holidays"]) for y in years["loaded"]] == [(2027, 1)]
    assert years["package_years"][0] == 2004


async def test_days_show_kind_source_and_name(sla, client_for):
    async with client_for(sla, Role.SUPERVISOR) as client:
        response = await client.get(
            "/v1/calendar/days", params={"from": "2026-10-07", "to": "2026-10-10"}
        )
    assert response.json()["items"] == [
        {
            "date": "2026-10-07",
            "kind": "holiday",
            "working": False,
            "source": "package",
            "name": "国庆节",
        },
        {
            "date": "2026-10-08",
            "kind": "workday",
            "working": True,
            "source": "package",
            "name": None,
        },
        {
            "date": "2026-10-09",
            "kind": "workday",
            "working": True,
            "source": "package",
            "name": None,
        },
        {
            "date": "2026-10-10",
            "kind": "makeup_workday",
            "working": True,
            "source": "package",
            "name": "国庆节",
        },
    ]


async def test_unscheduled_days_are_marked_assumed(sla, client_for):
    async with client_for(sla, Role.AGENT) as client:
        response = await client.get(
            "/v1/calendar/days", params={"from": "2028-01-01", "to": "2028-01-01"}
        )
    assert response.json()["items"][0]["source"] == "assumed"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"holidays": [{"date": "2026-12-31", "name": "元旦"}]}, "2026-12-31"),
        ({"makeup_workdays": [{"date": "2027-01-01", "name": "元旦"}]}, "2027-01-01"),
        ({"makeup_workdays": [{"date": "2027-02-22", "name": "春节"}]}, "2027-02-22"),
        ({"holidays": [{"date": "2027-10-01", "name": " "}]}, "2027-10-01"),
        ({"holidays": [{"date": "2027-10-01", "name": "国庆节"}] * 2}, "2027-10-01"),
    ],
    ids=["outside-year", "both-kinds", "weekday-makeup", "no-name", "twice"],
)
async def test_a_bad_schedule_is_refused_naming_the_date_and_changes_nothing(
    sla, client_for, change, named
):
    async with client_for(sla, Role.ADMIN) as client:
        response = await client.put("/v1/calendar/years/2027", json={**SCHEDULE_2027, **change})
        years = (await client.get("/v1/calendar/years")).json()
    assert response.status_code == 422
    assert named in response.json()["error"]["message"]
    assert years["loaded"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-11-23T09:00:00", "working_days": 1},  # no offset
        {"from": "2026-11-23T09:00:00+08:00", "working_days": 0},
        {"from": "2026-11-23T09:00:00+08:00"},
        {"from": "yesterday", "working_days": 1},
        {"from": "2150-01-01T00:00:00+08:00", "working_days": 1},
    ],
)
async def test_bad_due_queries_are_422(sla, client_for, params):
    async with client_for(sla, Role.AGENT) as client:
        response = await client.get("/v1/calendar/due", params=params)
    assert response.status_code == 422


async def test_day_listing_limits(sla, client_for):
    async with client_for(sla, Role.AGENT) as client:
        backwards = await client.get(
            "/v1/calendar/days", params={"from": "2026-02-01", "to": "2026-01-01"}
        )
        too_long = await client.get(
            "/v1/calendar/days", params={"from": "2020-01-01", "to": "2026-01-01"}
        )
    assert backwards.status_code == too_long.status_code == 422


async def test_calendar_reads_need_a_token(sla, client_for):
    async with client_for(sla) as client:
        response = await client.get(
            "/v1/calendar/due", params={"from": "2026-11-23T09:00:00Z", "working_days": 1}
        )
    assert response.status_code == 401


async def test_the_time_left_to_a_due_time_is_told_in_working_days_and_hours(sla_app, client_for):
    # sla's test clock: Monday 23 Nov 2026, 09:30 in Guangzhou.
    dues = [
        "2026-11-26T00:00:00+08:00",  # 24:00 Wednesday: Tuesday and Wednesday left
        "2026-11-24T00:00:00+08:00",  # 24:00 today: 14.5 hours left
        "2026-11-21T00:00:00+08:00",  # 24:00 last Friday: one working day late
    ]
    async with client_for(sla_app, Role.UNIT, "tianhe-urban") as client:
        answer = (await client.get("/v1/calendar/time-left", params={"due": dues})).json()
    left = [
        (i["working_days_left"], i["hours_left"], i["working_days_late"]) for i in answer["items"]
    ]
    assert left == [(2, None, 0), (0, 14.5, 0), (0, None, 1)]


async def test_a_year_loaded_reaches_the_session_that_read_the_calendar(session, clock):
    """The calendar is checked once per session (a batch of events starts many clocks):
    loading a year drops what the session read, so what follows in it uses the new year."""
    from datetime import date

    from sla.calendar.service import CalendarCache, load_year

    from shared.workdays import YearSchedule

    cache = CalendarCache()
    before = await cache.get(session)
    await load_year(
        session,
        schedule=YearSchedule(2090, {date(2090, 1, 2): "元旦"}, {}),
        source="test",
        actor="test-admin",
        now=clock.now(),
    )
    after = await cache.get(session)
    assert (before.is_scheduled(2090), after.is_scheduled(2090)) == (False, True)
    assert not after.is_working_day(date(2090, 1, 2))
