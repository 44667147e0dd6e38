"""The monthly assessment (Art 24): scores from the KPIs with the city's weights, ranks with
the change against the previous month, and the tickets that cost a unit its points."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sla.assessment import rules

from shared.auth import Role

DONE = ("stop", "handling", "completed")


def test_a_score_is_the_weighted_rates_scaled_to_the_measures_present_less_deductions():
    kpis = {
        "unit": "u",
        "on_time_rate": 0.5,  # 30 × 0.5 = 15
        "satisfaction_rate": 1.0,  # 25 × 1 = 25
        "resolution_rate": None,  # nothing answered: left out (its 20 too)
        "return_rate": 0.2,  # lower is better: 10 × 0.8 = 8
        "rehandling_rate": 0.0,  # 10 × 1 = 10
        "extension_rate": 0.4,  # 5 × 0.6 = 3
        "supervisions": 2,  # 1 point each
    }
    scored = rules.score(kpis, rules.weights())
    # (15 + 25 + 8 + 10 + 3) / 80 × 100 = 76.25, less 2
    assert scored.score == 74.25 and scored.deducted == 2.0
    on_time = next(line for line in scored.lines if line.measure == "on_time_rate")
    assert (on_time.weight, on_time.earned, on_time.lost) == (37.5, 18.75, 18.75)
    assert "resolution_rate" not in {line.measure for line in scored.lines}


def test_a_unit_with_nothing_to_rate_has_no_score_and_deductions_stop_at_zero():
    w = rules.weights()
    assert rules.score({"unit": "u", "supervisions": 3}, w).score is None
    awful = {"unit": "u", "satisfaction_rate": 0.0, "supervisions": 5}
    assert rules.score(awful, w).score == 0.0


def test_equal_scores_share_a_rank_and_the_next_rank_skips():
    scores = [
        rules.Score("d", 70.0, (), 0.0),
        rules.Score("b", 80.0, (), 0.0),
        rules.Score("a", 90.0, (), 0.0),
        rules.Score("c", 80.0, (), 0.0),
        rules.Score("e", None, (), 0.0),
    ]
    assert rules.ranks(scores) == {"a": 1, "b": 2, "c": 2, "d": 4}


@pytest.mark.parametrize(
    ("month", "first", "last", "before"),
    [
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28), "2026-01"),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29), "2028-01"),
        ("2027-01", date(2027, 1, 1), date(2027, 1, 31), "2026-12"),
    ],
)
def test_months(month, first, last, before):
    assert rules.month_bounds(month) == (first, last)
    assert rules.previous_month(month) == before


async def _month_of_two_units(dispatched, step, tianhe: str, haizhu: str, at: datetime):
    """One ticket each: one fed back on time, rated satisfied and solved; the other rated
    unsatisfied and not solved."""
    good, bad = (tianhe, haizhu) if at.month == 11 else (haizhu, tianhe)
    await dispatched(tianhe)
    await step(haizhu, "dispatched", at, ("restart", "handling"), unit_id="haizhu-urban")
    unit_of = {tianhe: "tianhe-urban", haizhu: "haizhu-urban"}
    await step(good, "feedback_submitted", at + timedelta(days=1), DONE, unit_id=unit_of[good])
    await step(good, "evaluated", at + timedelta(days=2), unit_id=unit_of[good],
               details={"rating": "satisfied", "resolution": "solved"})  # fmt: skip
    await step(bad, "evaluated", at + timedelta(days=2), unit_id=unit_of[bad],
               details={"rating": "unsatisfied", "resolution": "not_solved"})  # fmt: skip


async def test_art24_the_monthly_ranking_says_who_rose_and_why_a_unit_fell(
    dispatched, step, sla_app, client_for, clock
):
    await _month_of_two_units(dispatched, step, "T1", "T2", clock.now())  # November
    clock.advance(datetime(2026, 12, 1, 2, 0, tzinfo=UTC) - clock.now())  # 1 Dec 10:00
    await _month_of_two_units(dispatched, step, "T3", "T4", clock.now())  # December
    async with client_for(sla_app, Role.SUPERVISOR) as supervisor:
        november = (await supervisor.get("/v1/rankings", params={"month": "2026-11"})).json()
        december = (await supervisor.get("/v1/rankings", params={"month": "2026-12"})).json()
        why = await supervisor.get("/v1/rankings/tianhe-urban", params={"month": "2026-12"})
        wrong = await supervisor.get("/v1/rankings", params={"month": "2026-13"})
    async with client_for(sla_app, Role.UNIT, "haizhu-urban") as unit:
        other = await unit.get("/v1/rankings/tianhe-urban", params={"month": "2026-12"})
    top = {r["unit"]: r for r in november["items"]}
    # tianhe: every measure at its best: 100. haizhu: nothing closed (on-time left out);
    # satisfaction 0 and resolution 0, no returns, re-handling or extension: 25 of 70.
    assert (top["tianhe-urban"]["score"], top["tianhe-urban"]["rank"]) == (100.0, 1)
    assert (top["haizhu-urban"]["score"], top["haizhu-urban"]["rank"]) == (35.71, 2)
    assert [(r["unit"], r["rank"], r["change"]) for r in december["items"]] == [
        ("haizhu-urban", 1, 1),
        ("tianhe-urban", 2, -1),
    ]
    assert december["previous_month"] == "2026-11"
    explained = why.json()
    assert explained["unit"]["rank"] == 2
    assert {(t["reason"], t["ticket_id"]) for t in explained["tickets"]} == {
        ("unsatisfied", "T3"),
        ("not_solved", "T3"),
    }
    lost = {line["measure"]: line["lost"] for line in explained["unit"]["lines"]}
    assert lost["satisfaction_rate"] > 0 and lost["return_rate"] == 0
    assert wrong.status_code == 422 and other.status_code == 403


async def test_art5_a_district_agency_ranks_its_own_district_only(
    dispatched, step, sla_app, client_for, clock
):
    await dispatched("T1")  # 天河区
    await step("T2", "dispatched", clock.now(), ("restart", "handling"), district="海珠区",
               unit_id="haizhu-urban")  # fmt: skip
    month = {"month": "2026-11"}
    async with client_for(sla_app, Role.SUPERVISOR, district="海珠区") as district:
        own = (await district.get("/v1/rankings", params=month)).json()
        other = await district.get("/v1/rankings", params={**month, "district": "天河区"})
    async with client_for(sla_app, Role.SUPERVISOR) as city:
        asked = (await city.get("/v1/rankings", params={**month, "district": "天河区"})).json()
    assert [r["unit"] for r in own["items"] if r["received"]] == ["haizhu-urban"]
    assert other.status_code == 403
    assert [r["unit"] for r in asked["items"] if r["received"]] == ["tianhe-urban"]
