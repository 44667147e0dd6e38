"""The words the services exchange: what one emits, the other handles or says it ignores."""

import pytest
from dispatch.workflow import rules
from pydantic import ValidationError
from sla.dashboard.rollup import KPI_STEPS, UNCOUNTED_STEPS

from shared.events import ClockChange, TicketStepped
from shared.vocabulary import ClockAction, ClockKind, StepAction, StopKind


def test_every_step_dispatch_can_emit_is_counted_or_declared_uncounted_by_sla():
    assert not KPI_STEPS & UNCOUNTED_STEPS
    assert set(StepAction) == KPI_STEPS | UNCOUNTED_STEPS


def test_every_clock_due_passed_has_its_step():
    assert {StepAction.due_passed(kind) for kind in ClockKind} <= set(StepAction)


def test_a_stop_must_say_how_the_run_ended():
    with pytest.raises(ValidationError):
        ClockChange(action=ClockAction.STOP, clock=ClockKind.HANDLING, reason="x")
    with pytest.raises(ValidationError):
        ClockChange(
            action=ClockAction.START,
            clock=ClockKind.HANDLING,
            reason="x",
            stop_kind=StopKind.COMPLETED,
        )


def test_an_unknown_step_is_refused_on_the_wire():
    with pytest.raises(ValidationError):
        TicketStepped.model_validate(
            {
                "ticket_id": "T1",
                "ticket_type": "complaint",
                "action": "return_upheld",
                "at": "2026-11-24T10:00:00+08:00",
            }
        )


def test_every_stop_in_the_workflow_rules_names_its_kind():
    """Each transition's clock changes are valid wire changes (a stop without a kind is not)."""
    ticket = rules.Ticket(status=rules.Status.FEEDBACK_REVIEW, lead_unit="u")
    transitions = [
        rules.dispatch(rules.Ticket(status=rules.Status.AWAITING_DISPATCH), unit="u"),
        rules.decide_return(
            rules.Ticket(status=rules.Status.RETURN_REQUESTED, lead_unit="u"),
            decision=rules.ReturnDecision.APPROVE,
        ),
        rules.submit_feedback(
            rules.Ticket(status=rules.Status.HANDLING, lead_unit="u"),
            unit="u",
            feedback=rules.Feedback("today", "visited", "fixed", "phoned"),
        ),
        rules.review_feedback(ticket, compliant=False),
        rules.close_as_repeat(
            rules.Ticket(status=rules.Status.HANDLING, lead_unit="u", repeat=True), unit="u"
        ),
    ]
    for transition in transitions:
        for change in transition.clocks:
            ClockChange(
                action=change.action,
                clock=change.clock,
                reason=change.reason,
                stop_kind=change.stop_kind,
            )
