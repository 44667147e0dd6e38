"""The directory's administration: units and routing rules updated, deactivated, deleted,
imported all-or-nothing and idempotently, every change audited (Art 26)."""

from dispatch.directory import service as directory
from dispatch.directory.models import RoutingRule, Unit
from dispatch.directory.rules import Route, suggest_route
from sqlalchemy import select, text
from sqlmodel import col

from shared.auth import Role
from shared.catalogue import catalogue, places

RULE = {
    "category": "noise.construction",
    "district": "天河区",
    "unit_id": "tianhe-eco",
    "note": "x",
}


async def test_a_deactivated_unit_is_neither_suggested_nor_dispatched_to(as_role, submit, session):
    async with as_role(Role.ADMIN) as admin:
        renamed = await admin.patch("/v1/units/tianhe-urban", json={"name": "天河区城管执法局"})
        off = await admin.patch("/v1/units/tianhe-urban", json={"active": False})
        listed = (await admin.get("/v1/units", params={"district": "天河区"})).json()["items"]
        all_of_them = (
            await admin.get("/v1/units", params={"district": "天河区", "inactive": "true"})
        ).json()["items"]
        changes = (await admin.get("/v1/directory/changes")).json()["items"]
    ticket = await submit()  # its rule names tianhe-urban
    async with as_role(Role.DISPATCHER) as agency:
        suggested = (await agency.get(f"/v1/tickets/{ticket}")).json()["suggested_unit"]
        refused = await agency.post(
            f"/v1/tickets/{ticket}/dispatch", json={"unit_id": "tianhe-urban"}
        )
    assert renamed.json()["name"] == "天河区城管执法局"
    assert off.json()["active"] is False
    assert "tianhe-urban" not in [u["id"] for u in listed]
    assert {"id": "tianhe-urban", "active": False}.items() <= next(
        u for u in all_of_them if u["id"] == "tianhe-urban"
    ).items()  # listed to be reactivated
    assert suggested != "tianhe-urban" and refused.status_code == 404
    assert [c["action"] for c in changes[:2]] == ["deactivated", "updated"]
    assert changes[0]["before"]["active"] is True and changes[0]["after"]["active"] is False
    assert changes[0]["actor"] == "test-admin"


async def test_a_unit_in_use_is_not_deleted_an_unused_one_is(as_role):
    new = {"id": "tianhe-pilot", "name": "天河区试点单位", "kind": "district_department"}
    async with as_role(Role.ADMIN) as admin:
        in_use = await admin.delete("/v1/units/tianhe-urban")
        created = await admin.post("/v1/units", json={**new, "district": "天河区"})
        nowhere = await admin.post("/v1/units", json={**new, "id": "x-pilot", "district": "天河"})
        deleted = await admin.delete("/v1/units/tianhe-pilot")
        gone = await admin.get("/v1/units/tianhe-pilot")
        changes = (await admin.get("/v1/directory/changes")).json()["items"]
    assert (in_use.status_code, in_use.json()["error"]["code"]) == (409, "unit_in_use")
    assert "请改为停用" in in_use.json()["error"]["message"]
    assert created.status_code == 201 and nowhere.status_code == 422
    assert deleted.status_code == 204 and gone.status_code == 404
    assert [(c["entity_id"], c["action"]) for c in changes[:2]] == [
        ("tianhe-pilot", "deleted"),
        ("tianhe-pilot", "created"),
    ]


async def test_routing_rules_are_updated_and_deleted_with_their_trail(as_role):
    async with as_role(Role.ADMIN) as admin:
        rule = (await admin.post("/v1/routing-rules", json=RULE)).json()
        moved = await admin.patch(f"/v1/routing-rules/{rule['id']}", json={"priority": 60})
        bad = await admin.patch(f"/v1/routing-rules/{rule['id']}", json={"district": "天河"})
        deleted = await admin.delete(f"/v1/routing-rules/{rule['id']}")
        rules = (await admin.get("/v1/routing-rules")).json()["items"]
        changes = (await admin.get("/v1/directory/changes")).json()["items"]
    assert moved.json()["priority"] == 60
    assert bad.status_code == 422
    assert deleted.status_code == 204 and rule["id"] not in [r["id"] for r in rules]
    trail = [(c["action"], (c["before"] or {}).get("priority")) for c in changes[:3]]
    assert trail == [("deleted", 60), ("updated", 10), ("created", None)]


async def test_a_routing_import_is_all_or_nothing_and_a_rerun_adds_nothing(as_role, session):
    count = "SELECT count(*) FROM dispatch.routing_rule"
    before = await session.scalar(text(count))
    good = [RULE, {**RULE, "category": "noise.commercial", "unit_id": "tianhe-amr"}]
    async with as_role(Role.ADMIN) as admin:
        broken = await admin.post(
            "/v1/routing-rules/import",
            json={"rules": [*good, {**RULE, "unit_id": "no-such-unit"}]},
        )
        after_broken = await session.scalar(text(count))
        first = await admin.post("/v1/routing-rules/import", json={"rules": good})
        again = await admin.post("/v1/routing-rules/import", json={"rules": good})
    assert broken.status_code == 422
    assert broken.json()["error"]["message"].startswith("第 3 条：")
    assert after_broken == before
    assert first.json() == {"created": 2, "already_there": 0}
    assert again.json() == {"created": 0, "already_there": 2}
    assert await session.scalar(text(count)) == before + 2


async def test_a_patch_cannot_blank_what_the_directory_needs(as_role):
    async with as_role(Role.ADMIN) as admin:
        rule = (await admin.post("/v1/routing-rules", json=RULE)).json()
        blanks = [
            await admin.patch(f"/v1/routing-rules/{rule['id']}", json={field: None})
            for field in ("unit_id", "priority", "note")
        ]
        unit_blanks = [
            await admin.patch("/v1/units/tianhe-urban", json={field: None})
            for field in ("name", "active")
        ]
        empty_parent = await admin.post(
            "/v1/units",
            json={"id": "x-unit", "name": "某单位", "kind": "sub_unit", "parent_id": ""},
        )
    assert [r.status_code for r in blanks + unit_blanks + [empty_parent]] == [422] * 6


async def test_a_patch_naming_an_unknown_unit_is_refused_and_changes_nothing(as_role):
    async with as_role(Role.ADMIN) as admin:
        rule = (await admin.post("/v1/routing-rules", json=RULE)).json()
        moved = await admin.patch(f"/v1/routing-rules/{rule['id']}", json={"unit_id": "nowhere"})
        orphan = await admin.patch("/v1/units/tianhe-street-01", json={"parent_id": "nowhere"})
        kept = (await admin.get("/v1/routing-rules")).json()["items"]
    assert (moved.status_code, orphan.status_code) == (404, 404)
    assert next(r for r in kept if r["id"] == rule["id"])["unit_id"] == "tianhe-eco"


async def test_art13_routing_reads_only_candidate_rules_and_suggests_what_all_rules_would(
    session,
):
    """The database narrows the rules to those that may match a call; for every category and
    district of the catalogues (and none) the suggestion is what the rule set as a whole
    gives (the shipped routing table, deactivated units left out)."""
    rows = await session.execute(
        select(RoutingRule)
        .join(Unit, col(Unit.id) == col(RoutingRule.unit_id))
        .where(col(Unit.active))
    )
    every_rule = [
        Route(r.id or 0, r.category, r.district, r.unit_id, r.priority) for r in rows.scalars()
    ]
    assert len(every_rule) > 100
    categories = [*catalogue().categories, None]
    districts = [*places().streets, None]
    for category in categories:
        for district in districts:
            suggested = await directory.suggest(session, category=category, district=district)
            assert suggested == suggest_route(every_rule, category=category, district=district)
