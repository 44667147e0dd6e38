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
            ("noise", "天河区", None): steady,
            ("water", "海珠区", None): quiet_then_loud,
            ("road", "越秀区", None): small,
            ("tree", "白云区", "石井街道"): new,
            ("dog", "番禺区", None): young,
        }
    )
    assert [s.cell for s in found] == [("water", "海珠区", None), ("tree", "白云区", "石井街道")]
    water = found[0]
    assert (water.count, water.baseline, water.previous, water.growing) == (20, 2.5, 3, True)
    # 20 of the 40 calls in nine weeks fell in the last one: Binomial(40, 1/9) ≥ 20.
    assert water.p_value == pytest.approx(binomial_tail(20, 40, 1 / 9))


def test_a_streets_calls_count_for_the_street_and_for_its_district_and_empty_weeks_as_zero():
    rows = [
        (0, "noise", "天河区", "石牌街道", 2),
        (2, "noise", "天河区", "石牌街道", 5),
        (2, "noise", "天河区", None, 1),  # no street recorded: the district's alone
        (1, "water", None, None, 1),
    ]
    assert weekly_counts(rows, weeks=3) == {
        ("noise", "天河区", None): [2, 0, 6],
        ("noise", "天河区", "石牌街道"): [2, 0, 5],
        ("water", None, None): [0, 1, 0],
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
    assert (hotspot["category"], hotspot["district"], hotspot["street"]) == (
        "noise.construction",
        "天河区",
        None,
    )
    assert (hotspot["count"], hotspot["baseline"], hotspot["growing"]) == (5, 0.0, True)
    assert hotspot["units"] == ["tianhe-urban"] and hotspot["review"] is None
    assert hotspot["p_value"] == pytest.approx((1 / 9) ** 5)
    assert sorted(t["ticket_id"] for t in hotspot["tickets"]) == [f"T{i}" for i in range(5)]
    assert tuesday.status_code == 422 and refused.status_code == 403


async def test_a_street_hotspot_is_reviewed_or_supervised_once_on_its_matters_still_handled(
    step, sla_app, client_for, clock
):
    """Art 23(4): a supervisor supervises a hotspot — one supervision per matter of it whose
    handling still runs, addressed to the unit handling it; a finished one gets none."""
    monday = clock.now()  # Monday 23 November
    for i in range(6):
        unit = "tianhe-urban" if i < 4 else "tianhe-housing"
        await step(f"S{i}", "dispatched", monday + timedelta(hours=i), ("restart", "handling"),
                   street="石牌街道", unit_id=unit)  # fmt: skip
    await step("S0", "feedback_submitted", monday + timedelta(hours=8),
               ("stop", "handling", "completed"))  # fmt: skip
    cell = {"week": "2026-11-23", "category": "noise.construction", "district": "天河区"}
    street = {**cell, "street": "石牌街道"}
    async with client_for(sla_app, Role.SUPERVISOR) as supervisor:
        found = (await supervisor.get("/v1/hotspots", params={"week": "2026-11-23"})).json()
        reviewed = await supervisor.post(
            "/v1/hotspots/reviews", json={**cell, "decision": "reviewed", "note": "已核实"}
        )
        supervised = await supervisor.post(
            "/v1/hotspots/reviews", json={**street, "decision": "supervised", "note": "集中整治"}
        )
        again = await supervisor.post(
            "/v1/hotspots/reviews", json={**street, "decision": "supervised"}
        )
        elsewhere = await supervisor.post(
            "/v1/hotspots/reviews", json={**street, "street": "沙河街道", "decision": "reviewed"}
        )
        after = (await supervisor.get("/v1/hotspots", params={"week": "2026-11-23"})).json()
        opened = (await supervisor.get("/v1/supervisions", params={"limit": 50})).json()
    async with client_for(sla_app, Role.UNIT, "tianhe-urban") as unit:
        refused = await unit.post("/v1/hotspots/reviews", json={**cell, "decision": "reviewed"})
    # Six calls where there were none: the district's cell and the street's both surge.
    assert {(h["district"], h["street"]) for h in found["items"]} == {
        ("天河区", None),
        ("天河区", "石牌街道"),
    }
    assert all(h["units"] == ["tianhe-housing", "tianhe-urban"] for h in found["items"])
    assert reviewed.status_code == 201 and reviewed.json()["supervisions"] == 0
    assert supervised.status_code == 201 and supervised.json()["supervisions"] == 5
    assert again.status_code == 409 and elsewhere.status_code == 404
    assert refused.status_code == 403
    reviews = {h["street"]: h["review"] for h in after["items"]}
    assert reviews[None]["decision"] == "reviewed" and reviews[None]["note"] == "已核实"
    assert reviews["石牌街道"]["decision"] == "supervised"
    items = [s for s in opened["items"] if s["reason"] == "other"]
    assert sorted((s["ticket_id"], s["unit_id"]) for s in items) == [
        ("S1", "tianhe-urban"),
        ("S2", "tianhe-urban"),
        ("S3", "tianhe-urban"),
        ("S4", "tianhe-housing"),
        ("S5", "tianhe-housing"),
    ]
    assert all(s["note"].startswith("2026年11月23日一周热点：石牌街道") for s in items)


async def test_a_cluster_intake_found_is_supervised_by_its_tickets_once(
    step, sla_app, client_for, clock
):
    """Art 23(4): three callers on one site (intake's cluster, named by its key and tickets):
    a supervision on each still handled, once; a ticket sla does not know is a 404."""
    monday = clock.now()
    for i in range(3):
        await step(f"C{i}", "dispatched", monday + timedelta(hours=i), ("restart", "handling"))
    await step("C0", "feedback_submitted", monday + timedelta(hours=5),
               ("stop", "handling", "completed"))  # fmt: skip
    cluster = {"week": "2026-11-23", "cluster": "GZ261123000001", "district": "天河区",
               "category": "noise.construction", "tickets": ["C0", "C1", "C2"]}  # fmt: skip
    async with client_for(sla_app, Role.SUPERVISOR) as supervisor:
        unknown = await supervisor.post("/v1/hotspots/reviews", json={
            **cluster, "tickets": ["C0", "X9"], "decision": "supervised"})  # fmt: skip
        bare = await supervisor.post("/v1/hotspots/reviews", json={
            **cluster, "tickets": [], "decision": "reviewed"})  # fmt: skip
        supervised = await supervisor.post(
            "/v1/hotspots/reviews", json={**cluster, "decision": "supervised"}
        )
        again = await supervisor.post(
            "/v1/hotspots/reviews", json={**cluster, "decision": "supervised"}
        )
        listed = await supervisor.get("/v1/hotspots/reviews", params={"week": "2026-11-23"})
        opened = (await supervisor.get("/v1/supervisions")).json()["items"]
    assert (unknown.status_code, bare.status_code, again.status_code) == (404, 422, 409)
    assert supervised.status_code == 201 and supervised.json()["supervisions"] == 2
    assert sorted(s["ticket_id"] for s in opened) == ["C1", "C2"]
    assert all("多人反映同一事项（GZ261123000001等）：天河区施工噪声" in s["note"] for s in opened)
    [decision] = listed.json()["items"]
    assert (decision["cluster"], decision["decision"]) == ("GZ261123000001", "supervised")


async def test_a_week_outside_the_years_reports_cover_is_refused_not_a_server_error(
    sla_app, client_for
):
    async with client_for(sla_app, Role.SUPERVISOR) as supervisor:
        ancient = await supervisor.get("/v1/hotspots", params={"week": "0001-01-01"})
        review = await supervisor.post("/v1/hotspots/reviews", json={
            "week": "9999-12-27", "decision": "reviewed"})  # fmt: skip
    assert (ancient.status_code, review.status_code) == (422, 422)
