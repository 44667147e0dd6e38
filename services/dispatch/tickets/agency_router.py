"""The agency's decisions: dispatch, returns, determination, review, evaluation."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from dispatch.directory import service as directory
from dispatch.directory.models import RoutingRule
from dispatch.tickets import service
from dispatch.tickets.actions import (
    Agency,
    Ctx,
    apply_action,
    read,
    require_units,
)
from dispatch.tickets.models import Determination, FeedbackRecord, ReturnRequest, Ticket
from dispatch.tickets.schemas import (
    DeterminationCreate,
    DispatchRequest,
    EvaluationCreate,
    ReasonRequest,
    ReturnDecisionCreate,
    ReviewRequest,
    TicketRead,
)
from dispatch.workflow import rules
from shared.errors import BadInput, NotFound, RuleViolation
from shared.vocabulary import StepAction

router = APIRouter(tags=["agency"])
RETURN_STEPS = {
    rules.ReturnDecision.APPROVE: StepAction.RETURN_APPROVED,
    rules.ReturnDecision.REJECT: StepAction.RETURN_REJECTED,
    rules.ReturnDecision.SEVERAL_UNITS: StepAction.RETURN_SEVERAL_UNITS,
}


@router.post("/v1/tickets/{ticket_id}/dispatch", response_model=TicketRead)
async def dispatch_ticket(
    ticket_id: str,
    body: DispatchRequest,
    ctx: Ctx,
    principal: Agency,
) -> TicketRead:
    """Art 13: send the ticket to a unit (the suggestion unless another is named)."""
    row = await service.get_ticket(ctx.session, ticket_id, principal=principal)
    rules.check_dispatchable(service.state_of(row))
    unit_id = body.unit_id or row.suggested_unit
    if unit_id is None:
        raise BadInput("no routing rule suggests a unit: name one")
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
    return_request = (
        await ctx.session.execute(
            select(ReturnRequest).where(ReturnRequest.id == return_id).with_for_update()
        )
    ).scalar_one_or_none()
    if return_request is None:
        raise NotFound(f"no return request {return_id}")
    if return_request.decision is not None:
        raise RuleViolation("return_already_decided", "this return was decided already")
    co_handlers = await require_units(ctx.session, body.co_handlers)
    now = ctx.now()

    async def resuggest(row: Ticket) -> None:
        await service.refresh_suggestion(ctx.session, row)

    return_request.decision = body.decision.value
    return_request.decision_reason = body.reason
    return_request.decided_at = now
    return_request.decided_by = principal.subject
    await ctx.session.flush()
    row = await apply_action(
        ctx,
        return_request.ticket_id,
        principal,
        action=RETURN_STEPS[body.decision],
        reason=body.reason,
        transition=lambda t: rules.decide_return(
            t, decision=body.decision, co_handlers=co_handlers
        ),
        details={
            "return_id": return_id,
            "returning_unit": return_request.unit_id,
            "co_handlers": sorted(co_handlers),
        },
        before=resuggest if body.decision is rules.ReturnDecision.APPROVE else None,
    )
    return read(row)


@router.post("/v1/tickets/{ticket_id}/determination", response_model=TicketRead)
async def determine(
    ticket_id: str,
    body: DeterminationCreate,
    ctx: Ctx,
    principal: Agency,
) -> TicketRead:
    """Art 16: settle a difficult ticket; the principle may become a routing rule."""
    await directory.get_unit(ctx.session, body.unit_id)
    co_handlers = await require_units(ctx.session, body.co_handlers)
    now = ctx.now()
    row = await apply_action(
        ctx,
        ticket_id,
        principal,
        action=StepAction.DETERMINED,
        reason=body.principle,
        transition=lambda t: rules.determine(
            t,
            dispute=body.dispute_kind,
            consulted=body.consulted_body,
            unit=body.unit_id,
            co_handlers=co_handlers,
        ),
        details={
            "dispute_kind": body.dispute_kind,
            "consulted_body": body.consulted_body,
            "unit_id": body.unit_id,
        },
    )
    rule_id = None
    if body.record_as_routing_rule:
        if not body.principle:
            raise BadInput("a routing rule needs the principle it records")
        rule = await directory.add_rule(
            ctx.session,
            RoutingRule(
                category=row.category,
                district=row.district,
                unit_id=body.unit_id,
                priority=50,
                note=body.principle,
                source="determination",
                created_at=now,
                created_by=principal.subject,
            ),
        )
        rule_id = rule.id
    ctx.session.add(
        Determination(
            ticket_id=ticket_id,
            dispute_kind=body.dispute_kind.value,
            consulted_body=body.consulted_body.value,
            unit_id=body.unit_id,
            co_handlers=sorted(co_handlers),
            principle=body.principle,
            routing_rule_id=rule_id,
            decided_at=now,
            decided_by=principal.subject,
        )
    )
    await ctx.session.flush()
    return read(row)


@router.post("/v1/tickets/{ticket_id}/feedback/review", response_model=TicketRead)
async def review_feedback(
    ticket_id: str,
    body: ReviewRequest,
    ctx: Ctx,
    principal: Agency,
) -> TicketRead:
    """Art 19: compliant feedback goes to the caller; non-compliant goes back, no restart."""
    if not body.approved and not body.reason:
        raise BadInput("say why the feedback does not comply")
    latest = (
        await ctx.session.scalars(
            select(FeedbackRecord)
            .where(FeedbackRecord.ticket_id == ticket_id, FeedbackRecord.stage == "unit")
            .order_by(FeedbackRecord.id.desc())
            .limit(1)
        )
    ).first()
    row = await apply_action(
        ctx,
        ticket_id,
        principal,
        action=StepAction.FEEDBACK_APPROVED if body.approved else StepAction.FEEDBACK_SENT_BACK,
        reason=body.reason,
        transition=lambda t: rules.review_feedback(t, compliant=body.approved),
    )
    if latest is not None:
        latest.approved, latest.review_reason = body.approved, body.reason
        latest.reviewed_at, latest.reviewed_by = ctx.now(), principal.subject
    return read(row)


@router.post("/v1/tickets/{ticket_id}/evaluation", response_model=TicketRead)
async def evaluation(
    ticket_id: str,
    body: EvaluationCreate,
    ctx: Ctx,
    principal: Agency,
) -> TicketRead:
    """Art 20: the caller's rating (satisfied, basically satisfied, unsatisfied, none)."""
    return read(
        await apply_action(
            ctx,
            ticket_id,
            principal,
            action=StepAction.EVALUATED,
            transition=lambda t: rules.evaluate(t, rating=body.rating),
            details={"rating": body.rating},
        )
    )


@router.post("/v1/tickets/{ticket_id}/rehandle", response_model=TicketRead)
async def rehandle(
    ticket_id: str,
    body: ReasonRequest,
    ctx: Ctx,
    principal: Agency,
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
        )
    )


@router.post("/v1/tickets/{ticket_id}/close", response_model=TicketRead)
async def close(
    ticket_id: str,
    body: ReasonRequest,
    ctx: Ctx,
    principal: Agency,
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
        )
    )
