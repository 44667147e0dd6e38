"""The workflow of a ticket at dispatch, as pure transitions (Art 6, 13–22).

Each transition takes the ticket as plain values and returns the ticket after it, with the
clock changes sla must make. A transition the Measures forbid raises ``RuleViolation`` whose
code names the rule. Deadlines are judged on the act's own time against the due time sla
reported (``verification_window_open``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from shared.errors import BadInput, RuleViolation
from shared.vocabulary import ClockAction, ClockKind, NoticeKind, Rating, StepAction, StopKind
from shared.vocabulary import TicketStatus as Status

DIFFICULT_AFTER_RETURNS = 3  # Art 16: 退回3次以上


HANDLING_STATES = (
    Status.HANDLING,
    Status.SUB_UNIT_HANDLING,
    Status.SUB_UNIT_REVIEW,
    Status.REHANDLING,
)


class ReturnDecision(StrEnum):
    APPROVE = "approve"  # Art 15(1)
    REJECT = "reject"  # Art 15(2)
    SEVERAL_UNITS = "several_units"  # Art 15(3)


class LegalProcedure(StrEnum):
    """Art 21 ¶2: the statutory procedures a matter may have to wait on (cf. Art 11(2))."""

    LITIGATION = "litigation"  # 诉讼
    ARBITRATION = "arbitration"  # 仲裁
    ADMINISTRATIVE_RECONSIDERATION = "administrative_reconsideration"  # 行政复议
    ADMINISTRATIVE_ADJUDICATION = "administrative_adjudication"  # 行政裁决
    ADMINISTRATIVE_PENALTY = "administrative_penalty"  # 行政处罚程序
    APPRAISAL = "appraisal"  # 鉴定、评估
    OTHER = "other"  # another statutory procedure, named in the reference


class DisputeKind(StrEnum):
    """Art 16: the kind of dispute decides whom the agency consults."""

    CROSS_DISTRICT = "cross_district"  # 两个以上区的部门存在争议
    UNCLEAR_RESPONSIBILITY = "unclear_responsibility"  # 职责不清
    APPLICABLE_LAW = "applicable_law"  # 法律适用存在争议


class ConsultedBody(StrEnum):
    BUSINESS_GUIDANCE_DEPARTMENT = "business_guidance_department"  # 市业务指导部门
    ESTABLISHMENT_OFFICE = "establishment_office"  # 市机构编制部门
    JUSTICE_BUREAU = "justice_bureau"  # 市司法行政部门


CONSULTED_FOR: Mapping[DisputeKind, ConsultedBody] = {
    DisputeKind.CROSS_DISTRICT: ConsultedBody.BUSINESS_GUIDANCE_DEPARTMENT,
    DisputeKind.UNCLEAR_RESPONSIBILITY: ConsultedBody.ESTABLISHMENT_OFFICE,
    DisputeKind.APPLICABLE_LAW: ConsultedBody.JUSTICE_BUREAU,
}


@dataclass(frozen=True)
class ClockChange:
    action: ClockAction
    clock: ClockKind
    reason: str
    stop_kind: StopKind | None = None  # set on every STOP: how the run ended


# Art 13: a call submitted to the agency starts its dispatch clock from receipt.
RECEIVED = ClockChange(ClockAction.START, ClockKind.DISPATCH, "call received (Art 13)")


@dataclass(frozen=True)
class Ticket:
    """What the workflow needs to know about a ticket."""

    status: Status
    lead_unit: str | None = None
    first_unit: str | None = None  # the first unit that received it: leads under Art 15(3)
    co_handlers: frozenset[str] = frozenset()
    sub_unit: str | None = None
    approved_returns: int = 0
    determined_unit: str | None = None  # Art 16: this unit cannot return the ticket
    verification_open: bool = True  # False once sla reported the window closed
    verification_due_at: datetime | None = None  # 24:00 of its 2nd working day, from sla
    status_before_return: Status | None = None
    status_before_review: Status | None = None
    rehandled: bool = False
    repeat: bool = False  # intake recorded the call as a repeat of a completed one (Art 22)
    legal_procedure: LegalProcedure | None = None  # what handling waits on (Art 21 ¶2)

    @property
    def difficult(self) -> bool:
        """Art 16: returned to the agency three or more times."""
        return self.approved_returns >= DIFFICULT_AFTER_RETURNS

    def involves(self, unit: str) -> bool:
        return unit == self.lead_unit or unit in self.co_handlers


@dataclass(frozen=True)
class Transition:
    ticket: Ticket
    clocks: tuple[ClockChange, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Feedback:
    """Art 19(2): handling time, process, result and how the caller was answered."""

    handling_time: str
    process: str
    result: str
    caller_reply: str


def _require(ticket: Ticket, *allowed: Status, action: str) -> None:
    if ticket.status not in allowed:
        raise RuleViolation(
            "invalid_state", f"cannot {action} a ticket that is {ticket.status.value}"
        )


def _require_lead(ticket: Ticket, unit: str, action: str) -> None:
    if unit in ticket.co_handlers:
        raise RuleViolation(
            "co_handler_cannot_act", f"only the lead unit may {action}; co-handlers cooperate"
        )
    if unit != ticket.lead_unit:
        raise RuleViolation("not_assigned", f"unit {unit} does not hold this ticket")


def _handling_started(reason: str) -> tuple[ClockChange, ...]:
    # Art 14, 17: both periods run from the unit's receipt; so does the time to contact the
    # caller (响应).
    return (
        ClockChange(ClockAction.STOP, ClockKind.DISPATCH, reason, StopKind.COMPLETED),
        ClockChange(ClockAction.RESTART, ClockKind.VERIFICATION, reason),
        ClockChange(ClockAction.RESTART, ClockKind.HANDLING, reason),
        ClockChange(ClockAction.RESTART, ClockKind.CONTACT, reason),
    )


# The lead unit records its first contact with the caller while the ticket is with it.
CONTACT_STATES = (
    Status.DISPATCHED,
    Status.HANDLING,
    Status.SUB_UNIT_HANDLING,
    Status.SUB_UNIT_REVIEW,
    Status.REHANDLING,
    Status.AWAITING_LEGAL_PROCEDURE,
)


def record_contact(ticket: Ticket, *, unit: str, at: datetime, now: datetime) -> Transition:
    """The lead unit contacted the caller (响应) at ``at``: the contact clock stops, judged by
    that time, which cannot be later than now. A later contact is recorded too; only the
    first stops the clock."""
    _require(ticket, *CONTACT_STATES, action="record a contact on")
    _require_lead(ticket, unit, "record the contact with the caller")
    if at > now:
        raise BadInput("a contact cannot be in the future", zh="联系时间不能晚于现在")
    return Transition(
        ticket,
        (ClockChange(ClockAction.STOP, ClockKind.CONTACT, "caller contacted", StopKind.COMPLETED),),
    )


def dispatch(ticket: Ticket, *, unit: str, co_handlers: frozenset[str] = frozenset()) -> Transition:
    """Art 13: the agency sends a ticket to the responsible unit (and co-handlers)."""
    check_dispatchable(ticket)
    return _send_to(ticket, unit=unit, co_handlers=co_handlers)


def check_dispatchable(ticket: Ticket) -> None:
    """Art 13, 16: waiting with the agency, and not a difficult ticket needing determination."""
    _require(ticket, Status.AWAITING_DISPATCH, action="dispatch")
    if ticket.difficult:
        raise RuleViolation(
            "determination_required",
            "returned three or more times: the unit is determined after consulting (Art 16)",
        )


def _send_to(ticket: Ticket, *, unit: str, co_handlers: frozenset[str]) -> Transition:
    if unit in co_handlers:
        raise RuleViolation("lead_is_co_handler", "the lead unit cannot also co-handle")
    return Transition(
        replace(
            ticket,
            status=Status.DISPATCHED,
            lead_unit=unit,
            first_unit=ticket.first_unit or unit,
            co_handlers=co_handlers,
            verification_open=True,
        ),
        _handling_started("dispatched (Art 13); a new unit's period starts (Art 15(1))"),
    )


def accept(ticket: Ticket, *, unit: str) -> Transition:
    """Art 14: the unit accepts responsibility and handles; its verification is done, so
    the verification clock stops (a return inside the window is still judged by its time)."""
    _require(ticket, Status.DISPATCHED, action="accept")
    _require_lead(ticket, unit, "accept")
    return Transition(
        replace(ticket, status=Status.HANDLING),
        (
            ClockChange(
                ClockAction.STOP, ClockKind.VERIFICATION, "accepted (Art 14)", StopKind.COMPLETED
            ),
        ),
    )


def verification_window_open(ticket: Ticket, *, at: datetime) -> bool:
    """Art 14: the window closes at its due instant, whether or not sla's scan has said so
    yet. Before sla has told dispatch the due time (just dispatched, sla unreachable), only
    sla's word closes it: the unit is given the benefit of the doubt."""
    if not ticket.verification_open:
        return False
    return ticket.verification_due_at is None or at <= ticket.verification_due_at


def request_return(ticket: Ticket, *, unit: str, at: datetime) -> Transition:
    """Art 14: inside its verification window, a unit applies to return (reason and basis);
    the window is judged at ``at``, the time of the application."""
    if ticket.status is Status.REHANDLING:
        raise RuleViolation("no_return_in_rehandling", "a re-handled ticket cannot be returned")
    _require(ticket, Status.DISPATCHED, Status.HANDLING, action="return")
    if unit == ticket.determined_unit:
        raise RuleViolation(
            "determined_unit_cannot_return", "the unit determined under Art 16 cannot return it"
        )
    _require_lead(ticket, unit, "apply to return")
    if not verification_window_open(ticket, at=at):
        raise RuleViolation(
            "return_window_closed", "the 2-working-day verification window has closed (Art 14)"
        )
    return Transition(
        replace(ticket, status=Status.RETURN_REQUESTED, status_before_return=ticket.status)
    )


def decide_return(
    ticket: Ticket, *, decision: ReturnDecision, co_handlers: frozenset[str] = frozenset()
) -> Transition:
    """Art 15: the agency approves, rejects, or finds several units responsible."""
    _require(ticket, Status.RETURN_REQUESTED, action="decide a return on")
    previous = ticket.status_before_return or Status.DISPATCHED
    if decision is ReturnDecision.REJECT:
        # Art 15(2): the original unit continues; the period does not restart.
        return Transition(replace(ticket, status=previous, status_before_return=None))
    if decision is ReturnDecision.SEVERAL_UNITS:
        lead = ticket.first_unit or ticket.lead_unit
        assert lead is not None
        others = (co_handlers | ticket.co_handlers | {ticket.lead_unit or lead}) - {lead}
        if not co_handlers - {lead}:
            raise RuleViolation("co_handlers_required", "name the other responsible units")
        # Art 15(3): the first unit that received it leads, the others co-handle; restart.
        return Transition(
            replace(
                ticket,
                status=Status.HANDLING,
                lead_unit=lead,
                co_handlers=frozenset(others),
                status_before_return=None,
            ),
            (ClockChange(ClockAction.RESTART, ClockKind.HANDLING, "several units (Art 15(3))"),),
        )
    # Art 15(1): back to the agency to re-judge and re-dispatch within 1 working day.
    returns = ticket.approved_returns + 1
    return Transition(
        replace(
            ticket,
            status=Status.AWAITING_DISPATCH,
            lead_unit=None,
            co_handlers=frozenset(),
            approved_returns=returns,
            status_before_return=None,
        ),
        (
            ClockChange(
                ClockAction.STOP,
                ClockKind.HANDLING,
                "return approved (Art 15(1))",
                StopKind.RETURNED,
            ),
            ClockChange(
                ClockAction.STOP, ClockKind.VERIFICATION, "return approved", StopKind.RETURNED
            ),
            ClockChange(ClockAction.STOP, ClockKind.CONTACT, "return approved", StopKind.RETURNED),
            ClockChange(ClockAction.START, ClockKind.DISPATCH, "back with the agency (Art 13)"),
        ),
    )


def determine(
    ticket: Ticket,
    *,
    dispute: DisputeKind,
    consulted: ConsultedBody,
    unit: str,
    co_handlers: frozenset[str] = frozenset(),
) -> Transition:
    """Art 16: for a difficult ticket, the unit determined after consulting the right body."""
    _require(ticket, Status.AWAITING_DISPATCH, action="settle")
    if not ticket.difficult:
        raise RuleViolation(
            "not_difficult", "only a ticket returned three or more times is determined (Art 16)"
        )
    if CONSULTED_FOR[dispute] is not consulted:
        raise RuleViolation(
            "wrong_body_consulted",
            f"a {dispute.value} dispute is settled with the {CONSULTED_FOR[dispute].value}",
        )
    return _send_to(replace(ticket, determined_unit=unit), unit=unit, co_handlers=co_handlers)


class PrincipleStatus(StrEnum):
    """Art 16 ¶3: a determination's principle for similar matters, and its approval (审定)."""

    PROPOSED = "proposed"
    APPROVED = "approved"  # it became a routing rule
    REJECTED = "rejected"


def check_principle_reviewable(status: PrincipleStatus | None) -> None:
    """Art 16 ¶3: only a principle proposed and not yet decided is approved or rejected."""
    if status is not PrincipleStatus.PROPOSED:
        raise RuleViolation(
            "principle_not_proposed", "this determination has no principle awaiting approval"
        )


def designate(
    ticket: Ticket, *, unit: str, sub_unit: str, sub_unit_parent: str | None
) -> Transition:
    """Art 6: the unit designates one of its own sub-units (department, town, sub-district)."""
    _require(ticket, Status.HANDLING, Status.REHANDLING, action="designate")
    _require_lead(ticket, unit, "designate a sub-unit")
    if sub_unit_parent != unit:
        raise RuleViolation("not_own_sub_unit", f"{sub_unit} is not a sub-unit of {unit} (Art 6)")
    return Transition(
        replace(
            ticket,
            status=Status.SUB_UNIT_HANDLING,
            sub_unit=sub_unit,
            status_before_review=ticket.status,
        )
    )


def submit_sub_unit_result(ticket: Ticket, *, sub_unit: str) -> Transition:
    """The sub-unit reports to its unit, which must review it (Art 19)."""
    _require(ticket, Status.SUB_UNIT_HANDLING, action="report a sub-unit result on")
    if sub_unit != ticket.sub_unit:
        raise RuleViolation("not_designated", f"{sub_unit} was not designated for this ticket")
    return Transition(replace(ticket, status=Status.SUB_UNIT_REVIEW))


def review_sub_unit_result(ticket: Ticket, *, unit: str, approved: bool) -> Transition:
    """Art 19: the unit approves its sub-unit's result before feeding back, or sends it back."""
    _require(ticket, Status.SUB_UNIT_REVIEW, action="review a sub-unit result on")
    _require_lead(ticket, unit, "review the sub-unit's result")
    if not approved:
        return Transition(replace(ticket, status=Status.SUB_UNIT_HANDLING))
    return Transition(
        replace(ticket, status=ticket.status_before_review or Status.HANDLING, sub_unit=None)
    )


FEEDBACK_ITEMS = {
    "handling_time": "办理时间",
    "process": "办理经过",
    "result": "办理结果",
    "caller_reply": "回复诉求人情况",
}


def missing_feedback_items(feedback: Feedback) -> list[str]:
    """Art 19(2): what a feedback leaves out (handling time, process, result, reply)."""
    return [name for name, value in vars(feedback).items() if not value.strip()]


def submit_feedback(ticket: Ticket, *, unit: str, feedback: Feedback) -> Transition:
    """Art 19: the lead unit reports what was done; incomplete feedback is refused."""
    if ticket.status in (Status.SUB_UNIT_HANDLING, Status.SUB_UNIT_REVIEW):
        raise RuleViolation(
            "sub_unit_result_unreviewed", "the unit must review its sub-unit's result first"
        )
    _require(ticket, Status.HANDLING, Status.REHANDLING, action="feed back on")
    _require_lead(ticket, unit, "feed back")
    missing = missing_feedback_items(feedback)
    if missing:
        raise RuleViolation(
            "feedback_incomplete",
            f"feedback must state {', '.join(missing)} (Art 19)",
            zh="办理情况反馈应当列明" + "、".join(FEEDBACK_ITEMS[m] for m in missing),
        )
    # The unit is judged by when it fed back, not by when the agency got to review it.
    return Transition(
        replace(ticket, status=Status.FEEDBACK_REVIEW, status_before_review=ticket.status),
        (
            ClockChange(
                ClockAction.STOP,
                _handling_clock(ticket),
                "feedback submitted (Art 19)",
                StopKind.COMPLETED,
            ),
            # The feedback says how the caller was answered: they were contacted by now.
            ClockChange(
                ClockAction.STOP, ClockKind.CONTACT, "feedback submitted", StopKind.COMPLETED
            ),
        ),
    )


def review_feedback(ticket: Ticket, *, compliant: bool) -> Transition:
    """Art 19: compliant feedback goes to the caller; otherwise back, period not restarted."""
    _require(ticket, Status.FEEDBACK_REVIEW, action="review feedback on")
    if compliant:
        return Transition(replace(ticket, status=Status.AWAITING_EVALUATION))
    return Transition(
        replace(ticket, status=ticket.status_before_review or Status.HANDLING),
        (
            ClockChange(
                ClockAction.RESUME, _handling_clock(ticket), "non-compliant feedback (Art 19)"
            ),
        ),
    )


def _handling_clock(ticket: Ticket) -> ClockKind:
    """The period the unit's feedback is judged by: after a legal procedure, the 3 days of
    Art 21 ¶2; in re-handling, Art 20's; otherwise the handling period of Art 17."""
    if ticket.legal_procedure is not None:
        return ClockKind.FINAL_FEEDBACK
    return ClockKind.REHANDLING if ticket.rehandled else ClockKind.HANDLING


def evaluate(ticket: Ticket, *, rating: Rating) -> Transition:
    """Art 20: the caller's rating; only "unsatisfied" keeps the ticket open."""
    _require(ticket, Status.AWAITING_EVALUATION, action="evaluate")
    if rating is Rating.UNSATISFIED:
        return Transition(replace(ticket, status=Status.UNSATISFIED))
    return Transition(replace(ticket, status=Status.CLOSED))


def invite_evaluation(ticket: Ticket) -> Transition:
    """Art 20 ¶2: the agency offers the caller a channel to rate compliant feedback."""
    _require(ticket, Status.AWAITING_EVALUATION, action="invite a rating of")
    return Transition(ticket)


REVISITS_BEFORE_NO_RATING = 3  # Art 20 "或者不评价": a caller not reached three times


def revisit(ticket: Ticket, *, reached: bool, failed_before: int) -> Transition:
    """Art 20: the agency revisits the caller for a rating of compliant feedback; after
    ``REVISITS_BEFORE_NO_RATING`` attempts that did not reach the caller, the ticket is
    evaluated "no rating" and closed."""
    _require(ticket, Status.AWAITING_EVALUATION, action="revisit the caller of")
    if not reached and failed_before + 1 >= REVISITS_BEFORE_NO_RATING:
        return evaluate(ticket, rating=Rating.NONE)
    return Transition(ticket)


def rehandle(ticket: Ticket) -> Transition:
    """Art 20: after a first unsatisfied rating, one more pass: same period, no extension."""
    _require(ticket, Status.UNSATISFIED, action="send back for re-handling")
    if ticket.rehandled:
        raise RuleViolation("rehandling_once", "a ticket is re-handled at most once (Art 20)")
    return Transition(
        replace(ticket, status=Status.REHANDLING, rehandled=True, legal_procedure=None),
        (ClockChange(ClockAction.START, ClockKind.REHANDLING, "unsatisfied (Art 20)"),),
    )


def close(ticket: Ticket) -> Transition:
    """The agency closes a ticket rated unsatisfied that it does not send back."""
    _require(ticket, Status.UNSATISFIED, action="close")
    return Transition(replace(ticket, status=Status.CLOSED))


def check_extension_allowed(ticket: Ticket, *, unit: str, caller_notified: bool) -> None:
    """Art 18, 20: the lead unit of a ticket in handling asks, having told the caller why and
    until when; sla decides the rest (before the due time, at most twice)."""
    if ticket.status is Status.REHANDLING:
        raise RuleViolation("no_extension_in_rehandling", "re-handling cannot be extended (Art 20)")
    _require(
        ticket, Status.HANDLING, Status.SUB_UNIT_HANDLING, Status.SUB_UNIT_REVIEW, action="extend"
    )
    _require_lead(ticket, unit, "apply for an extension")
    if ticket.legal_procedure is not None:
        raise RuleViolation(
            "no_extension_of_final_feedback",
            "the final feedback after a legal procedure is due in 3 working days (Art 21 ¶2)",
        )
    if not caller_notified:
        raise RuleViolation(
            "caller_not_notified", "tell the caller the reason and the new due time (Art 18)"
        )


def new_situation(
    ticket: Ticket, *, unit: str, affects_handling: bool, caller_told: bool
) -> Transition:
    """Art 17: the unit judges a caller's new situation; if it directly affects handling,
    it tells the caller and the period restarts."""
    _require(ticket, *HANDLING_STATES, action="judge a new situation on")
    _require_lead(ticket, unit, "judge a new situation")
    if not affects_handling:
        return Transition(ticket)
    if not caller_told:
        raise RuleViolation(
            "caller_not_notified", "tell the caller how the new situation affects handling (Art 17)"
        )
    return Transition(
        ticket,
        (ClockChange(ClockAction.RESTART, _handling_clock(ticket), "new situation (Art 17)"),),
    )


def close_as_repeat(ticket: Ticket, *, unit: str) -> Transition:
    """Art 22: a repeat answered with the earlier result closes without a handling process."""
    _require(ticket, Status.DISPATCHED, Status.HANDLING, action="close as a repeat")
    _require_lead(ticket, unit, "answer a repeat")
    if not ticket.repeat:
        raise RuleViolation(
            "not_a_repeat", "only a call intake recorded as a repeat is answered so (Art 22)"
        )
    return Transition(
        replace(ticket, status=Status.CLOSED),
        (
            ClockChange(
                ClockAction.STOP,
                ClockKind.HANDLING,
                "repeat answered (Art 22)",
                StopKind.COMPLETED,
            ),
        ),
    )


def report_long_running(ticket: Ticket, *, unit: str) -> Transition:
    """Art 21: the lead unit draws up a plan for a long-running matter and reports progress
    periodically; while the matter waits on a legal procedure, a report starts the next
    reporting period."""
    _require(ticket, *HANDLING_STATES, Status.AWAITING_LEGAL_PROCEDURE, action="report on")
    _require_lead(ticket, unit, "report on a long-running matter")
    if ticket.status is not Status.AWAITING_LEGAL_PROCEDURE:
        return Transition(ticket)
    return Transition(
        ticket,
        (
            ClockChange(
                ClockAction.RESTART, ClockKind.PROGRESS_REPORT, "progress reported (Art 21)"
            ),
        ),
    )


def await_legal_procedure(
    ticket: Ticket, *, procedure: LegalProcedure, unit: str | None
) -> Transition:
    """Art 21 ¶2: the matter must wait on a statutory procedure. The lead unit (``unit``) or
    the agency (``unit`` None) says so; the handling period pauses — the unit is neither done
    nor late — and periodic progress reports fall due instead."""
    _require(ticket, Status.HANDLING, Status.REHANDLING, action="put on a legal procedure")
    if unit is not None:
        _require_lead(ticket, unit, "say the matter waits on a legal procedure")
    paused = "waits on a legal procedure (Art 21 ¶2)"
    return Transition(
        replace(ticket, status=Status.AWAITING_LEGAL_PROCEDURE, legal_procedure=procedure),
        (
            # After an earlier procedure ended, this pauses that one's final feedback.
            ClockChange(ClockAction.STOP, _handling_clock(ticket), paused, StopKind.PAUSED),
            ClockChange(ClockAction.START, ClockKind.PROGRESS_REPORT, paused),
        ),
    )


GUIDANCE_DEPARTMENT_KIND = "city_department"  # Art 16(1), 21: 市业务指导部门


def check_guidance_department(unit_kind: str) -> None:
    """Art 21: the business guidance department is a city department."""
    if unit_kind != GUIDANCE_DEPARTMENT_KIND:
        raise BadInput(
            "the guidance department (业务指导部门) is a city department (Art 21)",
            zh="业务指导部门应为市级部门（《办法》第二十一条）",
        )


def legal_procedure_ended(ticket: Ticket, *, unit: str | None) -> Transition:
    """Art 21 ¶2: the procedure ended: the final feedback is due within 3 working days."""
    _require(ticket, Status.AWAITING_LEGAL_PROCEDURE, action="end the legal procedure of")
    if unit is not None:
        _require_lead(ticket, unit, "say the legal procedure ended")
    return Transition(
        replace(ticket, status=Status.REHANDLING if ticket.rehandled else Status.HANDLING),
        (
            ClockChange(
                ClockAction.STOP,
                ClockKind.PROGRESS_REPORT,
                "legal procedure ended (Art 21)",
                StopKind.COMPLETED,
            ),
            ClockChange(
                ClockAction.START, ClockKind.FINAL_FEEDBACK, "legal procedure ended (Art 21)"
            ),
        ),
    )


# Which of the ticket's due times each of sla's clocks reports (Art 13, 14, 17, 20, 21).
DUE_FIELDS = {
    ClockKind.DISPATCH: "dispatch_due_at",
    ClockKind.VERIFICATION: "verification_due_at",
    ClockKind.HANDLING: "handling_due_at",
    ClockKind.REHANDLING: "handling_due_at",
    ClockKind.FINAL_FEEDBACK: "handling_due_at",
    ClockKind.PROGRESS_REPORT: "progress_due_at",
}


def due_time_fields(
    clock: ClockKind, due_at: datetime | None, *, provisional: bool
) -> dict[str, object]:
    """The ticket's fields a new due time from sla sets: the clock's due time; for handling,
    whether it rests on an unloaded year; and, past the dispatch and verification stages, the
    overdue flag lifted — a later due time (Art 18 extension, Art 17 restart, Art 21 report)
    means the handling is no longer late. The contact limit sets nothing on the ticket: the
    unit is told when it passes, and sla counts it (响应)."""
    field = DUE_FIELDS.get(clock)
    if field is None:
        return {}
    fields: dict[str, object] = {field: due_at}
    if field == "handling_due_at":
        fields["due_provisional"] = provisional  # marked on every screen until loaded
    if clock not in (ClockKind.DISPATCH, ClockKind.VERIFICATION):
        fields["overdue"] = False
    return fields


def breach_fields(clock: ClockKind, *, breached: bool) -> dict[str, bool]:
    """The flag a breach of ``clock`` sets (a withdrawn breach, Art 17 / 23(1), lifts it); a
    missed contact limit flags nothing: "overdue" is the handling's lateness."""
    if clock is ClockKind.CONTACT:
        return {}
    if clock is ClockKind.VERIFICATION:
        return {"verification_open": not breached}  # Art 14: once closed, the unit must handle
    if clock is ClockKind.DISPATCH:
        return {"dispatch_overdue": breached}  # Art 13
    return {"overdue": breached}  # Art 17, 23(1)


# Breaches a unit is told of: its own time limits (ClockKind.units_own).
UNIT_LIMITS_PASSED = frozenset(StepAction.due_passed(c) for c in ClockKind if c.units_own)
RETURN_DECIDED = frozenset(
    {StepAction.RETURN_APPROVED, StepAction.RETURN_REJECTED, StepAction.RETURN_SEVERAL_UNITS}
)


def unit_notices(action: StepAction, before: Ticket, after: Ticket) -> list[tuple[str, NoticeKind]]:
    """Which units a step tells of what, each unit once per kind: a unit that now holds the
    ticket and did not before, a newly designated sub-unit (Art 6, 13, 15(3), 16), and a unit
    sent the ticket again (Art 20) are told it arrived; the unit that applied to return is
    told the decision (Art 15); feedback sent back goes to whoever gave it (Art 19); a passed
    limit of the unit's own, to the units handling it (Art 17, 20, 21)."""
    notices: list[tuple[str, NoticeKind]] = []
    held_before = {before.lead_unit, *before.co_handlers}
    for unit in (after.lead_unit, *sorted(after.co_handlers)):
        if unit is not None and unit not in held_before:
            notices.append((unit, NoticeKind.TICKET_ASSIGNED))
    if after.sub_unit is not None and after.sub_unit != before.sub_unit:
        notices.append((after.sub_unit, NoticeKind.TICKET_ASSIGNED))
    if (
        action is StepAction.SENT_BACK_FOR_REHANDLING
        and after.lead_unit is not None
        and after.lead_unit in held_before
    ):
        notices.append((after.lead_unit, NoticeKind.TICKET_ASSIGNED))
    if action in RETURN_DECIDED and before.lead_unit is not None:
        notices.append((before.lead_unit, NoticeKind.RETURN_DECIDED))
    if action is StepAction.FEEDBACK_SENT_BACK and after.lead_unit is not None:
        notices.append((after.lead_unit, NoticeKind.FEEDBACK_SENT_BACK))
    if action is StepAction.SUB_UNIT_RESULT_SENT_BACK and after.sub_unit is not None:
        notices.append((after.sub_unit, NoticeKind.FEEDBACK_SENT_BACK))
    if action in UNIT_LIMITS_PASSED:
        notices.extend((unit, NoticeKind.OVERDUE) for unit in handling_units(after))
    return list(dict.fromkeys(notices))


def handling_units(ticket: Ticket) -> list[str]:
    """The units at work on a ticket now: its lead unit, and a sub-unit it designated."""
    units = [ticket.lead_unit]
    if ticket.status is Status.SUB_UNIT_HANDLING:
        units.append(ticket.sub_unit)
    return [unit for unit in units if unit is not None]


def due_soon_notices(clock: ClockKind, ticket: Ticket) -> list[tuple[str, NoticeKind]]:
    """A limit of the unit's own nears its end: the units at work on the ticket are told."""
    if not clock.warned_ahead or ticket.status is Status.CLOSED:
        return []
    return [(unit, NoticeKind.DUE_SOON) for unit in handling_units(ticket)]


CALLER_TOLD = {
    StepAction.EXTENDED: NoticeKind.CALLER_EXTENDED,  # Art 18: the reason and new due date
    StepAction.FEEDBACK_APPROVED: NoticeKind.CALLER_ANSWERED,  # Art 19, 20: how to rate it
    StepAction.SENT_BACK_FOR_REHANDLING: NoticeKind.CALLER_REHANDLING,  # Art 20
}


def caller_notice(action: StepAction, before: Ticket, after: Ticket) -> NoticeKind | None:
    """What a step tells the caller (if they consented to be told): an extension (Art 18),
    the answer (Art 19, 20), re-handling (Art 20), and the close of a matter they did not
    close themselves by rating it (the agency's close, a repeat answered under Art 22, three
    revisits that did not reach them)."""
    if action in CALLER_TOLD:
        return CALLER_TOLD[action]
    closed_now = after.status is Status.CLOSED and before.status is not Status.CLOSED
    if closed_now and action is not StepAction.EVALUATED:
        return NoticeKind.CALLER_CLOSED
    return None


class Action(StrEnum):
    """What a user may ask of a ticket; ``available_actions`` says which the rules allow now."""

    ACCEPT = "accept"
    RETURN = "return"
    EXTEND = "extend"
    FEEDBACK = "feedback"
    REPEAT_ANSWER = "repeat_answer"
    LEGAL_PROCEDURE = "legal_procedure"
    DESIGNATE = "designate"
    REVIEW_SUB_UNIT = "review_sub_unit"
    SUB_UNIT_RESULT = "sub_unit_result"
    DISPATCH = "dispatch"
    REVIEW = "review"
    EVALUATE = "evaluate"
    REHANDLE = "rehandle"
    CLOSE = "close"


UNIT_ACTIONS = (
    Action.ACCEPT,
    Action.RETURN,
    Action.EXTEND,
    Action.FEEDBACK,
    Action.REPEAT_ANSWER,
    Action.LEGAL_PROCEDURE,
    Action.DESIGNATE,
    Action.REVIEW_SUB_UNIT,
)
AGENCY_ACTIONS = (
    Action.DISPATCH,
    Action.REVIEW,
    Action.EVALUATE,
    Action.REHANDLE,
    Action.CLOSE,
    Action.LEGAL_PROCEDURE,
)
_COMPLETE = Feedback(handling_time="-", process="-", result="-", caller_reply="-")


def available_actions(
    ticket: Ticket, *, unit: str | None, agency: bool, at: datetime, sub_unit: str | None = None
) -> dict[Action, RuleViolation | None]:
    """Each action the user could take, and the rule that forbids it now (None: allowed).
    The same transitions decide as when the action is taken; sla may still refuse an
    extension it alone can judge (after the due time, the third one), and which sub-unit is
    the unit's own is the directory's to say."""
    checks: dict[Action, Callable[[], object]] = {}
    if sub_unit is not None:
        checks[Action.SUB_UNIT_RESULT] = lambda: submit_sub_unit_result(ticket, sub_unit=sub_unit)
    if unit is not None:
        checks |= {
            Action.ACCEPT: lambda: accept(ticket, unit=unit),
            Action.RETURN: lambda: request_return(ticket, unit=unit, at=at),
            Action.EXTEND: lambda: check_extension_allowed(ticket, unit=unit, caller_notified=True),
            Action.FEEDBACK: lambda: submit_feedback(ticket, unit=unit, feedback=_COMPLETE),
            Action.REPEAT_ANSWER: lambda: close_as_repeat(ticket, unit=unit),
            Action.LEGAL_PROCEDURE: lambda: await_legal_procedure(
                ticket, procedure=LegalProcedure.OTHER, unit=unit
            ),
            Action.DESIGNATE: lambda: designate(
                ticket, unit=unit, sub_unit="-", sub_unit_parent=unit
            ),
            Action.REVIEW_SUB_UNIT: lambda: review_sub_unit_result(
                ticket, unit=unit, approved=True
            ),
        }
    if agency:
        checks |= {
            Action.DISPATCH: lambda: check_dispatchable(ticket),
            Action.REVIEW: lambda: review_feedback(ticket, compliant=True),
            Action.EVALUATE: lambda: evaluate(ticket, rating=Rating.SATISFIED),
            Action.REHANDLE: lambda: rehandle(ticket),
            Action.CLOSE: lambda: close(ticket),
            Action.LEGAL_PROCEDURE: lambda: await_legal_procedure(
                ticket, procedure=LegalProcedure.OTHER, unit=None
            ),
        }
    found: dict[Action, RuleViolation | None] = {}
    for action, check in checks.items():
        try:
            check()
            found[action] = None
        except RuleViolation as refused:
            found[action] = refused
    return found
