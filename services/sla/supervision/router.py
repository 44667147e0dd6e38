"""/v1/supervisions: opened by a breach or by the agency, answered by the unit, closed."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from shared.auth import Principal, Role, require
from shared.deps import ClockDep, SessionDep
from shared.errors import Forbidden, NotFound, RuleViolation
from sla.supervision.models import Supervision

router = APIRouter(prefix="/v1/supervisions", tags=["supervision"])
Agency = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN))]
Reader = Annotated[
    Principal, Depends(require(Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN, Role.UNIT))
]
UnitActor = Annotated[Principal, Depends(require(Role.UNIT))]


class Reason(StrEnum):
    LATE = "late"  # Art 23(1)
    NON_COMPLIANT_FEEDBACK = "non_compliant_feedback"  # Art 23(2)
    LONG_RUNNING = "long_running"  # Art 23(3)
    OTHER = "other"  # Art 23(4)


class Method(StrEnum):
    PHONE = "phone"
    ONLINE = "online"
    ON_SITE = "on_site"
    MEETING = "meeting"
    DOCUMENT = "document"


class SupervisionCreate(BaseModel):
    ticket_id: str
    unit_id: str
    reason: Reason
    method: Method
    note: str = Field(min_length=1, max_length=2000)


class SupervisionResponse(BaseModel):
    response: str = Field(min_length=1, max_length=4000)


class SupervisionClose(BaseModel):
    outcome: str = Field(min_length=1, max_length=2000)


class SupervisionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: str
    unit_id: str | None
    district: str | None
    reason: str
    method: str
    note: str | None
    opened_at: datetime
    opened_by: str
    response: str | None
    responded_at: datetime | None
    outcome: str | None
    closed_at: datetime | None


class SupervisionsRead(BaseModel):
    items: list[SupervisionRead]


@router.get("", response_model=SupervisionsRead)
async def list_supervisions(
    session: SessionDep,
    principal: Reader,
    unit: str | None = None,
    ticket_id: str | None = None,
    reason: Reason | None = None,
    open_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> SupervisionsRead:
    """Supervision records, filtered; a unit sees its own."""
    if principal.role is Role.UNIT:
        if unit not in (None, principal.unit_id):
            raise Forbidden("a unit sees only its own supervision records")
        unit = principal.unit_id
    query = select(Supervision).order_by(Supervision.opened_at.desc()).limit(limit)
    if unit:
        query = query.where(Supervision.unit_id == unit)
    if ticket_id:
        query = query.where(Supervision.ticket_id == ticket_id)
    if reason:
        query = query.where(Supervision.reason == reason.value)
    if open_only:
        query = query.where(Supervision.closed_at.is_(None))
    rows = (await session.scalars(query)).all()
    return SupervisionsRead(items=[SupervisionRead.model_validate(r) for r in rows])


@router.post("", response_model=SupervisionRead, status_code=201)
async def open_supervision(
    body: SupervisionCreate, session: SessionDep, clock: ClockDep, principal: Agency
) -> SupervisionRead:
    """Art 23: the agency supervises by phone, online, on site, by meeting or document."""
    record = Supervision(**body.model_dump(), opened_at=clock.now(), opened_by=principal.subject)
    session.add(record)
    await session.flush()
    return SupervisionRead.model_validate(record)


async def _get(session: SessionDep, supervision_id: int) -> Supervision:
    record = (
        await session.execute(
            select(Supervision).where(Supervision.id == supervision_id).with_for_update()
        )
    ).scalar_one_or_none()
    if record is None:
        raise NotFound(f"no supervision {supervision_id}")
    return record


@router.post("/{supervision_id}/response", response_model=SupervisionRead)
async def respond(
    supervision_id: int,
    body: SupervisionResponse,
    session: SessionDep,
    clock: ClockDep,
    principal: UnitActor,
) -> SupervisionRead:
    """Art 23: the unit answers the supervision."""
    record = await _get(session, supervision_id)
    if record.unit_id != principal.unit_id:
        raise Forbidden("this supervision is addressed to another unit")
    if record.closed_at is not None:
        raise RuleViolation("supervision_closed", "this supervision is closed")
    record.response, record.responded_at = body.response, clock.now()
    record.responded_by = principal.subject
    await session.flush()
    return SupervisionRead.model_validate(record)


@router.post("/{supervision_id}/close", response_model=SupervisionRead)
async def close(
    supervision_id: int,
    body: SupervisionClose,
    session: SessionDep,
    clock: ClockDep,
    principal: Agency,
) -> SupervisionRead:
    record = await _get(session, supervision_id)
    if record.closed_at is not None:
        raise RuleViolation("supervision_closed", "this supervision is closed already")
    record.outcome, record.closed_at, record.closed_by = (
        body.outcome,
        clock.now(),
        principal.subject,
    )
    await session.flush()
    return SupervisionRead.model_validate(record)
