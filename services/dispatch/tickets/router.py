"""Ticket endpoints: the agency's queue and decisions, units' actions and polls, history."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sqlalchemy import select

from dispatch.directory import service as directory
from dispatch.directory.models import RoutingRule
from dispatch.tickets import service
from dispatch.tickets.models import Determination, FeedbackRecord, ReturnRequest, Ticket
from dispatch.tickets.schemas import (
    DesignateRequest,
    DeterminationCreate,
    DispatchRequest,
    EvaluationCreate,
    ExtensionCreate,
    FeedbackCreate,
    HistoryEntry,
    HistoryRead,
    NewSituationJudgement,
    PlanRequest,
    ReasonRequest,
    ReturnCreate,
    ReturnDecisionCreate,
    ReturnRead,
    ReviewRequest,
    TicketPage,
    TicketRead,
)
from dispatch.workflow import rules
from shared.auth import Principal, Role, require
from shared.clients.sla import SlaClient
from shared.deps import ClockDep, SessionDep
from shared.errors import BadInput, NotFound, RuleViolation

router = APIRouter(tags=["tickets"])
Agency = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.ADMIN))]
Viewer = Annotated[
    Principal,
    Depends(require(Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN, Role.UNIT, Role.SUB_UNIT)),
]
UnitActor = Annotated[Principal, Depends(require(Role.UNIT))]
SubUnitActor = Annotated[Principal, Depends(require(Role.SUB_UNIT))]
PollReader = Viewer


def read(row: Ticket) -> TicketRead:
    return TicketRead.model_validate(row).model_copy(
        update={"difficult": row.approved_returns >= rules.DIFFICULT_AFTER_RETURNS}
    )


async def _apply(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    ticket_id: str,
    principal: Principal,
    *,
    action: str,
    transition: Callable[[rules.Ticket], rules.Transition],
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    before: Callable[[Ticket], Awaitable[None]] | None = None,
) -> Ticket:
    """Lock the ticket, run the rule, then (if allowed) ``before``, and record it all."""
    row = await service.get_ticket(session, ticket_id, principal=principal, for_update=True)
    moved = transition(service.state_of(row))
    if before is not None:
        await before(row)
    return await service.record(
        session,
        request.app.state.outbox,
        row,
        moved,
        principal=principal,
        action=action,
        now=clock.now(),
        reason=reason,
        details=details,
    )


async def _require_units(session: SessionDep, unit_ids: list[str]) -> frozenset[str]:
    for unit_id in unit_ids:
        await directory.get_unit(session, unit_id)
    return frozenset(unit_ids)


@router.get("/v1/queue", response_model=TicketPage)
async def queue(
    session: SessionDep,
    _: Annotated[Principal, Depends(require(Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN))],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> TicketPage:
    """Tickets awaiting dispatch, the oldest due first, each with its suggested unit and rule."""
    rows = (
        await session.scalars(
            select(Ticket)
            .where(Ticket.status == rules.Status.AWAITING_DISPATCH.value)
            .order_by(Ticket.dispatch_due_at.asc().nulls_last(), Ticket.received_at)
            .limit(limit)
        )
    ).all()
    return TicketPage(items=[read(r) for r in rows], next_cursor=None)


@router.get("/v1/tickets/{ticket_id}", response_model=TicketRead)
async def get_ticket(ticket_id: str, session: SessionDep, principal: Viewer) -> TicketRead:
    return read(await service.get_ticket(session, ticket_id, principal=principal))


@router.post("/v1/tickets/{ticket_id}/dispatch", response_model=TicketRead)
async def dispatch_ticket(
    ticket_id: str,
    body: DispatchRequest,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: Agency,
) -> TicketRead:
    """Art 13: send the ticket to a unit (the suggestion unless another is named)."""
    row = await service.get_ticket(session, ticket_id, principal=principal)
    rules.check_dispatchable(service.state_of(row))
    unit_id = body.unit_id or row.suggested_unit
    if unit_id is None:
        raise BadInput("no routing rule suggests a unit: name one")
    await directory.get_unit(session, unit_id)
    co_handlers = await _require_units(session, body.co_handlers)
    row = await _apply(
        request,
        session,
        clock,
        ticket_id,
        principal,
        action="dispatched",
        transition=lambda t: rules.dispatch(t, unit=unit_id, co_handlers=co_handlers),
        details={
            "unit_id": unit_id,
            "co_handlers": sorted(co_handlers),
            "suggested_unit": row.suggested_unit,
        },
    )
    return read(row)


@router.post("/v1/tickets/{ticket_id}/accept", response_model=TicketRead)
async def accept(
    ticket_id: str, request: Request, session: SessionDep, clock: ClockDep, principal: UnitActor
) -> TicketRead:
    """Art 14: the unit accepts the ticket."""
    unit = principal.unit_id or ""
    return read(
        await _apply(
            request,
            session,
            clock,
            ticket_id,
            principal,
            action="accepted",
            transition=lambda t: rules.accept(t, unit=unit),
        )
    )


@router.post("/v1/tickets/{ticket_id}/returns", response_model=ReturnRead, status_code=201)
async def apply_to_return(
    ticket_id: str,
    body: ReturnCreate,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: UnitActor,
) -> ReturnRead:
    """Art 14: apply to return, with reason and basis, inside the verification window."""
    unit = principal.unit_id or ""
    now = clock.now()
    await _apply(
        request,
        session,
        clock,
        ticket_id,
        principal,
        action="return_requested",
        transition=lambda t: rules.request_return(t, unit=unit),
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
    session.add(return_request)
    await session.flush()
    return ReturnRead.model_validate(return_request)


@router.post("/v1/returns/{return_id}/decision", response_model=TicketRead)
async def decide_return(
    return_id: int,
    body: ReturnDecisionCreate,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: Agency,
) -> TicketRead:
    """Art 15: approve (re-dispatch, period restarts), reject (it continues), several units."""
    return_request = (
        await session.execute(
            select(ReturnRequest).where(ReturnRequest.id == return_id).with_for_update()
        )
    ).scalar_one_or_none()
    if return_request is None:
        raise NotFound(f"no return request {return_id}")
    if return_request.decision is not None:
        raise RuleViolation("return_already_decided", "this return was decided already")
    co_handlers = await _require_units(session, body.co_handlers)
    now = clock.now()

    async def resuggest(row: Ticket) -> None:
        await service.refresh_suggestion(session, row)

    return_request.decision = body.decision.value
    return_request.decision_reason = body.reason
    return_request.decided_at = now
    return_request.decided_by = principal.subject
    await session.flush()
    row = await _apply(
        request,
        session,
        clock,
        return_request.ticket_id,
        principal,
        action=f"return_{body.decision.value}",
        reason=body.reason,
        transition=lambda t: rules.decide_return(
            t, decision=body.decision, co_handlers=co_handlers
        ),
        details={"return_id": return_id, "co_handlers": sorted(co_handlers)},
        before=resuggest if body.decision is rules.ReturnDecision.APPROVE else None,
    )
    return read(row)


@router.post("/v1/tickets/{ticket_id}/determination", response_model=TicketRead)
async def determine(
    ticket_id: str,
    body: DeterminationCreate,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: Agency,
) -> TicketRead:
    """Art 16: settle a difficult ticket; the principle may become a routing rule."""
    await directory.get_unit(session, body.unit_id)
    co_handlers = await _require_units(session, body.co_handlers)
    now = clock.now()
    row = await _apply(
        request,
        session,
        clock,
        ticket_id,
        principal,
        action="determined",
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
            session,
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
    session.add(
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
    await session.flush()
    return read(row)


@router.post("/v1/tickets/{ticket_id}/designate", response_model=TicketRead)
async def designate(
    ticket_id: str,
    body: DesignateRequest,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: UnitActor,
) -> TicketRead:
    """Art 6: designate one of the unit's sub-units to do the work."""
    await service.get_ticket(session, ticket_id, principal=principal)  # 403 before 422
    sub_unit = await directory.get_unit(session, body.sub_unit_id)
    if sub_unit.parent_id != principal.unit_id:
        raise BadInput(f"{body.sub_unit_id} is not a sub-unit of {principal.unit_id}")
    unit = principal.unit_id or ""
    return read(
        await _apply(
            request,
            session,
            clock,
            ticket_id,
            principal,
            action="designated",
            transition=lambda t: rules.designate(t, unit=unit, sub_unit=sub_unit.id),
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


async def _store_feedback(
    session: SessionDep,
    ticket_id: str,
    stage: str,
    body: FeedbackCreate,
    principal: Principal,
    now: datetime,
) -> None:
    session.add(
        FeedbackRecord(
            ticket_id=ticket_id,
            stage=stage,
            unit_id=principal.unit_id or "",
            submitted_at=now,
            submitted_by=principal.subject,
            **body.model_dump(),
        )
    )
    await session.flush()


@router.post("/v1/tickets/{ticket_id}/sub-unit-result", response_model=TicketRead)
async def sub_unit_result(
    ticket_id: str,
    body: FeedbackCreate,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: SubUnitActor,
) -> TicketRead:
    """The sub-unit reports its result to the unit that designated it (Art 6, 19)."""
    sub_unit = principal.unit_id or ""
    missing = rules.missing_feedback_items(_feedback_of(body))
    if missing:
        raise RuleViolation("feedback_incomplete", f"the result must state {', '.join(missing)}")
    row = await _apply(
        request,
        session,
        clock,
        ticket_id,
        principal,
        action="sub_unit_result",
        transition=lambda t: rules.submit_sub_unit_result(t, sub_unit=sub_unit),
    )
    await _store_feedback(session, ticket_id, "sub_unit", body, principal, clock.now())
    return read(row)


@router.post("/v1/tickets/{ticket_id}/sub-unit-result/review", response_model=TicketRead)
async def review_sub_unit_result(
    ticket_id: str,
    body: ReviewRequest,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: UnitActor,
) -> TicketRead:
    """Art 19: the unit reviews its sub-unit's result before it feeds back."""
    unit = principal.unit_id or ""
    return read(
        await _apply(
            request,
            session,
            clock,
            ticket_id,
            principal,
            action="sub_unit_result_approved" if body.approved else "sub_unit_result_sent_back",
            reason=body.reason,
            transition=lambda t: rules.review_sub_unit_result(t, unit=unit, approved=body.approved),
        )
    )


@router.post("/v1/tickets/{ticket_id}/feedback", response_model=TicketRead)
async def feedback(
    ticket_id: str,
    body: FeedbackCreate,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: UnitActor,
) -> TicketRead:
    """Art 19: the lead unit's feedback; it must state time, process, result and reply."""
    unit = principal.unit_id or ""
    row = await _apply(
        request,
        session,
        clock,
        ticket_id,
        principal,
        action="feedback_submitted",
        transition=lambda t: rules.submit_feedback(t, unit=unit, feedback=_feedback_of(body)),
        details={"finding": body.finding} if body.finding else None,
    )
    await _store_feedback(session, ticket_id, "unit", body, principal, clock.now())
    return read(row)


@router.post("/v1/tickets/{ticket_id}/feedback/review", response_model=TicketRead)
async def review_feedback(
    ticket_id: str,
    body: ReviewRequest,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: Agency,
) -> TicketRead:
    """Art 19: compliant feedback goes to the caller; non-compliant goes back, no restart."""
    if not body.approved and not body.reason:
        raise BadInput("say why the feedback does not comply")
    latest = (
        await session.scalars(
            select(FeedbackRecord)
            .where(FeedbackRecord.ticket_id == ticket_id, FeedbackRecord.stage == "unit")
            .order_by(FeedbackRecord.id.desc())
            .limit(1)
        )
    ).first()
    row = await _apply(
        request,
        session,
        clock,
        ticket_id,
        principal,
        action="feedback_approved" if body.approved else "feedback_sent_back",
        reason=body.reason,
        transition=lambda t: rules.review_feedback(t, compliant=body.approved),
    )
    if latest is not None:
        latest.approved, latest.review_reason = body.approved, body.reason
        latest.reviewed_at, latest.reviewed_by = clock.now(), principal.subject
    return read(row)


@router.post("/v1/tickets/{ticket_id}/evaluation", response_model=TicketRead)
async def evaluation(
    ticket_id: str,
    body: EvaluationCreate,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: Agency,
) -> TicketRead:
    """Art 20: the caller's rating (satisfied, basically satisfied, unsatisfied, none)."""
    return read(
        await _apply(
            request,
            session,
            clock,
            ticket_id,
            principal,
            action="evaluated",
            transition=lambda t: rules.evaluate(t, rating=body.rating),
            details={"rating": body.rating},
        )
    )


@router.post("/v1/tickets/{ticket_id}/rehandle", response_model=TicketRead)
async def rehandle(
    ticket_id: str,
    body: ReasonRequest,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: Agency,
) -> TicketRead:
    """Art 20: after a first unsatisfied rating, send back once: same period, no extension."""
    return read(
        await _apply(
            request,
            session,
            clock,
            ticket_id,
            principal,
            action="sent_back_for_rehandling",
            reason=body.reason,
            transition=rules.rehandle,
        )
    )


@router.post("/v1/tickets/{ticket_id}/close", response_model=TicketRead)
async def close(
    ticket_id: str,
    body: ReasonRequest,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: Agency,
) -> TicketRead:
    """Close a ticket rated unsatisfied that is not sent back."""
    return read(
        await _apply(
            request,
            session,
            clock,
            ticket_id,
            principal,
            action="closed",
            reason=body.reason,
            transition=rules.close,
        )
    )


@router.post("/v1/tickets/{ticket_id}/extensions", response_model=TicketRead)
async def extend(
    ticket_id: str,
    body: ExtensionCreate,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: UnitActor,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> TicketRead:
    """Art 18: apply for an extension; sla grants it on the spot or refuses with the rule."""
    row = await service.get_ticket(session, ticket_id, principal=principal, for_update=True)
    if not body.caller_notified:
        raise RuleViolation(
            "caller_not_notified", "tell the caller the reason and the new due time (Art 18)"
        )
    rules.check_extension_allowed(service.state_of(row), unit=principal.unit_id or "")
    key = idempotency_key or f"{ticket_id}:{row.handling_due_at}"
    granted = await SlaClient(request.app.state.clients["sla"]).request_extension(
        ticket_id=ticket_id, reason=body.reason, requested_by=principal.subject, idempotency_key=key
    )
    row.handling_due_at = granted.due_at
    return read(
        await service.record(
            session,
            request.app.state.outbox,
            row,
            rules.Transition(service.state_of(row)),
            principal=principal,
            action="extended",
            now=clock.now(),
            reason=body.reason,
            details={
                "due_at": granted.due_at.isoformat(),
                "extensions_used": granted.extensions_used,
            },
        )
    )


@router.post("/v1/tickets/{ticket_id}/new-situation", response_model=TicketRead)
async def judge_new_situation(
    ticket_id: str,
    body: NewSituationJudgement,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: UnitActor,
) -> TicketRead:
    """Art 17: the unit judges the caller's new situation; if it affects handling, restart."""
    unit = principal.unit_id or ""

    async def cleared(row: Ticket) -> None:
        row.new_situation_pending = False

    return read(
        await _apply(
            request,
            session,
            clock,
            ticket_id,
            principal,
            action="new_situation_judged",
            reason=body.reason,
            details={"affects_handling": body.affects_handling},
            transition=lambda t: rules.new_situation(
                t, unit=unit, affects_handling=body.affects_handling
            ),
            before=cleared,
        )
    )


@router.post("/v1/tickets/{ticket_id}/repeat-answer", response_model=TicketRead)
async def answer_repeat(
    ticket_id: str,
    body: FeedbackCreate,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: UnitActor,
) -> TicketRead:
    """Art 22: a repeat is answered with the earlier result and its basis, and closed."""
    if not body.result.strip() or not body.process.strip():
        raise RuleViolation("feedback_incomplete", "give the earlier result and its basis")
    unit = principal.unit_id or ""
    row = await _apply(
        request,
        session,
        clock,
        ticket_id,
        principal,
        action="repeat_answered",
        transition=lambda t: rules.close_as_repeat(t, unit=unit),
    )
    await _store_feedback(session, ticket_id, "repeat", body, principal, clock.now())
    return read(row)


@router.post("/v1/tickets/{ticket_id}/long-running", response_model=TicketRead)
async def long_running_plan(
    ticket_id: str,
    body: PlanRequest,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: UnitActor,
) -> TicketRead:
    """Art 21: mark a long-running matter with the unit's plan."""
    unit = principal.unit_id or ""

    async def planned(row: Ticket) -> None:
        row.long_running_plan = body.plan

    return read(
        await _apply(
            request,
            session,
            clock,
            ticket_id,
            principal,
            action="long_running_plan",
            reason=body.plan,
            before=planned,
            transition=lambda t: rules.report_long_running(t, unit=unit),
        )
    )


@router.post("/v1/tickets/{ticket_id}/progress", response_model=TicketRead)
async def report_progress(
    ticket_id: str,
    body: PlanRequest,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: UnitActor,
) -> TicketRead:
    """Art 21: periodic progress on a long-running matter."""
    unit = principal.unit_id or ""
    return read(
        await _apply(
            request,
            session,
            clock,
            ticket_id,
            principal,
            action="progress_reported",
            reason=body.plan,
            transition=lambda t: rules.report_long_running(t, unit=unit),
        )
    )


@router.post("/v1/tickets/{ticket_id}/legal-procedure-ended", response_model=TicketRead)
async def legal_procedure_ended(
    ticket_id: str,
    body: ReasonRequest,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: UnitActor,
) -> TicketRead:
    """Art 21: the procedure the matter waited on ended: final feedback in 3 working days."""
    unit = principal.unit_id or ""
    return read(
        await _apply(
            request,
            session,
            clock,
            ticket_id,
            principal,
            action="legal_procedure_ended",
            reason=body.reason,
            transition=lambda t: rules.legal_procedure_ended(t, unit=unit),
        )
    )


@router.get("/v1/tickets/{ticket_id}/history", response_model=HistoryRead)
async def ticket_history(ticket_id: str, session: SessionDep, principal: Viewer) -> HistoryRead:
    """Every change of the ticket: who, role, unit, when, what, why (Art 26)."""
    await service.get_ticket(session, ticket_id, principal=principal)
    events = await service.history(session, ticket_id)
    return HistoryRead(
        ticket_id=ticket_id,
        chain_intact=service.chain_is_intact(events),
        items=[HistoryEntry.model_validate(e) for e in events],
    )


@router.get("/v1/units/{unit_id}/tickets", response_model=TicketPage)
async def unit_tickets(
    unit_id: str,
    response: Response,
    session: SessionDep,
    principal: PollReader,
    status: str | None = None,
    overdue: bool | None = None,
    due_before: datetime | None = None,
    category: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
) -> TicketPage | Response:
    """A unit's own and co-handled tickets in change order; 304 when nothing changed."""
    scope = service.unit_scope(principal, unit_id)
    filters: list[Any] = []
    if status:
        filters.append(Ticket.status == status)
    if overdue is not None:
        filters.append(Ticket.overdue.is_(overdue))
    if due_before is not None:
        if due_before.tzinfo is None:
            raise BadInput("due_before needs a UTC offset")
        filters.append(Ticket.handling_due_at < due_before)
    if category:
        filters.append(Ticket.category.startswith(category))
    try:
        after = int(cursor) if cursor else 0
    except ValueError:
        raise BadInput("cursor is not one this endpoint gave") from None
    rows, newest, count = await service.poll(
        session, scope=scope, filters=filters, after=after, limit=limit
    )
    basis = (
        f"{unit_id}|{status}|{overdue}|{due_before}|{category}|{cursor}|{limit}|{newest}|{count}"
    )
    etag = '"' + hashlib.sha256(basis.encode()).hexdigest()[:32] + '"'
    if if_none_match == etag:
        return Response(status_code=304, headers={"ETag": etag})
    response.headers["ETag"] = etag
    next_cursor = str(rows[-1].change_seq) if len(rows) == limit else None
    return TicketPage(items=[read(r) for r in rows], next_cursor=next_cursor)
