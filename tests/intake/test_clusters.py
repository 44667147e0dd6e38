"""Clusters: one matter at one place raised by several callers (intake.clusters)."""

from datetime import UTC, datetime, timedelta

from intake.clusters.rules import Matter, block, clusters, same_place, week_clusters

from shared.auth import Role
from tests.intake.conftest import CALL

MONDAY = datetime(2026, 11, 22, 16, tzinfo=UTC)  # Monday 23 November, 00:00 in Guangzhou


def matter(n: int, text: str, place: str | None, *, caller: str | None = None,
           street: str | None = "石牌街道", category: str = "noise.construction",
           days: float = 0) -> Matter:  # fmt: skip
    return Matter(f"t{n}", f"GZ{n}", MONDAY + timedelta(days=days), category, "天河区", street,
                  place, text, caller or f"c{n}")  # fmt: skip


SITE = "华景新城工地"
TOLD = [
    matter(1, "华景新城工地每天晚上十一点以后还在打桩，吵得睡不着觉", SITE),
    matter(2, "你好，华景新城工地晚上十一点以后还在打桩，吵得睡不着", f"{SITE}北门"),
    matter(3, "我要投诉，华景新城工地每天晚上还在打桩，吵得睡不着觉，希望尽快处理", None),
]


def test_a_place_is_the_same_when_most_of_one_recorded_place_is_in_the_others_words():
    assert same_place(TOLD[0], TOLD[1])  # "华景新城工地" within "华景新城工地北门"
    assert same_place(TOLD[0], TOLD[2])  # no place recorded: said in the words
    elsewhere = matter(4, "丽景花园工地每天晚上十一点以后还在打桩，吵得睡不着觉", "丽景花园工地")
    # 丽景花园工地: of its 5 character pairs only 工地 is in the other (1/5 < 0.6), and the
    # other's 华景新城工地 shares only 工地 of 5 with it.
    assert not same_place(TOLD[0], elsewhere)
    assert not same_place(matter(5, "路灯不亮", None), matter(6, "路灯不亮", None))


def test_three_callers_telling_one_matter_at_one_place_are_a_cluster_and_two_are_not():
    [found] = clusters(TOLD)
    assert [m.ticket_id for m in found] == ["t1", "t2", "t3"]
    assert clusters(TOLD[:2]) == []


def test_one_caller_calling_three_times_is_a_repeat_not_a_cluster():
    again = [matter(n, m.text, m.place, caller="c1") for n, m in enumerate(TOLD)]
    assert clusters(again) == []


def test_the_same_words_at_other_places_or_in_other_streets_are_no_cluster():
    places = [matter(n, TOLD[0].text.replace("华景新城", p), f"{p}工地")
              for n, p in enumerate(["丽景花园", "东湖新村", "天悦广场"])]  # fmt: skip
    assert clusters(places) == []
    names = ["石牌街道", "沙河街道", "林和街道"]
    streets = [matter(n, m.text, m.place, street=s)
               for n, (m, s) in enumerate(zip(TOLD, names, strict=True))]  # fmt: skip
    assert clusters(streets) == []
    # With no street recorded, a district's top-level category is the block.
    assert block(matter(1, "x", None, street=None)) == ("天河区", "category:noise")


def test_a_weeks_clusters_are_those_with_a_ticket_in_that_week():
    earlier = [matter(n, m.text, m.place, days=-10) for n, m in enumerate(TOLD)]
    week = (MONDAY, MONDAY + timedelta(weeks=1))
    assert week_clusters(earlier, *week) == []
    [found] = week_clusters([*earlier[:2], TOLD[2]], *week)
    assert len(found) == 3


async def test_the_agency_reads_a_weeks_clusters_with_their_tickets_and_growth(
    intake_app, agent, client_for, clock
):
    """Four callers on one site over two weeks (one calling twice), and a stranger elsewhere:
    one cluster of five tickets from four callers, three of them this week."""
    words = ["华景新城工地每天晚上十一点以后还在打桩，吵得睡不着觉",
             "你好，华景新城工地晚上十一点以后还在打桩，吵得睡不着",
             "我要投诉，华景新城工地每天晚上还在打桩，吵得睡不着觉",
             "华景新城工地晚上十一点以后还在打桩，吵得睡不着觉，希望尽快处理"]  # fmt: skip
    async with agent() as client:
        for n, text in enumerate(words):
            clock.advance(timedelta(days=2))
            caller = {**CALL["caller"], "phone": f"1381234567{n}"}
            call = {**CALL, "caller": caller, "text": text, "place": "华景新城工地"}
            assert (await client.post("/v1/tickets", json=call)).status_code == 201
        assert (await client.post("/v1/tickets", json=call)).status_code == 201  # again
        other = {**CALL, "text": "丽景花园门口路灯不亮", "place": "丽景花园",
                 "category": "city_appearance.sanitation"}  # fmt: skip
        assert (await client.post("/v1/tickets", json=other)).status_code == 201
    # The clock began Monday 23 November: calls on the 25th, 27th, 29th, 1 Dec and 1 Dec.
    async with client_for(intake_app, Role.SUPERVISOR) as supervisor:
        found = await supervisor.get("/v1/clusters", params={"week": "2026-11-30"})
        tuesday = await supervisor.get("/v1/clusters", params={"week": "2026-12-01"})
    async with client_for(intake_app, Role.SUPERVISOR, district="海珠区") as haizhu:
        none_there = await haizhu.get("/v1/clusters", params={"week": "2026-11-30"})
        other_district = await haizhu.get(
            "/v1/clusters", params={"week": "2026-11-30", "district": "天河区"}
        )
    async with client_for(intake_app, Role.UNIT, "tianhe-urban") as unit:
        refused = await unit.get("/v1/clusters", params={"week": "2026-11-30"})
    [cluster] = found.json()["items"]
    assert (cluster["callers"], len(cluster["tickets"])) == (4, 5)
    assert (cluster["this_week"], cluster["previous_week"], cluster["growing"]) == (2, 3, False)
    assert (cluster["place"], cluster["street"], cluster["district"]) == (
        "华景新城工地", "林和街道", "天河区")  # fmt: skip
    assert cluster["key"] == cluster["tickets"][0]["number"]
    assert "13812345670" not in found.text and "李雷" not in found.text
    assert tuesday.status_code == 422 and refused.status_code == 403
    assert none_there.json()["items"] == [] and other_district.status_code == 403


async def test_a_week_outside_the_years_reports_cover_is_refused(intake_app, client_for):
    async with client_for(intake_app, Role.SUPERVISOR) as supervisor:
        ancient = await supervisor.get("/v1/clusters", params={"week": "0001-01-01"})
    assert ancient.status_code == 422 and "2000" in ancient.text
