"""Domain words every service uses (rules.md, "Vocabulary")."""

from __future__ import annotations

from enum import StrEnum


class TicketType(StrEnum):
    """The five kinds of matter callers raise (Art 11)."""

    CONSULTATION = "consultation"  # 咨询
    HELP_REQUEST = "help_request"  # 求助
    COMPLAINT = "complaint"  # 投诉
    REPORT = "report"  # 举报
    SUGGESTION = "suggestion"  # 意见建议


class ClockKind(StrEnum):
    """The clocks a ticket can run, each with the article that sets it."""

    DISPATCH = "dispatch"  # Art 13
    VERIFICATION = "verification"  # Art 14
    HANDLING = "handling"  # Art 17
    REHANDLING = "rehandling"  # Art 20
    FINAL_FEEDBACK = "final_feedback"  # Art 21 ¶2
    PROGRESS_REPORT = "progress_report"  # Art 21: the next periodic report while a procedure runs
    # The unit's first contact with the caller (响应: the State Council's hotline guidance,
    # beside the Measures); its limit is the city's, 1 working day unless it sets another.
    CONTACT = "contact"

    @property
    def units_own(self) -> bool:
        """A limit the handling unit is held to, so told of when it nears and when it passes
        (Art 17, 20, 21): not the agency's dispatch limit (Art 13), nor the verification
        window, whose end only ends the unit's right to return (Art 14)."""
        return self not in (ClockKind.DISPATCH, ClockKind.VERIFICATION)

    @property
    def warned_ahead(self) -> bool:
        """A limit of the unit's own that is long enough to warn of the day before: not the
        contact limit, which is as short as that warning."""
        return self.units_own and self is not ClockKind.CONTACT


class TicketStatus(StrEnum):
    """Where a dispatched ticket stands in the workflow (dispatch owns it; intake is told)."""

    AWAITING_DISPATCH = "awaiting_dispatch"  # with the agency (Art 13)
    DISPATCHED = "dispatched"  # with the unit, not yet accepted (Art 14)
    RETURN_REQUESTED = "return_requested"  # the unit applied to return (Art 14)
    HANDLING = "handling"  # accepted (Art 17)
    SUB_UNIT_HANDLING = "sub_unit_handling"  # designated to a sub-unit (Art 6)
    SUB_UNIT_REVIEW = "sub_unit_review"  # the sub-unit's result awaits the unit (Art 19)
    FEEDBACK_REVIEW = "feedback_review"  # the agency reviews the feedback (Art 19)
    AWAITING_EVALUATION = "awaiting_evaluation"  # the caller rates it (Art 20)
    UNSATISFIED = "unsatisfied"  # rated unsatisfied: re-handle or close (Art 20)
    REHANDLING = "rehandling"  # second pass (Art 20)
    AWAITING_LEGAL_PROCEDURE = "awaiting_legal_procedure"  # handling waits on it (Art 21 ¶2)
    CLOSED = "closed"


class Rating(StrEnum):
    """The caller's evaluation of compliant feedback (Art 20)."""

    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    UNSATISFIED = "unsatisfied"
    NONE = "none"  # the caller gave no rating


class StepAction(StrEnum):
    """Every workflow step dispatch records and reports to sla (``ticket.stepped.v1``).

    The history's entries and sla's KPIs use these names; nothing matches free text.
    """

    SUBMITTED = "submitted"  # intake handed the call over (Art 13)
    DISPATCHED = "dispatched"  # Art 13
    ACCEPTED = "accepted"  # Art 14
    RETURN_REQUESTED = "return_requested"  # Art 14
    RETURN_APPROVED = "return_approve"  # Art 15(1)
    RETURN_REJECTED = "return_reject"  # Art 15(2)
    RETURN_SEVERAL_UNITS = "return_several_units"  # Art 15(3)
    DETERMINED = "determined"  # Art 16
    DESIGNATED = "designated"  # Art 6
    SUB_UNIT_RESULT = "sub_unit_result"  # Art 6, 19
    SUB_UNIT_RESULT_APPROVED = "sub_unit_result_approved"  # Art 19
    SUB_UNIT_RESULT_SENT_BACK = "sub_unit_result_sent_back"  # Art 19
    FEEDBACK_SUBMITTED = "feedback_submitted"  # Art 19
    FEEDBACK_APPROVED = "feedback_approved"  # Art 19
    FEEDBACK_SENT_BACK = "feedback_sent_back"  # Art 19
    REVISITED = "revisited"  # Art 20: an attempt to reach the caller for their rating
    EVALUATION_INVITED = "evaluation_invited"  # Art 20 ¶2: a rating link sent to the caller
    EVALUATED = "evaluated"  # Art 20
    SENT_BACK_FOR_REHANDLING = "sent_back_for_rehandling"  # Art 20
    CLOSED = "closed"  # the agency closes an unsatisfied ticket it does not send back
    EXTENDED = "extended"  # Art 18
    CALLER_NEW_SITUATION = "caller_new_situation"  # Art 17
    NEW_SITUATION_JUDGED = "new_situation_judged"  # Art 17
    REPEAT_ANSWERED = "repeat_answered"  # Art 22
    LONG_RUNNING_PLAN = "long_running_plan"  # Art 21
    PROGRESS_REPORTED = "progress_reported"  # Art 21
    LEGAL_PROCEDURE_AWAITED = "legal_procedure_awaited"  # Art 21 ¶2
    LEGAL_PROCEDURE_ENDED = "legal_procedure_ended"  # Art 21 ¶2
    DISPATCH_DUE_PASSED = "dispatch_due_passed"  # sla: Art 13 limit missed
    VERIFICATION_DUE_PASSED = "verification_due_passed"  # sla: Art 14 window closed
    HANDLING_DUE_PASSED = "handling_due_passed"  # sla: Art 17 limit missed
    REHANDLING_DUE_PASSED = "rehandling_due_passed"  # sla: Art 20 limit missed
    FINAL_FEEDBACK_DUE_PASSED = "final_feedback_due_passed"  # sla: Art 21 limit missed
    PROGRESS_REPORT_DUE_PASSED = "progress_report_due_passed"  # sla: Art 21 report missed
    CONTACTED = "contacted"  # the unit first contacted the caller (响应)
    CONTACT_DUE_PASSED = "contact_due_passed"  # sla: the contact limit passed
    BREACH_WITHDRAWN = "breach_withdrawn"  # sla: the act was on time, its news came late
    DEADLINE_ADJUSTED = "deadline_adjusted"  # sla: force majeure moved a due time (Art 17)

    @classmethod
    def due_passed(cls, clock: ClockKind) -> StepAction:
        """The step dispatch records when sla reports that ``clock`` fell due."""
        return cls(f"{clock.value}_due_passed")


class Resolution(StrEnum):
    """Whether the problem was solved: as the caller says when rating (解决率), and as the
    agency judges when it reviews the feedback; both are kept."""

    SOLVED = "solved"
    PARTLY_SOLVED = "partly_solved"
    NOT_SOLVED = "not_solved"
    NO_ANSWER = "no_answer"  # the caller did not say (or was not asked)


class ClockAction(StrEnum):
    """What a workflow step does to one of the ticket's clocks."""

    START = "start"  # a new period, unless one is already running
    RESTART = "restart"  # the running period ends; a new full period starts now
    STOP = "stop"  # the period ends (how: its StopKind)
    RESUME = "resume"  # a stopped period runs on to its old due time: no restart (Art 19)


class ClockState(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"


class StopKind(StrEnum):
    """Why a clock run ended. Only COMPLETED counts as the unit's work done (KPIs, Art 24)."""

    COMPLETED = "completed"  # the work the clock times was done (dispatch, feedback, repeat)
    RETURNED = "returned"  # an approved return took the ticket away (Art 15(1))
    RESTARTED = "restarted"  # a new full period replaced this run (Art 15, 17)
    PAUSED = "paused"  # handling waits on a legal procedure: neither done nor late (Art 21 ¶2)


class NoticeKind(StrEnum):
    """What a notification tells its receiver (units, callers, supervisors)."""

    TICKET_ASSIGNED = "ticket_assigned"  # a unit or sub-unit got a ticket (Art 6, 13, 15, 16)
    DUE_SOON = "due_soon"  # a unit's ticket is due within the next working day
    OVERDUE = "overdue"  # a unit's time limit passed (Art 17, 20, 21)
    SUPERVISION_OPENED = "supervision_opened"  # Art 23
    RETURN_DECIDED = "return_decided"  # the agency decided a unit's return (Art 15)
    FEEDBACK_SENT_BACK = "feedback_sent_back"  # feedback or a sub-unit's result sent back (Art 19)
    CALLER_ACCEPTED = "caller_accepted"  # the caller's matter was accepted, with its number
    CALLER_EXTENDED = "caller_extended"  # Art 18: the reason and the new due date
    CALLER_ANSWERED = "caller_answered"  # the answer was fed back; how to rate it (Art 20)
    CALLER_REHANDLING = "caller_rehandling"  # the matter is handled again (Art 20)
    CALLER_CLOSED = "caller_closed"  # the matter was closed
    OVERDUE_DIGEST = "overdue_digest"  # supervisors' daily digest


class ChannelKind(StrEnum):
    """How a notification travels (adapters in shared.channels)."""

    WEBHOOK = "webhook"  # signed POST; 政务微信 / 粤政易 gateways are webhook receivers
    EMAIL = "email"
    SMS = "sms"
    SINK = "sink"  # development: a file, shown in the workbench


class NoticeState(StrEnum):
    QUEUED = "queued"  # waiting for its first or its next attempt
    SENT = "sent"  # the receiver accepted it
    FAILED = "failed"  # given up after its time to live; the reason says why
    SKIPPED = "skipped"  # not sent: the channel or the kind was switched off, no consent
