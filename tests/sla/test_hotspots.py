"""Hotspots: a cell whose calls this week rise well above its own recent weeks (pure)."""

import math
from datetime import timedelta

import pytest
from sla.assessment.hotspots import (
    BASELINE_WEEKS,
    MIN_COUNT,
    binomial_tail,
    surges,
    weekly_counts,
)

from shared.auth import Role


def test_the_binomial_tail_matches_hand_computed_values():
    assert binomial_tail(5, 5, 1 / 9) == pytest.approx((1 / 9) ** 5)
    assert binomial_tail(1, 2, 0.5) == pytest.approx(0.75)
    assert binomial_tail(0, 3, 0.2) == 1.0 and binomial_tail(4, 3, 0.2) == 0.0
    # Large n stays finite where a direct product would underflow; 300 of 2,000 is about
    # 5.5 standard deviations above the mean of 222, so the tail is tiny and shrinking.
    assert 0 < binomial_tail(300, 2000, 1 / 9) < binomial_tail(280, 2000, 1 / 9) < 1e-4
    assert math.isclose(binomial_tail(2000, 2000, 0.5), 0.5**2000, rel_tol=1e-9)


def test_a_surge_above_a_cells_own_weeks_is_found_and_a_steady_or_small_one_is_not():
    steady = [10] * (BASELINE_WEEKS + 1)
    quiet_then_loud = [2, 3, 2, 3, 2, 3, 2, 3, 20]
    small = [0] * BASELINE_WEEKS + [MIN_COUNT - 1]
    new = [0] * BASELINE_WEEKS + [MIN_COUNT]  # five calls where there were none
    young = [1, 1, 30]  # too little history to judge
    found = surges(
        {
            ("noise", "天河区"): steady,
            ("water", "海珠区"): quiet_then_loud,
            ("road", "越秀区"): small,
            ("tree", "白云区"): new,
            ("dog", "番禺区"): young,
        }
    )
    assert [s.cell for s in found] == [("water", "海珠区"), ("tree", "白云区")]
    water = found[0]
    assert (water.count, water.baseline, water.previous, water.growing) == (20, 2.5, 3, True)
    # 20 of the 40 calls in nine weeks fell in the last one: Binomial(40, 1/9) ≥ 20.
    assert water.p_value == pytest.approx(binomial_tail(20, 40, 1 / 9))


def test_weeks_without_calls_count_as_zero():
    rows = [(0, "noise", "天河区", 2), (2, "noise", "天河区", 5), (1, "water", None, 1)]
    assert weekly_counts(rows, weeks=3) == {
        ("noise", "天河区"): [2, 0, 5],
        ("water", None): [0, 1, 0],
    }


async def test_a_district_whose_calls_jump_in_a_week_is_a_hotspot_with_its_tickets(
    step, sla_app, client_for, clock
):
    monday = clock.now()  # Monday 23 November
    for i in range(5):  # none in the eight weeks before
        await step(f"T{i}", "dispatched", monday + timedelta(hours=i), ("restart", "handling"))
    await step("H1", "dispatched", monday, ("restart", "handling"), district="海珠区")
    async with client_for(sla_app, Role.SUPERVISOR) as supervisor:
        found = (await supervisor.get("/v1/hotspots", params={"week": "2026-11-23"})).json()
        tuesday = await supervisor.get("/v1/hotspots", params={"week": "2026-11-24"})
    async with client_for(sla_app, Role.UNIT, "tianhe-urban") as unit:
        refused = await unit.get("/v1/hotspots", params={"week": "2026-11-23"})
    [hotspot] = found["items"]
    assert (hotspot["category"], hotspot["district"]) == ("noise.construction", "天河区")
    assert (hotspot["count"], hotspot["baseline"], hotspot["growing"]) == (5, 0.0, True)
    assert hotspot["p_value"] == pytest.approx((1 / 9) ** 5)
    assert sorted(t["ticket_id"] for t in hotspot["tickets"]) == [f"T{i}" for i in range(5)]
    assert tuesday.status_code == 422 and refused.status_code == 403
