"""Warnings of the rules (Art 12 ¶2) and referrals of malicious use (Art 27).

Agents record that they warned a caller; supervisors refer malicious use to the authority
concerned. Both are kept append-only with who and when, and only supervisors and
administrators read them: a flag on a caller is not for every desk to see.
"""

from typing import Annotated

from fastapi import APIRouter, Depends

from intake.conduct import service
from intake.conduct.schemas import (
    ConductKind,
    ConductList,
    ConductRead,
    ReferralCreate,
    WarningCreate,
)
from intake.deps import TicketRef
from shared.auth import Principal, Role, require
from shared.deps import ClockDep, SessionDep

router = APIRouter(tags=["conduct"])
Agent = Annotated[Principal, Depends(require(Role.AGENT))]
Overseer = Annotated[Principal, Depends(require(Role.SUPERVISOR, Role.ADMIN))]


@router.post("/v1/tickets/{ticket_id}/warnings", response_model=ConductRead, status_code=201)
async def warn(
    ticket_id: TicketRef, body: WarningCreate, session: SessionDep, clock: ClockDep, agent: Agent
) -> ConductRead:
    """Art 12 ¶2: the agent warned the caller of the rules (civil, specific, no repeats)."""
    record = await service.record(
        session, ticket_id, ConductKind.WARNING, body.note, principal=agent, at=clock.now()
    )
    return ConductRead.model_validate(record)


@router.post("/v1/tickets/{ticket_id}/referrals", response_model=ConductRead, status_code=201)
async def refer(
    ticket_id: TicketRef, body: ReferralCreate, session: SessionDep, clock: ClockDep, who: Overseer
) -> ConductRead:
    """Art 27: malicious use of the line referred to the authority concerned."""
    record = await service.record(
        session,
        ticket_id,
        ConductKind.REFERRAL,
        body.note,
        principal=who,
        at=clock.now(),
        referred_to=body.referred_to,
    )
    return ConductRead.model_validate(record)


@router.get("/v1/tickets/{ticket_id}/conduct", response_model=ConductList)
async def conduct(ticket_id: TicketRef, session: SessionDep, _: Overseer) -> ConductList:
    """Warnings and referrals of a call, oldest first (supervisors and administrators)."""
    rows = await service.of_ticket(session, ticket_id)
    return ConductList(items=[ConductRead.model_validate(r) for r in rows])
