"""Multi-step flows of the ticket endpoints: each checks its rule on the ticket as locked and
records what happened; none holds a ticket's lock across a call to another service."""

from __future__ import annotations

from dispatch.directory import service as directory
from dispatch.directory.models import RoutingRule
from dispatch.tickets import repository, service
from dispatch.tickets.actions import Context, apply_action, require_units
from dispatch.tickets.models import (
    Determination,
    FeedbackRecord,
    ReturnRequest,
    Revisit,
    Ticket,
)
from dispatch.tickets.schemas import (
    DeterminationCreate,
    FeedbackCreate,
    PrincipleReview,
    ReturnCreate,
    ReturnDecisionCreate,
    ReviewRequest,
    RevisitCreate,
)
from dispatch.workflow import rules
from shared.auth import Principal
from shared.clients.sla import SlaClient
from shared.errors import BadInput, RuleViolation
from shared.vocabulary import StepAction


async def extend(
    ctx: Context,
    ticket_id: str,
    principal: Principal,
    *,
    reason: str,
    caller_notified: bool,
    told_caller: str | None = None,
) -> Ticket:
    """Art 18: check, ask sla (which owns the clock) without holding the ticket's lock, then
    lock again, check again and record.

    The key sent to sla is derived from the extensions dispatch has recorded, so a retry of
    this flow (a lost answer, a refused re-check) asks for the same extension, never a second.
    """
    unit = principal.unit_id or ""
    row = await service.get_ticket(ctx.session, ticket_id, principal=principal)
    rules.check_extension_allowed(service.state_of(row), unit=unit, caller_notified=caller_notified)
    recorded = await repository.steps_recorded(ctx.session, ticket_id, StepAction.EXTENDED)
    granted = await SlaClient(ctx.peers["sla"]).request_extension(
        ticket_id=ticket_id,
        reason=reason,
        requested_by=principal.subject,
        idempotency_key=f"{ticket_id}:extension:{recorded + 1}",
    )
    row = await service.get_ticket(ctx.session, ticket_id, principal=principal, for_update=True)
    # The ticket may have moved while sla answered (a return decided, feedback sent): the
    # rule is checked again on the row as locked; a refusal here is a 409 like any other.
    rules.check_extension_allowed(service.state_of(row), unit=unit, caller_notified=caller_notified)
    if granted.extensions_used <= await repository.steps_recorded(
        ctx.session, ticket_id, StepAction.EXTENDED
    ):
        return row  # sla answered an extension this ticket's history already holds
    row.handling_due_at = granted.due_at
    return await service.record(
        ctx.session,
        ctx.outbox,
        row,
        rules.Transition(service.state_of(row)),
        principal=principal,
        action=StepAction.EXTENDED,
        now=ctx.now(),
        reason=reason,
        details={
            "due_at": granted.due_at.isoformat(),
            "extensions_used": granted.extensions_used,
            "told_caller": told_caller,
        },
    )


RETURN_STEPS = {
    rules.ReturnDecision.APPROVE: StepAction.RETURN_APPROVED,
    rules.ReturnDecision.REJECT: StepAction.RETURN_REJECTED,
    rules.ReturnDecision.SEVERAL_UNITS: StepAction.RETURN_SEVERAL_UNITS,
}


async def decide_return(
    ctx: Context, return_id: int, body: ReturnDecisionCreate, principal: Principal
) -> Ticket:
    """Art 15: approve (re-dispatch, period restarts), reject (it continues), several units."""
    return_request = await repository.return_request_locked(ctx.session, return_id)
    if return_request.decision is not None:
        raise RuleViolation("return_already_decided", "this return was decided already")
    co_handlers = await require_units(ctx.session, body.co_handlers)
    now = ctx.now()

    async def resuggest(row: Ticket) -> None:
        # Back with 12345's agency: a sub-centre's own line no longer holds it (Art 7, 15(1)).
        row.line_unit = None
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
    return row


async def determine(
    ctx: Context, ticket_id: str, body: DeterminationCreate, principal: Principal
) -> Ticket:
    """Art 16: settle a difficult ticket; its principle may be proposed as a routing rule."""
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
    if body.record_as_routing_rule and not body.principle:
        raise BadInput(
            "a routing rule needs the principle it records", zh="记入派单规则须写明处理原则"
        )
    ctx.session.add(
        Determination(
            ticket_id=ticket_id,
            dispute_kind=body.dispute_kind.value,
            consulted_body=body.consulted_body.value,
            unit_id=body.unit_id,
            co_handlers=sorted(co_handlers),
            principle=body.principle,
            # Art 16 ¶3: proposed for approval; it becomes a routing rule only when approved.
            principle_status=rules.PrincipleStatus.PROPOSED.value
            if body.record_as_routing_rule
            else None,
            decided_at=now,
            decided_by=principal.subject,
        )
    )
    await ctx.session.flush()
    return row


async def review_feedback(
    ctx: Context, ticket_id: str, body: ReviewRequest, principal: Principal
) -> Ticket:
    """Art 19: compliant feedback goes to the caller; non-compliant goes back, no restart."""
    if not body.approved and not body.reason:
        raise BadInput("say why the feedback does not comply", zh="请说明反馈不符合要求的理由")
    latest = await repository.latest_feedback(ctx.session, ticket_id, "unit")
    row = await apply_action(
        ctx,
        ticket_id,
        principal,
        action=StepAction.FEEDBACK_APPROVED if body.approved else StepAction.FEEDBACK_SENT_BACK,
        reason=body.reason,
        transition=lambda t: rules.review_feedback(t, compliant=body.approved),
        details={"resolution_judged": body.resolution_judged} if body.resolution_judged else None,
        as_agency=True,
    )
    if latest is not None:
        latest.approved, latest.review_reason = body.approved, body.reason
        latest.reviewed_at, latest.reviewed_by = ctx.now(), principal.subject
    return row


async def apply_to_return(
    ctx: Context, ticket_id: str, body: ReturnCreate, principal: Principal
) -> ReturnRequest:
    """Art 14: apply to return, with reason and basis, inside the verification window."""
    unit = principal.unit_id or ""
    now = ctx.now()
    await apply_action(
        ctx,
        ticket_id,
        principal,
        action=StepAction.RETURN_REQUESTED,
        transition=lambda t: rules.request_return(t, unit=unit, at=now),
        reason=body.reason,
        details={"basis": body.basis},
    )
    return_request = ReturnRequest(
        ticket_id=ticket_id,
        unit_id=unit,
        reason=body.reason,
        basis=body.basis,
        requested_at=now,
        requested_by=principal.subject,
    )
    ctx.session.add(return_request)
    await ctx.session.flush()
    return return_request


async def store_feedback(
    ctx: Context, ticket_id: str, stage: str, body: FeedbackCreate, principal: Principal
) -> None:
    ctx.session.add(
        FeedbackRecord(
            ticket_id=ticket_id,
            stage=stage,
            unit_id=principal.unit_id or "",
            submitted_at=ctx.now(),
            submitted_by=principal.subject,
            **body.model_dump(),
        )
    )
    await ctx.session.flush()


async def review_principle(
    ctx: Context, determination_id: int, body: PrincipleReview, principal: Principal
) -> Determination:
    """Art 16 ¶3: approve a determination's principle (a routing rule for similar matters
    is recorded) or reject it; who, when and why are kept on the determination."""
    determination = await repository.determination_locked(ctx.session, determination_id)
    status = determination.principle_status
    rules.check_principle_reviewable(rules.PrincipleStatus(status) if status else None)
    now = ctx.now()
    if body.approved:
        ticket = await service.get_ticket(ctx.session, determination.ticket_id, principal=principal)
        rule = await directory.add_rule(
            ctx.session,
            RoutingRule(
                category=ticket.category,
                district=ticket.district,
                unit_id=determination.unit_id,
                priority=50,
                note=determination.principle or "",
                source="determination",
                created_at=now,
                created_by=principal.subject,
            ),
            actor=principal.subject,
            now=now,
        )
        determination.routing_rule_id = rule.id
    determination.principle_status = (
        rules.PrincipleStatus.APPROVED if body.approved else rules.PrincipleStatus.REJECTED
    ).value
    determination.principle_reviewed_at, determination.principle_reviewed_by = (
        now,
        principal.subject,
    )
    determination.principle_review_reason = body.reason
    await ctx.session.flush()
    return determination


async def revisit(
    ctx: Context, ticket_id: str, body: RevisitCreate, principal: Principal
) -> Ticket:
    """Art 20: record an attempt to reach the caller; the third that fails closes the ticket
    with "no rating"."""
    row = await service.get_ticket(ctx.session, ticket_id, principal=principal, for_update=True)
    service.check_agency_action(row, principal)
    failed_before = await repository.failed_revisits(ctx.session, ticket_id)
    moved = rules.revisit(service.state_of(row), reached=body.reached, failed_before=failed_before)
    ctx.session.add(
        Revisit(
            ticket_id=ticket_id,
            at=ctx.now(),
            by=principal.subject,
            channel=body.channel.value,
            reached=body.reached,
            note=body.note,
        )
    )
    no_rating = moved.ticket.status is rules.Status.CLOSED
    return await service.record(
        ctx.session,
        ctx.outbox,
        row,
        moved,
        principal=principal,
        action=StepAction.EVALUATED if no_rating else StepAction.REVISITED,
        now=ctx.now(),
        reason=body.note,
        details={
            "channel": body.channel.value,
            "reached": body.reached,
            **({"rating": rules.Rating.NONE.value} if no_rating else {}),
        },
    )
