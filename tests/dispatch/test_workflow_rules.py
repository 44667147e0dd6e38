"""The ticket workflow of Art 6, 13–22 as pure transitions: every rule with its article."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from dispatch.workflow.rules import (
    ClockAction,
    ConsultedBody,
    DisputeKind,
    Feedback,
    LegalProcedure,
    Rating,
    ReturnDecision,
    Status,
    Ticket,
    accept,
    await_legal_procedure,
    breach_fields,
    caller_notice,
    check_extension_allowed,
    close,
    close_as_repeat,
    decide_return,
    designate,
    determine,
    dispatch,
    due_soon_notices,
    due_time_fields,
    evaluate,
    legal_procedure_ended,
    new_situation,
    record_contact,
    rehandle,
    report_long_running,
    request_return,
    review_feedback,
    review_sub_unit_result,
    revisit,
    submit_feedback,
    submit_sub_unit_result,
    unit_notices,
)

from shared.errors import BadInput, RuleViolation
from shared.vocabulary import ClockKind, NoticeKind, StepAction, StopKind

NEW = Ticket(status=Status.AWAITING_DISPATCH)
T0 = datetime(2026, 11, 24, 2, tzinfo=UTC)
FEEDBACK = Feedback(
    handling_time="2026-11-24 10:00",
    process="到现场核查施工许可",
    result="责令夜间停工",
    caller_reply="电话告知诉求人",
)


def refused(code: str, action, *args, **kwargs) -> None:
    with pytest.raises(RuleViolation) as error:
        action(*args, **kwargs)
    assert error.value.code == code


def changes(transition) -> set[tuple[ClockAction, ClockKind]]:
    return {(c.action, c.clock) for c in transition.clocks}


def handling(unit="tianhe-urban") -> Ticket:
    return accept(dispatch(NEW, unit=unit).ticket, unit=unit).ticket


def test_art13_14_17_dispatch_starts_the_units_periods_and_its_time_to_contact_the_caller():
    moved = dispatch(NEW, unit="tianhe-urban")
    assert moved.ticket.status is Status.DISPATCHED
    assert moved.ticket.lead_unit == moved.ticket.first_unit == "tianhe-urban"
    assert changes(moved) == {
        (ClockAction.STOP, ClockKind.DISPATCH),
        (ClockAction.RESTART, ClockKind.VERIFICATION),
        (ClockAction.RESTART, ClockKind.HANDLING),
        (ClockAction.RESTART, ClockKind.CONTACT),
    }


def test_art14_only_the_assigned_unit_accepts():
    dispatched = dispatch(NEW, unit="tianhe-urban").ticket
    refused("not_assigned", accept, dispatched, unit="haizhu-urban")
    assert accept(dispatched, unit="tianhe-urban").ticket.status is Status.HANDLING


def test_art14_return_inside_the_verification_window():
    dispatched = dispatch(NEW, unit="tianhe-urban").ticket
    assert (
        request_return(dispatched, unit="tianhe-urban", at=T0).ticket.status
        is Status.RETURN_REQUESTED
    )


def test_art14_return_after_the_window_is_refused():
    late = replace(handling(), verification_open=False)
    refused("return_window_closed", request_return, late, unit="tianhe-urban", at=T0)


def test_art15_1_approved_return_goes_back_to_the_agency_and_restarts_for_the_new_unit():
    asked = request_return(dispatch(NEW, unit="a").ticket, unit="a", at=T0).ticket
    approved = decide_return(asked, decision=ReturnDecision.APPROVE)
    assert approved.ticket.status is Status.AWAITING_DISPATCH
    assert approved.ticket.approved_returns == 1
    assert (ClockAction.START, ClockKind.DISPATCH) in changes(approved)
    redispatched = dispatch(approved.ticket, unit="b")
    assert (ClockAction.RESTART, ClockKind.HANDLING) in changes(redispatched)


def test_art15_2_rejected_return_keeps_the_unit_and_the_period():
    asked = request_return(handling("a"), unit="a", at=T0).ticket
    rejected = decide_return(asked, decision=ReturnDecision.REJECT)
    assert rejected.ticket.status is Status.HANDLING
    assert rejected.ticket.lead_unit == "a"
    assert rejected.clocks == ()


def test_art15_3_several_units_first_receiver_leads_and_the_period_restarts():
    asked = request_return(dispatch(NEW, unit="a").ticket, unit="a", at=T0).ticket
    several = decide_return(
        asked, decision=ReturnDecision.SEVERAL_UNITS, co_handlers=frozenset({"b", "c"})
    )
    assert several.ticket.lead_unit == "a"
    assert several.ticket.co_handlers == {"b", "c"}
    assert changes(several) == {(ClockAction.RESTART, ClockKind.HANDLING)}
    refused(
        "co_handlers_required",
        decide_return,
        asked,
        decision=ReturnDecision.SEVERAL_UNITS,
        co_handlers=frozenset({"a"}),
    )


def test_art15_3_co_handlers_cannot_return_or_feed_back():
    ticket = replace(handling("a"), co_handlers=frozenset({"b"}))
    refused("co_handler_cannot_act", request_return, ticket, unit="b", at=T0)
    refused("co_handler_cannot_act", submit_feedback, ticket, unit="b", feedback=FEEDBACK)
    assert ticket.involves("b")


def test_art16_three_approved_returns_then_a_determined_unit_that_cannot_return():
    ticket = NEW
    for unit in ("a", "b", "c"):
        ticket = dispatch(ticket, unit=unit).ticket
        ticket = request_return(ticket, unit=unit, at=T0).ticket
        ticket = decide_return(ticket, decision=ReturnDecision.APPROVE).ticket
    assert ticket.difficult and ticket.approved_returns == 3
    refused("determination_required", dispatch, ticket, unit="d")
    refused(
        "wrong_body_consulted",
        determine,
        ticket,
        dispute=DisputeKind.APPLICABLE_LAW,
        consulted=ConsultedBody.ESTABLISHMENT_OFFICE,
        unit="b",
    )
    settled = determine(
        ticket,
        dispute=DisputeKind.UNCLEAR_RESPONSIBILITY,
        consulted=ConsultedBody.ESTABLISHMENT_OFFICE,
        unit="b",
        co_handlers=frozenset({"c"}),
    )
    assert settled.ticket.status is Status.DISPATCHED
    assert settled.ticket.lead_unit == settled.ticket.determined_unit == "b"
    assert (ClockAction.RESTART, ClockKind.HANDLING) in changes(settled)
    refused("determined_unit_cannot_return", request_return, settled.ticket, unit="b", at=T0)
    refused("co_handler_cannot_act", request_return, settled.ticket, unit="c", at=T0)


@pytest.mark.parametrize(
    ("dispute", "body"),
    [
        (DisputeKind.CROSS_DISTRICT, ConsultedBody.BUSINESS_GUIDANCE_DEPARTMENT),
        (DisputeKind.UNCLEAR_RESPONSIBILITY, ConsultedBody.ESTABLISHMENT_OFFICE),
        (DisputeKind.APPLICABLE_LAW, ConsultedBody.JUSTICE_BUREAU),
    ],
)
def test_art16_each_dispute_kind_has_its_body(dispute, body):
    difficult = replace(NEW, approved_returns=3)
    assert determine(difficult, dispute=dispute, consulted=body, unit="x").ticket.lead_unit == "x"


def test_art16_an_ordinary_ticket_is_dispatched_not_determined():
    refused(
        "not_difficult",
        determine,
        NEW,
        dispute=DisputeKind.CROSS_DISTRICT,
        consulted=ConsultedBody.BUSINESS_GUIDANCE_DEPARTMENT,
        unit="x",
    )


def test_art6_19_sub_unit_result_must_be_reviewed_before_feedback():
    ticket = designate(
        handling("tianhe-gov"),
        unit="tianhe-gov",
        sub_unit="linhe-street",
        sub_unit_parent="tianhe-gov",
    ).ticket
    assert ticket.status is Status.SUB_UNIT_HANDLING
    refused(
        "sub_unit_result_unreviewed", submit_feedback, ticket, unit="tianhe-gov", feedback=FEEDBACK
    )
    refused("not_designated", submit_sub_unit_result, ticket, sub_unit="shipai-street")
    ticket = submit_sub_unit_result(ticket, sub_unit="linhe-street").ticket
    refused(
        "sub_unit_result_unreviewed", submit_feedback, ticket, unit="tianhe-gov", feedback=FEEDBACK
    )
    sent_back = review_sub_unit_result(ticket, unit="tianhe-gov", approved=False).ticket
    assert sent_back.status is Status.SUB_UNIT_HANDLING
    ticket = submit_sub_unit_result(sent_back, sub_unit="linhe-street").ticket
    ticket = review_sub_unit_result(ticket, unit="tianhe-gov", approved=True).ticket
    assert submit_feedback(ticket, unit="tianhe-gov", feedback=FEEDBACK).ticket.status is (
        Status.FEEDBACK_REVIEW
    )


def test_art19_incomplete_feedback_names_what_is_missing():
    incomplete = Feedback(handling_time="2026-11-24", process=" ", result="已处理", caller_reply="")
    with pytest.raises(RuleViolation) as error:
        submit_feedback(handling(), unit="tianhe-urban", feedback=incomplete)
    assert error.value.code == "feedback_incomplete"
    assert "process" in error.value.message and "caller_reply" in error.value.message


def test_art19_non_compliant_feedback_goes_back_without_restarting_the_period():
    submitted = submit_feedback(handling(), unit="tianhe-urban", feedback=FEEDBACK)
    # The feedback says how the caller was answered: the contact clock stops too, if it ran.
    assert changes(submitted) == {
        (ClockAction.STOP, ClockKind.HANDLING),
        (ClockAction.STOP, ClockKind.CONTACT),
    }
    back = review_feedback(submitted.ticket, compliant=False)
    assert back.ticket.status is Status.HANDLING
    assert changes(back) == {(ClockAction.RESUME, ClockKind.HANDLING)}  # not RESTART


def test_art20_ratings_other_than_unsatisfied_close_the_ticket():
    for rating in (Rating.SATISFIED, Rating.BASICALLY_SATISFIED, Rating.NONE):
        assert _rated(rating).status is Status.CLOSED


def test_art20_rehandling_once_no_extension_no_return():
    unsatisfied = _rated(Rating.UNSATISFIED)
    assert unsatisfied.status is Status.UNSATISFIED
    again = rehandle(unsatisfied)
    assert changes(again) == {(ClockAction.START, ClockKind.REHANDLING)}
    refused(
        "no_extension_in_rehandling",
        check_extension_allowed,
        again.ticket,
        unit="tianhe-urban",
        caller_notified=True,
    )
    refused("no_return_in_rehandling", request_return, again.ticket, unit="tianhe-urban", at=T0)
    second = submit_feedback(again.ticket, unit="tianhe-urban", feedback=FEEDBACK)
    assert (ClockAction.STOP, ClockKind.REHANDLING) in changes(second)
    second_rating = evaluate(
        review_feedback(second.ticket, compliant=True).ticket, rating=Rating.UNSATISFIED
    ).ticket
    refused("rehandling_once", rehandle, second_rating)
    assert close(second_rating).ticket.status is Status.CLOSED


def _rated(rating: Rating) -> Ticket:
    submitted = submit_feedback(handling(), unit="tianhe-urban", feedback=FEEDBACK).ticket
    return evaluate(review_feedback(submitted, compliant=True).ticket, rating=rating).ticket


def test_walk_feedback_rejected_then_unsatisfied_rehandled_and_closed():
    ticket = handling()
    ticket = submit_feedback(ticket, unit="tianhe-urban", feedback=FEEDBACK).ticket
    ticket = review_feedback(ticket, compliant=False).ticket
    assert ticket.status is Status.HANDLING
    ticket = submit_feedback(ticket, unit="tianhe-urban", feedback=FEEDBACK).ticket
    ticket = review_feedback(ticket, compliant=True).ticket
    ticket = evaluate(ticket, rating=Rating.UNSATISFIED).ticket
    ticket = rehandle(ticket).ticket
    ticket = submit_feedback(ticket, unit="tianhe-urban", feedback=FEEDBACK).ticket
    ticket = review_feedback(ticket, compliant=True).ticket
    assert evaluate(ticket, rating=Rating.BASICALLY_SATISFIED).ticket.status is Status.CLOSED


def test_art18_extension_is_asked_by_the_lead_unit_having_told_the_caller():
    check_extension_allowed(handling(), unit="tianhe-urban", caller_notified=True)
    refused(
        "not_assigned",
        check_extension_allowed,
        handling(),
        unit="haizhu-urban",
        caller_notified=True,
    )
    refused(
        "invalid_state",
        check_extension_allowed,
        dispatch(NEW, unit="a").ticket,
        unit="a",
        caller_notified=True,
    )
    refused(
        "caller_not_notified",
        check_extension_allowed,
        handling(),
        unit="tianhe-urban",
        caller_notified=False,
    )


def test_art6_a_unit_designates_only_its_own_sub_units():
    refused(
        "not_own_sub_unit",
        designate,
        handling("tianhe-gov"),
        unit="tianhe-gov",
        sub_unit="beijing-street",
        sub_unit_parent="yuexiu-gov",
    )


def test_art17_new_situation_restarts_only_when_it_affects_handling():
    unit = "tianhe-urban"
    kept = new_situation(handling(), unit=unit, affects_handling=False, caller_told=False)
    assert kept.clocks == ()
    restarted = new_situation(handling(), unit=unit, affects_handling=True, caller_told=True)
    assert changes(restarted) == {(ClockAction.RESTART, ClockKind.HANDLING)}


def test_art17_a_restart_needs_the_caller_told_how_the_situation_affects_handling():
    refused(
        "caller_not_notified",
        new_situation,
        handling(),
        unit="tianhe-urban",
        affects_handling=True,
        caller_told=False,
    )


def test_art22_a_repeat_closes_without_a_handling_process():
    closed = close_as_repeat(dispatch(replace(NEW, repeat=True), unit="a").ticket, unit="a")
    assert closed.ticket.status is Status.CLOSED
    assert changes(closed) == {(ClockAction.STOP, ClockKind.HANDLING)}


def test_art22_only_a_call_intake_recorded_as_a_repeat_is_answered_as_one():
    refused("not_a_repeat", close_as_repeat, dispatch(NEW, unit="a").ticket, unit="a")


def test_actions_in_the_wrong_state_are_refused():
    refused("invalid_state", accept, NEW, unit="a")
    refused("invalid_state", evaluate, handling(), rating=Rating.SATISFIED)
    refused("invalid_state", decide_return, handling(), decision=ReturnDecision.APPROVE)
    refused("invalid_state", dispatch, handling(), unit="b")


def test_art21_long_running_matters_are_reported_by_the_lead_unit():
    reported = report_long_running(handling(), unit="tianhe-urban")
    assert changes(reported) == set()  # Art 21 ¶1: the handling period runs on
    refused("not_assigned", report_long_running, handling(), unit="haizhu-urban")
    refused("invalid_state", report_long_running, NEW, unit="tianhe-urban")


def waiting(unit: str | None = "tianhe-urban") -> Ticket:
    return await_legal_procedure(handling(), procedure=LegalProcedure.LITIGATION, unit=unit).ticket


def test_art21_2_waiting_on_a_legal_procedure_pauses_handling_and_schedules_reports():
    moved = await_legal_procedure(handling(), procedure=LegalProcedure.ARBITRATION, unit=None)
    assert moved.ticket.status is Status.AWAITING_LEGAL_PROCEDURE
    assert moved.ticket.legal_procedure is LegalProcedure.ARBITRATION
    assert {(c.action, c.clock, c.stop_kind) for c in moved.clocks} == {
        (ClockAction.STOP, ClockKind.HANDLING, StopKind.PAUSED),  # neither done nor late
        (ClockAction.START, ClockKind.PROGRESS_REPORT, None),
    }
    # Each report starts the next period; the unit, not a co-handler or stranger, reports.
    reported = report_long_running(waiting(), unit="tianhe-urban")
    assert changes(reported) == {(ClockAction.RESTART, ClockKind.PROGRESS_REPORT)}
    refused("not_assigned", report_long_running, waiting(), unit="haizhu-urban")


def test_art21_2_the_lead_unit_or_the_agency_says_so_and_only_while_handling():
    refused(
        "not_assigned",
        await_legal_procedure,
        handling(),
        procedure=LegalProcedure.OTHER,
        unit="haizhu-urban",
    )
    refused(
        "invalid_state",
        await_legal_procedure,
        dispatch(NEW, unit="a").ticket,
        procedure=LegalProcedure.OTHER,
        unit="a",
    )
    refused(
        "invalid_state", await_legal_procedure, waiting(), procedure=LegalProcedure.OTHER, unit=None
    )
    # Nothing but reports and the procedure's end while it waits.
    refused("invalid_state", submit_feedback, waiting(), unit="tianhe-urban", feedback=FEEDBACK)
    refused(
        "invalid_state",
        check_extension_allowed,
        waiting(),
        unit="tianhe-urban",
        caller_notified=True,
    )
    refused("invalid_state", legal_procedure_ended, handling(), unit="tianhe-urban")


def test_art21_2_final_feedback_is_due_three_days_after_the_procedure_ends():
    ended = legal_procedure_ended(waiting(), unit=None)
    assert ended.ticket.status is Status.HANDLING
    assert {(c.action, c.clock, c.stop_kind) for c in ended.clocks} == {
        (ClockAction.STOP, ClockKind.PROGRESS_REPORT, StopKind.COMPLETED),
        (ClockAction.START, ClockKind.FINAL_FEEDBACK, None),
    }
    # The feedback ends the final-feedback period; sent back, that period resumes (Art 19).
    fed_back = submit_feedback(ended.ticket, unit="tianhe-urban", feedback=FEEDBACK)
    assert changes(fed_back) == {
        (ClockAction.STOP, ClockKind.FINAL_FEEDBACK),
        (ClockAction.STOP, ClockKind.CONTACT),
    }
    sent_back = review_feedback(fed_back.ticket, compliant=False)
    assert changes(sent_back) == {(ClockAction.RESUME, ClockKind.FINAL_FEEDBACK)}
    # The 3 days are the Measures' own: no Art 18 extension of them.
    refused(
        "no_extension_of_final_feedback",
        check_extension_allowed,
        ended.ticket,
        unit="tianhe-urban",
        caller_notified=True,
    )


def test_art21_2_re_handling_can_wait_on_a_procedure_and_after_it_the_period_is_art20s():
    unsatisfied = evaluate(
        review_feedback(
            submit_feedback(handling(), unit="tianhe-urban", feedback=FEEDBACK).ticket,
            compliant=True,
        ).ticket,
        rating=Rating.UNSATISFIED,
    ).ticket
    again = rehandle(unsatisfied).ticket
    paused = await_legal_procedure(again, procedure=LegalProcedure.APPRAISAL, unit=None)
    assert (ClockAction.STOP, ClockKind.REHANDLING) in changes(paused)
    assert legal_procedure_ended(paused.ticket, unit=None).ticket.status is Status.REHANDLING


def test_art14_the_window_closes_at_its_instant_before_sla_says_so():
    due = T0
    ticket = replace(handling(), verification_due_at=due)  # sla's scan has not run yet
    asked = request_return(ticket, unit="tianhe-urban", at=due)  # 24:00 exactly: in time
    assert asked.ticket.status is Status.RETURN_REQUESTED
    late = due + timedelta(minutes=1)
    refused("return_window_closed", request_return, ticket, unit="tianhe-urban", at=late)


def test_art14_before_sla_gives_the_due_time_only_its_word_closes_the_window():
    unknown = replace(handling(), verification_due_at=None)
    request_return(unknown, unit="tianhe-urban", at=T0 + timedelta(days=30))
    closed = replace(unknown, verification_open=False)
    refused("return_window_closed", request_return, closed, unit="tianhe-urban", at=T0)


def test_art14_accepting_stops_the_verification_clock_but_not_the_window():
    dispatched = dispatch(NEW, unit="tianhe-urban").ticket
    accepted = accept(dispatched, unit="tianhe-urban")
    assert changes(accepted) == {(ClockAction.STOP, ClockKind.VERIFICATION)}
    due = replace(accepted.ticket, verification_due_at=T0)
    request_return(due, unit="tianhe-urban", at=T0)  # still inside the window


def test_art16_3_only_a_proposed_principle_is_approved_or_rejected():
    from dispatch.workflow.rules import PrincipleStatus, check_principle_reviewable

    check_principle_reviewable(PrincipleStatus.PROPOSED)
    for status in (None, PrincipleStatus.APPROVED, PrincipleStatus.REJECTED):
        refused("principle_not_proposed", check_principle_reviewable, status)


def test_art20_three_revisits_that_do_not_reach_the_caller_mean_no_rating():
    from dispatch.workflow.rules import REVISITS_BEFORE_NO_RATING, revisit

    waiting = Ticket(status=Status.AWAITING_EVALUATION, lead_unit="a")
    for failed_before in range(REVISITS_BEFORE_NO_RATING - 1):
        assert revisit(waiting, reached=False, failed_before=failed_before).ticket == waiting
    last = revisit(waiting, reached=False, failed_before=REVISITS_BEFORE_NO_RATING - 1)
    assert last.ticket.status is Status.CLOSED
    assert revisit(waiting, reached=True, failed_before=5).ticket == waiting  # rate it now
    refused("invalid_state", revisit, handling(), reached=False, failed_before=0)


def test_the_actions_a_user_may_take_now_are_the_transitions_that_would_pass():
    from dispatch.workflow.rules import Action, available_actions

    dispatched = dispatch(NEW, unit="tianhe-urban").ticket
    as_unit = available_actions(dispatched, unit="tianhe-urban", agency=False, at=T0)
    assert as_unit[Action.ACCEPT] is None and as_unit[Action.RETURN] is None
    assert as_unit[Action.FEEDBACK].code == "invalid_state"  # sign for it first
    assert as_unit[Action.REPEAT_ANSWER].code == "not_a_repeat"  # Art 22
    assert Action.DISPATCH not in as_unit
    stranger = available_actions(dispatched, unit="haizhu-urban", agency=False, at=T0)
    assert stranger[Action.ACCEPT].code == "not_assigned"
    as_agency = available_actions(NEW, unit=None, agency=True, at=T0)
    assert as_agency[Action.DISPATCH] is None and as_agency[Action.REVIEW].code == "invalid_state"
    assert Action.ACCEPT not in as_agency


def test_art6_19_designating_a_sub_unit_and_its_result_are_actions_of_their_own():
    from dispatch.workflow.rules import Action, available_actions

    lead = available_actions(handling(), unit="tianhe-urban", agency=False, at=T0)
    assert lead[Action.DESIGNATE] is None
    assert lead[Action.REVIEW_SUB_UNIT].code == "invalid_state"  # nothing reported yet
    designated = designate(
        handling(), unit="tianhe-urban", sub_unit="tianhe-shipai", sub_unit_parent="tianhe-urban"
    ).ticket
    assert (
        available_actions(designated, unit="tianhe-urban", agency=False, at=T0)[
            Action.DESIGNATE
        ].code
        == "invalid_state"
    )  # one sub-unit at a time
    own = available_actions(designated, unit=None, agency=False, at=T0, sub_unit="tianhe-shipai")
    assert own == {Action.SUB_UNIT_RESULT: None}
    other = available_actions(designated, unit=None, agency=False, at=T0, sub_unit="tianhe-linhe")
    assert other[Action.SUB_UNIT_RESULT].code == "not_designated"
    reported = submit_sub_unit_result(designated, sub_unit="tianhe-shipai").ticket
    after = available_actions(reported, unit="tianhe-urban", agency=False, at=T0)
    assert after[Action.REVIEW_SUB_UNIT] is None
    assert after[Action.FEEDBACK].code == "sub_unit_result_unreviewed"  # Art 19


def test_art18_a_later_handling_due_time_lifts_overdue_and_carries_its_provisional_mark():

    due = datetime(2026, 12, 22, 16, tzinfo=UTC)
    assert due_time_fields(ClockKind.HANDLING, due, provisional=True) == {
        "handling_due_at": due,
        "due_provisional": True,
        "overdue": False,
    }
    # Art 20: re-handling runs against the same handling due time.
    assert due_time_fields(ClockKind.REHANDLING, due, provisional=False)["handling_due_at"] == due
    # Art 21: a periodic progress report sets its own due time, and the matter is not late.
    assert due_time_fields(ClockKind.PROGRESS_REPORT, due, provisional=False) == {
        "progress_due_at": due,
        "overdue": False,
    }


def test_art13_14_dispatch_and_verification_due_times_leave_the_handling_flags_alone():

    due = datetime(2026, 11, 24, 16, tzinfo=UTC)
    assert due_time_fields(ClockKind.DISPATCH, due, provisional=False) == {"dispatch_due_at": due}
    assert due_time_fields(ClockKind.VERIFICATION, due, provisional=False) == {
        "verification_due_at": due
    }


@pytest.mark.parametrize(
    ("clock", "field", "when_breached"),
    [
        ("verification", "verification_open", False),  # Art 14: the window closes
        ("dispatch", "dispatch_overdue", True),  # Art 13
        ("handling", "overdue", True),  # Art 17, 23(1)
        ("rehandling", "overdue", True),  # Art 20
    ],
)
def test_art13_14_17_a_breach_sets_its_flag_and_a_withdrawn_one_lifts_it(
    clock, field, when_breached
):

    assert breach_fields(ClockKind(clock), breached=True) == {field: when_breached}
    assert breach_fields(ClockKind(clock), breached=False) == {field: not when_breached}


ASSIGNED, OVERDUE = NoticeKind.TICKET_ASSIGNED, NoticeKind.OVERDUE


def test_art13_15_a_unit_is_told_when_a_ticket_comes_to_it_and_only_then():
    waiting = Ticket(status=Status.AWAITING_DISPATCH)
    sent = dispatch(waiting, unit="u1", co_handlers=frozenset({"u2"})).ticket
    assert unit_notices(StepAction.DISPATCHED, waiting, sent) == [
        ("u1", ASSIGNED),
        ("u2", ASSIGNED),
    ]
    accepted = accept(sent, unit="u1").ticket
    assert unit_notices(StepAction.ACCEPTED, sent, accepted) == []  # it had it already


def test_art15_the_unit_that_applied_to_return_is_told_the_decision_and_new_units_the_ticket():
    asked = Ticket(status=Status.RETURN_REQUESTED, lead_unit="u1", first_unit="u1")
    for decision, step in (
        (ReturnDecision.APPROVE, StepAction.RETURN_APPROVED),
        (ReturnDecision.REJECT, StepAction.RETURN_REJECTED),
    ):
        after = decide_return(asked, decision=decision).ticket
        assert unit_notices(step, asked, after) == [("u1", NoticeKind.RETURN_DECIDED)]
    several = decide_return(
        asked, decision=ReturnDecision.SEVERAL_UNITS, co_handlers=frozenset({"u3"})
    ).ticket
    assert set(unit_notices(StepAction.RETURN_SEVERAL_UNITS, asked, several)) == {
        ("u3", ASSIGNED),
        ("u1", NoticeKind.RETURN_DECIDED),
    }


def test_art6_19_a_designated_sub_unit_is_told_and_so_is_whoever_gets_work_sent_back():
    handling = Ticket(status=Status.HANDLING, lead_unit="u1", first_unit="u1")
    designated = designate(handling, unit="u1", sub_unit="s1", sub_unit_parent="u1").ticket
    assert unit_notices(StepAction.DESIGNATED, handling, designated) == [("s1", ASSIGNED)]
    review = replace(designated, status=Status.SUB_UNIT_REVIEW)
    back = review_sub_unit_result(review, unit="u1", approved=False).ticket
    assert unit_notices(StepAction.SUB_UNIT_RESULT_SENT_BACK, review, back) == [
        ("s1", NoticeKind.FEEDBACK_SENT_BACK)
    ]
    in_review = replace(
        handling, status=Status.FEEDBACK_REVIEW, status_before_review=Status.HANDLING
    )
    returned = review_feedback(in_review, compliant=False).ticket
    assert unit_notices(StepAction.FEEDBACK_SENT_BACK, in_review, returned) == [
        ("u1", NoticeKind.FEEDBACK_SENT_BACK)
    ]


def test_art20_the_unit_is_told_the_ticket_is_back_for_rehandling():
    unsatisfied = Ticket(status=Status.UNSATISFIED, lead_unit="u1", first_unit="u1")
    again = rehandle(unsatisfied).ticket
    assert unit_notices(StepAction.SENT_BACK_FOR_REHANDLING, unsatisfied, again) == [
        ("u1", ASSIGNED)
    ]


def test_art17_20_21_the_units_handling_it_are_told_of_their_own_limits_passing_only():
    handling = Ticket(status=Status.HANDLING, lead_unit="u1", first_unit="u1")
    with_sub_unit = replace(handling, status=Status.SUB_UNIT_HANDLING, sub_unit="s1")
    for step in (StepAction.HANDLING_DUE_PASSED, StepAction.REHANDLING_DUE_PASSED):
        assert unit_notices(step, handling, handling) == [("u1", OVERDUE)]
        assert unit_notices(step, with_sub_unit, with_sub_unit) == [
            ("u1", OVERDUE),
            ("s1", OVERDUE),
        ]
    # Art 13's limit is the agency's; Art 14's window closing is not the unit's lateness.
    for step in (StepAction.DISPATCH_DUE_PASSED, StepAction.VERIFICATION_DUE_PASSED):
        assert unit_notices(step, handling, handling) == []


def test_art18_19_20_the_caller_is_told_of_an_extension_the_answer_and_re_handling():
    handling = Ticket(status=Status.HANDLING, lead_unit="u1")
    assert caller_notice(StepAction.EXTENDED, handling, handling) is NoticeKind.CALLER_EXTENDED
    review = Ticket(status=Status.FEEDBACK_REVIEW, lead_unit="u1")
    answered = review_feedback(review, compliant=True).ticket
    assert caller_notice(StepAction.FEEDBACK_APPROVED, review, answered) is (
        NoticeKind.CALLER_ANSWERED
    )
    unsatisfied = Ticket(status=Status.UNSATISFIED, lead_unit="u1")
    again = rehandle(unsatisfied).ticket
    assert caller_notice(StepAction.SENT_BACK_FOR_REHANDLING, unsatisfied, again) is (
        NoticeKind.CALLER_REHANDLING
    )
    assert caller_notice(StepAction.ACCEPTED, handling, handling) is None


def test_art20_22_the_caller_is_told_of_a_close_they_did_not_make_by_rating():
    awaiting = Ticket(status=Status.AWAITING_EVALUATION, lead_unit="u1")
    rated = evaluate(awaiting, rating=Rating.SATISFIED).ticket
    assert caller_notice(StepAction.EVALUATED, awaiting, rated) is None  # they just said so
    unreached = revisit(awaiting, reached=False, failed_before=2).ticket
    assert unreached.status is Status.CLOSED
    assert caller_notice(StepAction.REVISITED, awaiting, unreached) is NoticeKind.CALLER_CLOSED
    unsatisfied = Ticket(status=Status.UNSATISFIED, lead_unit="u1")
    assert caller_notice(StepAction.CLOSED, unsatisfied, close(unsatisfied).ticket) is (
        NoticeKind.CALLER_CLOSED
    )
    repeat = Ticket(status=Status.HANDLING, lead_unit="u1", repeat=True)
    answered = close_as_repeat(repeat, unit="u1").ticket
    assert caller_notice(StepAction.REPEAT_ANSWERED, repeat, answered) is NoticeKind.CALLER_CLOSED


def test_the_lead_unit_records_its_contact_with_the_caller_while_it_holds_the_ticket():
    sent = dispatch(NEW, unit="tianhe-urban").ticket
    now = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    when = {"at": now - timedelta(hours=3), "now": now}
    contacted = record_contact(sent, unit="tianhe-urban", **when)
    assert contacted.ticket == sent  # the ticket's state is unchanged
    assert {(c.action, c.clock, c.stop_kind) for c in contacted.clocks} == {
        (ClockAction.STOP, ClockKind.CONTACT, StopKind.COMPLETED)
    }
    refused("not_assigned", record_contact, sent, unit="haizhu-urban", **when)
    refused("invalid_state", record_contact, NEW, unit="tianhe-urban", **when)
    with pytest.raises(BadInput):  # a contact is judged by its time: not one to come
        record_contact(sent, unit="tianhe-urban", at=now + timedelta(minutes=1), now=now)


def test_art15_1_an_approved_return_ends_the_units_time_to_contact_as_returned():
    asked = replace(dispatch(NEW, unit="tianhe-urban").ticket, status=Status.RETURN_REQUESTED)
    approved = decide_return(asked, decision=ReturnDecision.APPROVE)
    assert (ClockAction.STOP, ClockKind.CONTACT, StopKind.RETURNED) in {
        (c.action, c.clock, c.stop_kind) for c in approved.clocks
    }


def test_art17_20_21_the_units_at_work_are_warned_of_their_own_limits_only():
    handling = Ticket(status=Status.HANDLING, lead_unit="u1")
    designated = replace(handling, status=Status.SUB_UNIT_HANDLING, sub_unit="s1")
    soon = NoticeKind.DUE_SOON
    assert due_soon_notices(ClockKind.HANDLING, handling) == [("u1", soon)]
    assert due_soon_notices(ClockKind.REHANDLING, designated) == [("u1", soon), ("s1", soon)]
    assert due_soon_notices(ClockKind.FINAL_FEEDBACK, handling) == [("u1", soon)]
    # The agency's dispatch limit (Art 13), the verification window (Art 14) and the contact
    # limit (as short as the warning) warn no unit; nor does a closed ticket.
    for clock in (ClockKind.DISPATCH, ClockKind.VERIFICATION, ClockKind.CONTACT):
        assert due_soon_notices(clock, handling) == []
    assert due_soon_notices(ClockKind.HANDLING, replace(handling, status=Status.CLOSED)) == []
