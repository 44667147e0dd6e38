"""Time-limit endpoints: the table, a change, and which limit applies."""

from typing import Annotated

from fastapi import APIRouter, Depends

from shared.auth import Principal, Role, authenticated, require
from shared.catalogue import catalogue
from shared.deps import ClockDep, SessionDep
from shared.errors import BadInput
from shared.schemas import Instant
from shared.vocabulary import ClockKind, TicketType
from sla.time_limits import service
from sla.time_limits.models import TimeLimit
from sla.time_limits.rules import validate_new_rule
from sla.time_limits.schemas import (
    ResolvedLimitRead,
    TimeLimitCreate,
    TimeLimitRead,
    TimeLimitsRead,
)

router = APIRouter(prefix="/v1/time-limits", tags=["time limits"])
Reader = Annotated[Principal, Depends(authenticated)]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]


@router.get("", response_model=TimeLimitsRead)
async def list_limits(session: SessionDep, _: Reader) -> TimeLimitsRead:
    """Every limit ever set, oldest first per kind (rows are never rewritten)."""
    rows = await service.list_limits(session)
    return TimeLimitsRead(
        items=[TimeLimitRead.model_validate(r, from_attributes=True) for r in rows]
    )


@router.post("", response_model=TimeLimitRead, status_code=201)
async def add_limit(
    body: TimeLimitCreate, session: SessionDep, clock: ClockDep, admin: Admin
) -> TimeLimitRead:
    """Set a limit for clocks started from ``effective_from`` on (Art 17: finer limits)."""
    now = clock.now()
    effective_from = body.effective_from or now
    if effective_from.tzinfo is None:
        raise BadInput("effective_from needs a UTC offset", zh="生效时间应带时区，如 +08:00")
    if body.category is not None:
        catalogue().check(body.category)
    validate_new_rule(
        clock_kind=body.clock_kind,
        working_days=body.working_days,
        max_extensions=body.max_extensions,
        effective_from=effective_from,
        now=now,
        hours=body.hours,
    )
    row = await service.add_limit(
        session,
        TimeLimit(
            clock_kind=body.clock_kind,
            ticket_type=body.ticket_type,
            category=body.category,
            working_days=body.working_days,
            hours=body.hours,
            max_extensions=body.max_extensions,
            effective_from=effective_from,
            created_at=now,
            created_by=admin.subject,
            reason=body.reason,
        ),
    )
    return TimeLimitRead.model_validate(row, from_attributes=True)


@router.get("/resolve", response_model=ResolvedLimitRead)
async def resolve(
    session: SessionDep,
    clock: ClockDep,
    _: Reader,
    clock_kind: ClockKind,
    ticket_type: TicketType,
    category: str | None = None,
    at: Instant | None = None,
) -> ResolvedLimitRead:
    """The limit a clock of this kind, started at ``at`` (default now), gets."""
    resolved = await service.resolve(
        session,
        clock_kind=clock_kind,
        ticket_type=ticket_type,
        category=category,
        at=at or clock.now(),
    )
    return ResolvedLimitRead(**resolved.__dict__)
