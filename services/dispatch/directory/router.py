"""/v1/units and /v1/routing-rules."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from dispatch.directory import service
from dispatch.directory.models import RoutingRule, Unit
from dispatch.directory.schemas import (
    DirectoryChangeRead,
    DirectoryChangesRead,
    RouteTestRead,
    RoutingImport,
    RoutingImportRead,
    RoutingRuleCreate,
    RoutingRuleRead,
    RoutingRulesRead,
    RoutingRuleUpdate,
    UnitCreate,
    UnitRead,
    UnitsRead,
    UnitUpdate,
)
from shared.auth import Principal, Role, authenticated, require
from shared.catalogue import catalogue, places
from shared.deps import ClockDep, SessionDep

router = APIRouter(tags=["directory"])
Reader = Annotated[Principal, Depends(authenticated)]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]


@router.get("/v1/units", response_model=UnitsRead)
async def list_units(
    session: SessionDep,
    _: Reader,
    kind: str | None = None,
    district: str | None = None,
    inactive: bool = False,
) -> UnitsRead:
    """The directory of handling units, sub-units, sub-centres and dual-number units; with
    ``inactive=true`` the deactivated ones too (to reactivate them)."""
    units = await service.list_units(session, kind=kind, district=district, inactive_too=inactive)
    return UnitsRead(items=[UnitRead.model_validate(u) for u in units])


@router.get("/v1/units/{unit_id}", response_model=UnitRead)
async def get_unit(unit_id: str, session: SessionDep, _: Reader) -> UnitRead:
    return UnitRead.model_validate(await service.get_unit(session, unit_id))


@router.post("/v1/units", response_model=UnitRead, status_code=201)
async def add_unit(
    body: UnitCreate, session: SessionDep, clock: ClockDep, admin: Admin
) -> UnitRead:
    """Add a unit to the directory (audited)."""
    unit = await service.add_unit(
        session, Unit(**body.model_dump()), actor=admin.subject, now=clock.now()
    )
    return UnitRead.model_validate(unit)


@router.patch("/v1/units/{unit_id}", response_model=UnitRead)
async def update_unit(
    unit_id: str, body: UnitUpdate, session: SessionDep, clock: ClockDep, admin: Admin
) -> UnitRead:
    """Rename, move or deactivate (``active: false``) a unit; audited."""
    changes = body.model_dump(exclude_unset=True)
    unit = await service.update_unit(
        session, unit_id, changes, actor=admin.subject, now=clock.now()
    )
    return UnitRead.model_validate(unit)


@router.delete("/v1/units/{unit_id}", status_code=204)
async def delete_unit(unit_id: str, session: SessionDep, clock: ClockDep, admin: Admin) -> None:
    """Delete a unit nothing refers to (409 ``unit_in_use`` otherwise: deactivate it)."""
    await service.delete_unit(session, unit_id, actor=admin.subject, now=clock.now())


@router.get("/v1/routing-rules", response_model=RoutingRulesRead)
async def list_rules(session: SessionDep, _: Reader) -> RoutingRulesRead:
    rules = await service.list_rules(session)
    return RoutingRulesRead(items=[RoutingRuleRead.model_validate(r) for r in rules])


@router.post("/v1/routing-rules", response_model=RoutingRuleRead, status_code=201)
async def add_rule(
    body: RoutingRuleCreate, session: SessionDep, clock: ClockDep, admin: Admin
) -> RoutingRuleRead:
    """Route a (category, district) pair to a unit; higher priority wins, then specificity."""
    now = clock.now()
    rule = await service.add_rule(
        session,
        RoutingRule(**body.model_dump(), source="admin", created_at=now, created_by=admin.subject),
        actor=admin.subject,
        now=now,
    )
    return RoutingRuleRead.model_validate(rule)


@router.get("/v1/routing-rules/test", response_model=RouteTestRead)
async def test_route(
    session: SessionDep,
    _: Reader,
    category: Annotated[str | None, Query(max_length=100)] = None,
    district: Annotated[str | None, Query(max_length=20)] = None,
) -> RouteTestRead:
    """The unit a call of this category and district would be routed to, and the rule that
    decides it (why), before any call comes in."""
    if category:
        catalogue().check(category)
    if district:
        places().check_district(district)
    route = await service.suggest(session, category=category, district=district)
    if route is None:
        return RouteTestRead(category=category, district=district, unit_id=None, rule=None)
    rule = await session.get(RoutingRule, route.id)
    return RouteTestRead(
        category=category,
        district=district,
        unit_id=route.unit_id,
        rule=RoutingRuleRead.model_validate(rule),
    )


@router.post("/v1/routing-rules/import", response_model=RoutingImportRead)
async def import_rules(
    body: RoutingImport, session: SessionDep, clock: ClockDep, admin: Admin
) -> RoutingImportRead:
    """Add many rules at once: one transaction (a bad row is named and nothing is added),
    and a re-run adds nothing twice."""
    now = clock.now()
    rules = [
        RoutingRule(**r.model_dump(), source="admin", created_at=now, created_by=admin.subject)
        for r in body.rules
    ]
    created, there = await service.import_rules(session, rules, actor=admin.subject, now=now)
    return RoutingImportRead(created=created, already_there=there)


@router.patch("/v1/routing-rules/{rule_id}", response_model=RoutingRuleRead)
async def update_rule(
    rule_id: int, body: RoutingRuleUpdate, session: SessionDep, clock: ClockDep, admin: Admin
) -> RoutingRuleRead:
    """Change a routing rule; audited."""
    changes = body.model_dump(exclude_unset=True)
    rule = await service.update_rule(
        session, rule_id, changes, actor=admin.subject, now=clock.now()
    )
    return RoutingRuleRead.model_validate(rule)


@router.delete("/v1/routing-rules/{rule_id}", status_code=204)
async def delete_rule(rule_id: int, session: SessionDep, clock: ClockDep, admin: Admin) -> None:
    """Delete a routing rule; audited (the trail keeps what it was)."""
    await service.delete_rule(session, rule_id, actor=admin.subject, now=clock.now())


@router.get("/v1/directory/changes", response_model=DirectoryChangesRead)
async def directory_changes(
    session: SessionDep,
    _: Annotated[Principal, Depends(require(Role.ADMIN, Role.INSPECTOR, Role.SUPERVISOR))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> DirectoryChangesRead:
    """Who changed the directory, when, and what it was before and after (Art 26)."""
    rows = await service.changes(session, limit=limit)
    return DirectoryChangesRead(items=[DirectoryChangeRead.model_validate(r) for r in rows])
