"""/v1/units and /v1/routing-rules."""

from typing import Annotated

from fastapi import APIRouter, Depends

from dispatch.directory import service
from dispatch.directory.models import RoutingRule, Unit
from dispatch.directory.schemas import (
    RoutingRuleCreate,
    RoutingRuleRead,
    RoutingRulesRead,
    UnitCreate,
    UnitRead,
    UnitsRead,
)
from shared.auth import Principal, Role, authenticated, require
from shared.deps import ClockDep, SessionDep

router = APIRouter(tags=["directory"])
Reader = Annotated[Principal, Depends(authenticated)]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]


@router.get("/v1/units", response_model=UnitsRead)
async def list_units(
    session: SessionDep, _: Reader, kind: str | None = None, district: str | None = None
) -> UnitsRead:
    """The directory of handling units, sub-units, sub-centres and dual-number units."""
    units = await service.list_units(session, kind=kind, district=district)
    return UnitsRead(items=[UnitRead.model_validate(u) for u in units])


@router.get("/v1/units/{unit_id}", response_model=UnitRead)
async def get_unit(unit_id: str, session: SessionDep, _: Reader) -> UnitRead:
    return UnitRead.model_validate(await service.get_unit(session, unit_id))


@router.post("/v1/units", response_model=UnitRead, status_code=201)
async def add_unit(body: UnitCreate, session: SessionDep, _: Admin) -> UnitRead:
    """Add a unit to the directory."""
    return UnitRead.model_validate(await service.add_unit(session, Unit(**body.model_dump())))


@router.get("/v1/routing-rules", response_model=RoutingRulesRead)
async def list_rules(session: SessionDep, _: Reader) -> RoutingRulesRead:
    rules = await service.list_rules(session)
    return RoutingRulesRead(items=[RoutingRuleRead.model_validate(r) for r in rules])


@router.post("/v1/routing-rules", response_model=RoutingRuleRead, status_code=201)
async def add_rule(
    body: RoutingRuleCreate, session: SessionDep, clock: ClockDep, admin: Admin
) -> RoutingRuleRead:
    """Route a (category, district) pair to a unit; higher priority wins, then specificity."""
    rule = await service.add_rule(
        session,
        RoutingRule(
            **body.model_dump(), source="admin", created_at=clock.now(), created_by=admin.subject
        ),
    )
    return RoutingRuleRead.model_validate(rule)
