"""Reading and editing the directory; loading the shipped Guangzhou reference data."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import any_, exists, literal, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from dispatch.directory.models import DirectoryChange, RoutingRule, Unit
from dispatch.directory.rules import Route, category_matches, suggest_route
from dispatch.tickets.models import Ticket
from shared.catalogue import catalogue, places
from shared.errors import BadInput, Conflict, DomainError, NotFound

REFERENCE = Path(__file__).parent / "reference"


async def get_unit(session: AsyncSession, unit_id: str) -> Unit:
    unit = await session.get(Unit, unit_id)
    if unit is None or not unit.active:
        raise NotFound(f"no unit {unit_id!r}", zh=f"没有单位 {unit_id}")
    return unit


async def unit_name(session: AsyncSession, unit_id: str | None) -> str | None:
    unit = await session.get(Unit, unit_id) if unit_id else None
    return unit.name if unit else None


async def unit_names(session: AsyncSession, unit_ids: list[str]) -> dict[str, str]:
    """The names of these units (an unknown id is left out)."""
    rows = await session.execute(
        select(col(Unit.id), col(Unit.name)).where(col(Unit.id).in_(unit_ids))
    )
    return {unit_id: name for unit_id, name in rows}


async def list_units(
    session: AsyncSession,
    *,
    kind: str | None = None,
    district: str | None = None,
    inactive_too: bool = False,
) -> list[Unit]:
    query = select(Unit).order_by(col(Unit.id))
    if not inactive_too:
        query = query.where(col(Unit.active))
    if kind:
        query = query.where(col(Unit.kind) == kind)
    if district:
        query = query.where(col(Unit.district) == district)
    return list((await session.scalars(query)).all())


async def list_rules(session: AsyncSession) -> list[RoutingRule]:
    query = select(RoutingRule).order_by(col(RoutingRule.priority).desc(), col(RoutingRule.id))
    return list((await session.scalars(query)).all())


# The session's reading of every active unit's rules (session.info): read once per session —
# a request, or a batch of events where it serves fifty tickets — and dropped by any change.
_ROUTES = "dispatch.routes"


async def routes(
    session: AsyncSession,
    *,
    category: str | None,
    district: str | None,
    excluding: set[str] | None = None,
) -> list[Route]:
    """The routing rules of active units (a deactivated unit is never suggested) that match a
    (category, district) pair, less those of the ``excluding`` units."""
    known: list[Route] | None = session.info.get(_ROUTES)
    if known is None:
        query = select(
            col(RoutingRule.id),
            col(RoutingRule.category),
            col(RoutingRule.district),
            col(RoutingRule.unit_id),
            col(RoutingRule.priority),
        ).join(Unit, (col(Unit.id) == col(RoutingRule.unit_id)) & col(Unit.active))
        known = [
            Route(r.id or 0, r.category, r.district, r.unit_id, r.priority)
            for r in await session.execute(query)
        ]
        session.info[_ROUTES] = known
    return [
        r
        for r in known
        if category_matches(r.category, category)
        and r.district in (None, district)
        and r.unit_id not in (excluding or ())
    ]


async def suggest(
    session: AsyncSession, *, category: str | None, district: str | None
) -> Route | None:
    """The rule that routes a (category, district) pair, if any."""
    candidates = await routes(session, category=category, district=district)
    return suggest_route(candidates, category=category, district=district)


def _audit(
    session: AsyncSession,
    *,
    actor: str,
    now: datetime,
    entity: str,
    entity_id: str,
    action: str,
    before: SQLModel | None = None,
    after: SQLModel | None = None,
) -> None:
    session.info.pop(_ROUTES, None)  # every change to units or rules passes here
    session.add(
        DirectoryChange(
            at=now,
            actor=actor,
            entity=entity,
            entity_id=entity_id,
            action=action,
            before=before.model_dump(mode="json") if before is not None else None,
            after=after.model_dump(mode="json") if after is not None else None,
        )
    )


async def _check_unit(session: AsyncSession, unit: Unit) -> None:
    """A sub-unit's parent exists; places come from the catalogue."""
    if unit.parent_id is not None:
        if unit.parent_id == unit.id:
            raise BadInput("a unit is not its own parent", zh="单位不能是自己的上级单位")
        await get_unit(session, unit.parent_id)
    if unit.district is not None:
        places().check_district(unit.district)
        if unit.street is not None:
            places().check_street(unit.district, unit.street)


async def add_unit(session: AsyncSession, unit: Unit, *, actor: str, now: datetime) -> Unit:
    """A new unit; its parent (for a sub-unit) must exist."""
    if await session.get(Unit, unit.id):
        raise BadInput(f"unit {unit.id!r} exists", zh=f"单位 {unit.id} 已存在")
    await _check_unit(session, unit)
    session.add(unit)
    _audit(
        session,
        actor=actor,
        now=now,
        entity="unit",
        entity_id=unit.id,
        action="created",
        after=unit,
    )
    await session.flush()
    return unit


async def update_unit(
    session: AsyncSession, unit_id: str, changes: dict[str, Any], *, actor: str, now: datetime
) -> Unit:
    """Rename, move or (``active`` False) deactivate a unit: it receives no new tickets and
    routing stops suggesting it; its tickets and history stay."""
    unit = await session.get(Unit, unit_id, with_for_update=True)
    if unit is None:
        raise NotFound(f"no unit {unit_id!r}", zh=f"没有单位 {unit_id}")
    before = Unit.model_validate(unit.model_dump())
    # Checked before the row changes: a look-up would flush a half-checked row first.
    await _check_unit(session, Unit.model_validate({**unit.model_dump(), **changes}))
    for field, value in changes.items():
        setattr(unit, field, value)
    action = "deactivated" if before.active and not unit.active else "updated"
    _audit(
        session,
        actor=actor,
        now=now,
        entity="unit",
        entity_id=unit_id,
        action=action,
        before=before,
        after=unit,
    )
    await session.flush()
    return unit


async def delete_unit(session: AsyncSession, unit_id: str, *, actor: str, now: datetime) -> None:
    """Delete a unit nothing refers to (no ticket, rule or sub-unit); otherwise deactivate it."""
    unit = await session.get(Unit, unit_id, with_for_update=True)
    if unit is None:
        raise NotFound(f"no unit {unit_id!r}", zh=f"没有单位 {unit_id}")
    used = await session.scalar(
        select(
            exists().where(
                or_(
                    col(Ticket.lead_unit) == unit_id,
                    col(Ticket.first_unit) == unit_id,
                    col(Ticket.sub_unit) == unit_id,
                    literal(unit_id) == any_(col(Ticket.co_handlers)),
                )
            )
            | exists().where(col(RoutingRule.unit_id) == unit_id)
            | exists().where(col(Unit.parent_id) == unit_id)
        )
    )
    if used:
        raise Conflict(
            f"unit {unit_id!r} has tickets, rules or sub-units: deactivate it instead",
            code="unit_in_use",
            zh=f"单位 {unit_id} 已有热线事项、派单规则或下属单位，不能删除，请改为停用",
        )
    _audit(
        session,
        actor=actor,
        now=now,
        entity="unit",
        entity_id=unit_id,
        action="deleted",
        before=unit,
    )
    await session.delete(unit)
    await session.flush()


async def _check_rule(session: AsyncSession, rule: RoutingRule) -> None:
    """A routing rule names a unit that exists, a category and a district of the catalogues."""
    await get_unit(session, rule.unit_id)
    if rule.category is not None:
        catalogue().check(rule.category)
    if rule.district is not None:
        places().check_district(rule.district)


async def add_rule(
    session: AsyncSession, rule: RoutingRule, *, actor: str, now: datetime
) -> RoutingRule:
    await _check_rule(session, rule)
    session.add(rule)
    await session.flush()
    _audit(
        session,
        actor=actor,
        now=now,
        entity="routing_rule",
        entity_id=str(rule.id),
        action="created",
        after=rule,
    )
    return rule


async def _rule(session: AsyncSession, rule_id: int) -> RoutingRule:
    rule = await session.get(RoutingRule, rule_id, with_for_update=True)
    if rule is None:
        raise NotFound(f"no routing rule {rule_id}", zh=f"没有派单规则 {rule_id}")
    return rule


async def update_rule(
    session: AsyncSession, rule_id: int, changes: dict[str, Any], *, actor: str, now: datetime
) -> RoutingRule:
    rule = await _rule(session, rule_id)
    before = RoutingRule.model_validate(rule.model_dump())
    # Checked before the row changes: a look-up would flush a half-checked row first.
    await _check_rule(session, RoutingRule.model_validate({**rule.model_dump(), **changes}))
    for field, value in changes.items():
        setattr(rule, field, value)
    _audit(
        session,
        actor=actor,
        now=now,
        entity="routing_rule",
        entity_id=str(rule_id),
        action="updated",
        before=before,
        after=rule,
    )
    await session.flush()
    return rule


async def delete_rule(session: AsyncSession, rule_id: int, *, actor: str, now: datetime) -> None:
    rule = await _rule(session, rule_id)
    _audit(
        session,
        actor=actor,
        now=now,
        entity="routing_rule",
        entity_id=str(rule_id),
        action="deleted",
        before=rule,
    )
    await session.delete(rule)
    await session.flush()


async def changes(session: AsyncSession, *, limit: int) -> list[DirectoryChange]:
    query = select(DirectoryChange).order_by(col(DirectoryChange.id).desc()).limit(limit)
    return list((await session.scalars(query)).all())


def _same_route(rule: RoutingRule) -> tuple[str | None, str | None, str, int]:
    return (rule.category, rule.district, rule.unit_id, rule.priority)


async def import_rules(
    session: AsyncSession, rules: list[RoutingRule], *, actor: str, now: datetime
) -> tuple[int, int]:
    """Add many rules in the caller's one transaction: all or nothing (the failing row is
    named), and a rule already there (same category, district, unit, priority) is not added
    twice, so a re-run creates nothing. Answers (created, already there)."""
    known = {_same_route(r) for r in await list_rules(session)}
    created = 0
    for row, rule in enumerate(rules, start=1):
        try:
            await _check_rule(session, rule)
        except DomainError as refused:
            raise BadInput(
                f"row {row}: {refused.message}; nothing was imported",
                zh=f"第 {row} 条：{refused.zh or refused.message}；未导入任何规则",
            ) from None
        if _same_route(rule) in known:
            continue
        known.add(_same_route(rule))
        await add_rule(session, rule, actor=actor, now=now)
        created += 1
    return created, len(rules) - created


async def load_reference(session: AsyncSession, *, now: datetime) -> tuple[int, int]:
    """Upsert the shipped units, and the shipped rules once (administrators edit them after)."""
    session.info.pop(_ROUTES, None)
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
