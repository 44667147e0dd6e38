"""Handling units' and sub-units' actions on their tickets."""

from __future__ import annotations

from fastapi import APIRouter

from dispatch.directory import service as directory
from dispatch.tickets import flows, service
from dispatch.tickets.actions import (
    Ctx,
    SubUnitActor,
    TicketRef,
    UnitActor,
    UnitOrAgency,
    apply_action,
    read,
)
from dispatch.tickets.models import Ticket
from dispatch.tickets.schemas import (
    ContactCreate,
    DesignateRequest,
    ExtensionCreate,
    FeedbackCreate,
    LegalProcedureCreate,
    NewSituationJudgement,
    PlanRequest,
    ReasonRequest,
    ReturnCreate,
    ReturnRead,
    ReviewRequest,
    TicketRead,
)
from dispatch.workflow import rules
from shared.auth import Principal, Role
from shared.errors import RuleViolation
from shared.vocabulary import StepAction

router = APIRouter(tags=["units"])


@router.post("/v1/tickets/{ticket_id}/contact-record", response_model=TicketRead)
async def record_contact(
    ticket_id: TicketRef, body: ContactCreate, ctx: Ctx, principal: UnitActor
) -> TicketRead:
    """The lead unit contacted the caller (响应): how and when; the contact limit is judged
    by that time, which may not be in the future."""
    unit, now = principal.unit_id or "", ctx.now()
    at = body.at or now
    return read(
        await apply_action(
            ctx,
            ticket_id,
            principal,
            action=StepAction.CONTACTED,
            transition=lambda t: rules.record_contact(t, unit=unit, at=at, now=now),
            reason=body.note,
            details={"method": body.method, "at": at.isoformat()},
            acted_at=at,
        )
    )


@router.post("/v1/tickets/{ticket_id}/accept", response_model=TicketRead)
async def accept(ticket_id: TicketRef, ctx: Ctx, principal: UnitActor) -> TicketRead:
    """Art 14: the unit accepts the ticket."""
    unit = principal.unit_id or ""
    return read(
        await apply_action(
            ctx,
            ticket_id,
            principal,
            action=StepAction.ACCEPTED,
            transition=lambda t: rules.accept(t, unit=unit),
        )
    )


@router.post("/v1/tickets/{ticket_id}/returns", response_model=ReturnRead, status_code=201)
async def apply_to_return(
    ticket_id: TicketRef,
    body: ReturnCreate,
    ctx: Ctx,
    principal: UnitActor,
) -> ReturnRead:
    """Art 14: apply to return, with reason and basis, inside the verification window."""
    return ReturnRead.model_validate(await flows.apply_to_return(ctx, ticket_id, body, principal))


@router.post("/v1/tickets/{ticket_id}/designate", response_model=TicketRead)
async def designate(
    ticket_id: TicketRef,
    body: DesignateRequest,
    ctx: Ctx,
    principal: UnitActor,
) -> TicketRead:
    """Art 6: designate one of the unit's sub-units to do the work."""
    await service.get_ticket(ctx.session, ticket_id, principal=principal)  # 403 before 422
    sub_unit = await directory.get_unit(ctx.session, body.sub_unit_id)
    unit = principal.unit_id or ""
    return read(
        await apply_action(
            ctx,
            ticket_id,
            principal,
            action=StepAction.DESIGNATED,
            transition=lambda t: rules.designate(
                t, unit=unit, sub_unit=sub_unit.id, sub_unit_parent=sub_unit.parent_id
            ),
            details={"sub_unit_id": sub_unit.id},
        )
    )


def _feedback_of(body: FeedbackCreate) -> rules.Feedback:
    return rules.Feedback(
        handling_time=body.handling_time,
        process=body.process,
        result=body.result,
        caller_reply=body.caller_reply,
    )


@router.post("/v1/tickets/{ticket_id}/sub-unit-result", response_model=TicketRead)
async def sub_unit_result(
    ticket_id: TicketRef,
    body: FeedbackCreate,
    ctx: Ctx,
    principal: SubUnitActor,
) -> TicketRead:
    """The sub-unit reports its result to the unit that designated it (Art 6, 19)."""
    sub_unit = principal.unit_id or ""
    missing = rules.missing_feedback_items(_feedback_of(body))
    if missing:
        raise RuleViolation("feedback_incomplete", f"the result must state {', '.join(missing)}")
    row = await apply_action(
        ctx,
        ticket_id,
        principal,
        action=StepAction.SUB_UNIT_RESULT,
        transition=lambda t: rules.submit_sub_unit_result(t, sub_unit=sub_unit),
    )
    await flows.store_feedback(ctx, ticket_id, "sub_unit", body, principal)
    return read(row)


@router.post("/v1/tickets/{ticket_id}/sub-unit-result/review", response_model=TicketRead)
async def review_sub_unit_result(
    ticket_id: TicketRef,
    body: ReviewRequest,
    ctx: Ctx,
    principal: UnitActor,
) -> TicketRead:
    """Art 19: the unit reviews its sub-unit's result before it feeds back."""
    unit = principal.unit_id or ""
    return read(
        await apply_action(
            ctx,
            ticket_id,
            principal,
            action=StepAction.SUB_UNIT_RESULT_APPROVED
            if body.approved
            else StepAction.SUB_UNIT_RESULT_SENT_BACK,
            reason=body.reason,
            transition=lambda t: rules.review_sub_unit_result(t, unit=unit, approved=body.approved),
        )
    )


@router.post("/v1/tickets/{ticket_id}/feedback", response_model=TicketRead)
async def feedback(
    ticket_id: TicketRef,
    body: FeedbackCreate,
    ctx: Ctx,
    principal: UnitActor,
) -> TicketRead:
    """Art 19: the lead unit's feedback; it must state time, process, result and reply."""
    unit = principal.unit_id or ""
    row = await apply_action(
        ctx,
        ticket_id,
        principal,
        action=StepAction.FEEDBACK_SUBMITTED,
        transition=lambda t: rules.submit_feedback(t, unit=unit, feedback=_feedback_of(body)),
        details={"finding": body.finding} if body.finding else None,
    )
    await flows.store_feedback(ctx, ticket_id, "unit", body, principal)
    return read(row)


@router.post("/v1/tickets/{ticket_id}/extensions", response_model=TicketRead)
async def extend(
    ticket_id: TicketRef,
    body: ExtensionCreate,
    ctx: Ctx,
    principal: UnitActor,
) -> TicketRead:
    """Art 18: apply for an extension; sla grants it on the spot or refuses with the rule."""
    return read(
        await flows.extend(
            ctx,
            ticket_id,
            principal,
            reason=body.reason,
            caller_notified=body.caller_notified,
            told_caller=body.told_caller,
        )
    )


@router.post("/v1/tickets/{ticket_id}/new-situation", response_model=TicketRead)
async def judge_new_situation(
    ticket_id: TicketRef,
    body: NewSituationJudgement,
    ctx: Ctx,
    principal: UnitActor,
) -> TicketRead:
    """Art 17: the unit judges the caller's new situation; if it affects handling, restart."""
    unit = principal.unit_id or ""

    async def cleared(row: Ticket) -> None:
        row.new_situation_pending = False

    return read(
        await apply_action(
            ctx,
            ticket_id,
            principal,
            action=StepAction.NEW_SITUATION_JUDGED,
            reason=body.reason,
            details={"affects_handling": body.affects_handling, "told_caller": body.told_caller},
            transition=lambda t: rules.new_situation(
                t,
                unit=unit,
                affects_handling=body.affects_handling,
                caller_told=body.told_caller is not None,
            ),
            before=cleared,
        )
    )


@router.post("/v1/tickets/{ticket_id}/repeat-answer", response_model=TicketRead)
async def answer_repeat(
    ticket_id: TicketRef,
    body: FeedbackCreate,
    ctx: Ctx,
    principal: UnitActor,
) -> TicketRead:
    """Art 22: a repeat is answered with the earlier result and its basis, and closed."""
    if not body.result.strip() or not body.process.strip():
        raise RuleViolation("feedback_incomplete", "give the earlier result and its basis")
    unit = principal.unit_id or ""
    row = await apply_action(
        ctx,
        ticket_id,
        principal,
        action=StepAction.REPEAT_ANSWERED,
        transition=lambda t: rules.close_as_repeat(t, unit=unit),
    )
    await flows.store_feedback(ctx, ticket_id, "repeat", body, principal)
    return read(row)


@router.post("/v1/tickets/{ticket_id}/long-running", response_model=TicketRead)
async def long_running_plan(
    ticket_id: TicketRef,
    body: PlanRequest,
    ctx: Ctx,
    principal: UnitActor,
) -> TicketRead:
    """Art 21: mark a long-running matter with the unit's plan."""
    unit = principal.unit_id or ""

    async def planned(row: Ticket) -> None:
        row.long_running_plan = body.plan

    return read(
        await apply_action(
            ctx,
            ticket_id,
            principal,
            action=StepAction.LONG_RUNNING_PLAN,
            reason=body.plan,
            before=planned,
            transition=lambda t: rules.report_long_running(t, unit=unit),
        )
    )


@router.post("/v1/tickets/{ticket_id}/progress", response_model=TicketRead)
async def report_progress(
    ticket_id: TicketRef,
    body: PlanRequest,
    ctx: Ctx,
    principal: UnitActor,
) -> TicketRead:
    """Art 21: periodic progress on a long-running matter; while it waits on a legal
    procedure, each report starts the next reporting period."""
    unit = principal.unit_id or ""
    return read(
        await apply_action(
            ctx,
            ticket_id,
            principal,
            action=StepAction.PROGRESS_REPORTED,
            reason=body.plan,
            transition=lambda t: rules.report_long_running(t, unit=unit),
        )
    )


def _acting_unit(principal: Principal) -> str | None:
    """The unit acting, or None when the agency acts (Art 21 allows either)."""
    return principal.unit_id if principal.role is Role.UNIT else None


@router.post("/v1/tickets/{ticket_id}/legal-procedure", response_model=TicketRead)
async def await_legal_procedure(
    ticket_id: TicketRef,
    body: LegalProcedureCreate,
    ctx: Ctx,
    principal: UnitOrAgency,
) -> TicketRead:
    """Art 21 ¶2: the matter waits on a legal procedure: the handling period pauses and
    progress reports fall due periodically; the guidance department oversees it."""
    await service.get_ticket(ctx.session, ticket_id, principal=principal)  # 403 before 422
    department = await directory.get_unit(ctx.session, body.guidance_department)
    rules.check_guidance_department(department.kind)
    unit = _acting_unit(principal)

    async def waiting(row: Ticket) -> None:
        row.legal_procedure_reference = body.reference
        row.guidance_department = department.id
        row.handling_due_at = None  # paused: the next progress report is what falls due

    return read(
        await apply_action(
            ctx,
            ticket_id,
            principal,
            action=StepAction.LEGAL_PROCEDURE_AWAITED,
            reason=body.reference,
            details={"procedure": body.procedure.value, "guidance_department": department.id},
            before=waiting,
            transition=lambda t: rules.await_legal_procedure(
                t, procedure=body.procedure, unit=unit
            ),
        )
    )


@router.post("/v1/tickets/{ticket_id}/legal-procedure-ended", response_model=TicketRead)
async def legal_procedure_ended(
    ticket_id: TicketRef,
    body: ReasonRequest,
    ctx: Ctx,
    principal: UnitOrAgency,
) -> TicketRead:
    """Art 21 ¶2: the procedure ended: the final feedback is due in 3 working days."""
    unit = _acting_unit(principal)

    async def ended(row: Ticket) -> None:
        row.progress_due_at = None

    return read(
        await apply_action(
            ctx,
            ticket_id,
            principal,
            action=StepAction.LEGAL_PROCEDURE_ENDED,
            reason=body.reason,
            before=ended,
            transition=lambda t: rules.legal_procedure_ended(t, unit=unit),
        )
    )
