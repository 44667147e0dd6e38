"""Reading and editing the directory; loading the shipped Guangzhou reference data."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dispatch.directory.models import RoutingRule, Unit
from dispatch.directory.rules import Route, suggest_route
from shared.catalogue import catalogue, places
from shared.errors import BadInput, NotFound

REFERENCE = Path(__file__).parent / "reference"


async def get_unit(session: AsyncSession, unit_id: str) -> Unit:
    unit = await session.get(Unit, unit_id)
    if unit is None or not unit.active:
        raise NotFound(f"no unit {unit_id!r}", zh=f"没有单位 {unit_id}")
    return unit


async def list_units(
    session: AsyncSession, *, kind: str | None = None, district: str | None = None
) -> list[Unit]:
    query = select(Unit).where(col(Unit.active)).order_by(col(Unit.id))
    if kind:
        query = query.where(col(Unit.kind) == kind)
    if district:
        query = query.where(col(Unit.district) == district)
    return list((await session.scalars(query)).all())


async def list_rules(session: AsyncSession) -> list[RoutingRule]:
    query = select(RoutingRule).order_by(col(RoutingRule.priority).desc(), col(RoutingRule.id))
    return list((await session.scalars(query)).all())


async def suggest(
    session: AsyncSession, *, category: str | None, district: str | None
) -> Route | None:
    """The rule that routes a (category, district) pair, if any."""
    rules = await list_rules(session)
    routes = [Route(r.id or 0, r.category, r.district, r.unit_id, r.priority) for r in rules]
    return suggest_route(routes, category=category, district=district)


async def add_unit(session: AsyncSession, unit: Unit) -> Unit:
    """A new unit; its parent (for a sub-unit) must exist."""
    if await session.get(Unit, unit.id):
        raise BadInput(f"unit {unit.id!r} exists", zh=f"单位 {unit.id} 已存在")
    if unit.parent_id:
        await get_unit(session, unit.parent_id)
    if unit.district is not None:
        places().check_district(unit.district)
        if unit.street is not None:
            places().check_street(unit.district, unit.street)
    session.add(unit)
    await session.flush()
    return unit


async def add_rule(session: AsyncSession, rule: RoutingRule) -> RoutingRule:
    """A routing rule for a unit that exists, a category and a district of the catalogues."""
    await get_unit(session, rule.unit_id)
    if rule.category is not None:
        catalogue().check(rule.category)
    if rule.district is not None:
        places().check_district(rule.district)
    session.add(rule)
    await session.flush()
    return rule


async def load_reference(session: AsyncSession, *, now: datetime) -> tuple[int, int]:
    """Upsert the shipped units, and the shipped rules once (administrators edit them after)."""
    units = json.loads((REFERENCE / "units.json").read_text())["units"]
    for unit in units:
        values = {"street": None, "parent_id": None, "district": None, **unit}
        await session.execute(
            insert(Unit)
            .values(**values)
            .on_conflict_do_update(
                index_elements=["id"], set_={k: v for k, v in values.items() if k != "id"}
            )
        )
    added = 0
    if not (await session.scalars(select(col(RoutingRule.id)).limit(1))).first():
        rules = json.loads((REFERENCE / "routing_rules.json").read_text())["rules"]
        session.add_all(
            RoutingRule(**rule, source="reference", created_at=now, created_by="reference")
            for rule in rules
        )
        added = len(rules)
    await session.flush()
    return len(units), added
