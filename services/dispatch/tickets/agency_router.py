"""The agency's decisions: dispatch, returns, determination, review, evaluation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from dispatch.directory import service as directory
from dispatch.tickets import flows, repository, service
from dispatch.tickets.actions import (
    Agency,
    Ctx,
    LineAgency,
    TicketRef,
    apply_action,
    read,
    require_units,
)
from dispatch.tickets.schemas import (
    CallerEvaluationCreate,
    CallerEvaluationRead,
    DeterminationCreate,
    DeterminationRead,
    DeterminationsRead,
    DispatchRequest,
    EvaluationCreate,
    InvitationCreate,
    InvitationRead,
    PrincipleReview,
    ReasonRequest,
    ReturnDecisionCreate,
    ReviewRequest,
    RevisitCreate,
    TicketRead,
)
from dispatch.workflow import rules
from dispatch.workflow.rules import PrincipleStatus
from shared.auth import Principal, Role, mint_token, require
from shared.deps import SettingsDep
from shared.errors import BadInput
from shared.vocabulary import StepAction

router = APIRouter(tags=["agency"])
# Art 16 ¶3: the principle a dispatcher proposes is approved by the agency's administrator.
Approver = Annotated[Principal, Depends(require(Role.ADMIN))]


@router.post("/v1/tickets/{ticket_id}/dispatch", response_model=TicketRead)
async def dispatch_ticket(
    ticket_id: TicketRef,
    body: DispatchRequest,
    ctx: Ctx,
    principal: Agency,
) -> TicketRead:
    """Art 13: send the ticket to a unit (the suggestion unless another is named)."""
    row = await service.get_ticket(ctx.session, ticket_id, principal=principal)
    rules.check_dispatchable(service.state_of(row))
    unit_id = body.unit_id or row.suggested_unit
    if unit_id is None:
        raise BadInput(
            "no routing rule suggests a unit: name one", zh="没有派单规则推荐承办单位，请指定"
        )
    await directory.get_unit(ctx.session, unit_id)
    co_handlers = await require_units(ctx.session, body.co_handlers)
    row = await apply_action(
        ctx,
        ticket_id,
        principal,
        action=StepAction.DISPATCHED,
        transition=lambda t: rules.dispatch(t, unit=unit_id, co_handlers=co_handlers),
        details={
            "unit_id": unit_id,
            "co_handlers": sorted(co_handlers),
            "suggested_unit": row.suggested_unit,
        },
    )
    return read(row)


@router.post("/v1/returns/{return_id}/decision", response_model=TicketRead)
async def decide_return(
    return_id: int,
    body: ReturnDecisionCreate,
    ctx: Ctx,
    principal: Agency,
) -> TicketRead:
    """Art 15: approve (re-dispatch, period restarts), reject (it continues), several units."""
    return read(await flows.decide_return(ctx, return_id, body, principal))


@router.post("/v1/tickets/{ticket_id}/determination", response_model=TicketRead)
async def determine(
    ticket_id: TicketRef,
    body: DeterminationCreate,
    ctx: Ctx,
    principal: Agency,
) -> TicketRead:
    """Art 16: settle a difficult ticket; the principle may become a routing rule."""
    return read(await flows.determine(ctx, ticket_id, body, principal))


@router.post("/v1/tickets/{ticket_id}/feedback/review", response_model=TicketRead)
async def review_feedback(
    ticket_id: TicketRef,
    body: ReviewRequest,
    ctx: Ctx,
    principal: LineAgency,
) -> TicketRead:
    """Art 19: compliant feedback goes to the caller; non-compliant goes back, no restart."""
    return read(await flows.review_feedback(ctx, ticket_id, body, principal))


@router.post("/v1/tickets/{ticket_id}/evaluation", response_model=TicketRead)
async def evaluation(
    ticket_id: TicketRef,
    body: EvaluationCreate,
    ctx: Ctx,
    principal: LineAgency,
) -> TicketRead:
    """Art 20: the caller's rating (satisfied, basically satisfied, unsatisfied, none) and
    whether they say the problem was solved (the resolution rate, docs/kpis.md)."""
    return read(
        await apply_action(
            ctx,
            ticket_id,
            principal,
            action=StepAction.EVALUATED,
            transition=lambda t: rules.evaluate(t, rating=body.rating),
            details={"rating": body.rating, "resolution": body.resolution},
            as_agency=True,
        )
    )


# Art 20 does not say how long a caller may take to rate; a week, then revisits go on.
INVITATION_TTL = timedelta(days=7)


@router.post(
    "/v1/tickets/{ticket_id}/evaluation-invitation",
    response_model=InvitationRead,
    status_code=201,
)
async def invite_evaluation(
    ticket_id: TicketRef,
    body: InvitationCreate,
    ctx: Ctx,
    settings: SettingsDep,
    principal: LineAgency,
) -> InvitationRead:
    """Art 20 ¶2: a link for the caller to rate the ticket themselves (SMS, WeChat, web); it
    opens this ticket's rating and nothing else, for a week."""
    row = await apply_action(
        ctx,
        ticket_id,
        principal,
        action=StepAction.EVALUATION_INVITED,
        transition=rules.invite_evaluation,
        details={"channel": body.channel.value},
        as_agency=True,
    )
    issued = datetime.now(UTC)  # the token's validity is real time, whatever the dev clock
    token = mint_token(settings, role=Role.CALLER, subject=row.id, ttl=INVITATION_TTL, now=issued)
    return InvitationRead(ticket_id=row.id, token=token, expires_at=issued + INVITATION_TTL)


@router.post("/v1/tickets/{ticket_id}/caller-evaluation", response_model=CallerEvaluationRead)
async def caller_evaluation(
    ticket_id: TicketRef,
    body: CallerEvaluationCreate,
    ctx: Ctx,
    principal: Annotated[Principal, Depends(require(Role.CALLER))],
) -> CallerEvaluationRead:
    """Art 20 ¶2: the caller rates the handling through the link the agency sent."""
    row = await apply_action(
        ctx,
        ticket_id,
        principal,
        action=StepAction.EVALUATED,
        reason=body.comment,
        transition=lambda t: rules.evaluate(t, rating=body.rating),
        details={"rating": body.rating, "resolution": body.resolution, "channel": "caller"},
    )
    return CallerEvaluationRead(number=row.number, status=row.status, rating=body.rating)


@router.post("/v1/tickets/{ticket_id}/revisits", response_model=TicketRead)
async def revisit(
    ticket_id: TicketRef,
    body: RevisitCreate,
    ctx: Ctx,
    principal: LineAgency,
) -> TicketRead:
    """Art 20: an attempt to reach the caller for a rating; three that fail mean no rating."""
    return read(await flows.revisit(ctx, ticket_id, body, principal))


@router.post("/v1/tickets/{ticket_id}/rehandle", response_model=TicketRead)
async def rehandle(
    ticket_id: TicketRef,
    body: ReasonRequest,
    ctx: Ctx,
    principal: LineAgency,
) -> TicketRead:
    """Art 20: after a first unsatisfied rating, send back once: same period, no extension."""
    return read(
        await apply_action(
            ctx,
            ticket_id,
            principal,
            action=StepAction.SENT_BACK_FOR_REHANDLING,
            reason=body.reason,
            transition=rules.rehandle,
            as_agency=True,
        )
    )


@router.post("/v1/tickets/{ticket_id}/close", response_model=TicketRead)
async def close(
    ticket_id: TicketRef,
    body: ReasonRequest,
    ctx: Ctx,
    principal: LineAgency,
) -> TicketRead:
    """Close a ticket rated unsatisfied that is not sent back."""
    return read(
        await apply_action(
            ctx,
            ticket_id,
            principal,
            action=StepAction.CLOSED,
            reason=body.reason,
            transition=rules.close,
            as_agency=True,
        )
    )


@router.get("/v1/determinations", response_model=DeterminationsRead)
async def list_determinations(
    ctx: Ctx,
    principal: Agency,
    principle_status: PrincipleStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeterminationsRead:
    """Art 16: determinations, newest first; ``principle_status=proposed`` awaits approval."""
    rows = await repository.determinations(
        ctx.session,
        principle_status=principle_status and principle_status.value,
        scope=service.district_scope(principal),
        limit=limit,
    )
    return DeterminationsRead(items=[DeterminationRead.model_validate(r) for r in rows])


@router.post(
    "/v1/determinations/{determination_id}/principle-review", response_model=DeterminationRead
)
async def review_principle(
    determination_id: int, body: PrincipleReview, ctx: Ctx, principal: Approver
) -> DeterminationRead:
    """Art 16 ¶3: approve (审定) a determination's principle as a routing rule, or reject it."""
    return DeterminationRead.model_validate(
        await flows.review_principle(ctx, determination_id, body, principal)
    )
