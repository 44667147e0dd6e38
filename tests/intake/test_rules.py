"""How a call may end and when a caller's note is forwarded (pure rules, Art 11, 13, 17, 22)."""

import pytest
from intake.tickets.rules import (
    Disposition,
    Outcome,
    check_note_allowed,
    check_outcome,
    receiving_line,
)

from shared.errors import BadInput, RuleViolation
from shared.vocabulary import TicketType


def ending(**changes):
    values = {
        "outcome": Outcome.SUBMITTED,
        "ticket_type": TicketType.COMPLAINT,
        "disposition": Disposition.NORMAL,
        "emergency_number": None,
        "told_caller": None,
        "related_ticket_id": None,
        "kb_entry_id": None,
    }
    values.update(changes)
    check_outcome(**values)


def test_art13_an_ordinary_matter_is_submitted():
    ending()


@pytest.mark.parametrize("number", ["110", "119", "120", "122", "12395"])
def test_art11_1_an_emergency_is_transferred_to_its_number(number):
    """The four numbers the article names, and the lines its 等 covers (12395 at sea)."""
    ending(
        outcome=Outcome.CLOSED_AT_INTAKE,
        disposition=Disposition.EMERGENCY,
        emergency_number=number,
        told_caller="已转接",
    )


@pytest.mark.parametrize(
    "changes",
    [
        {
            "outcome": Outcome.CLOSED_AT_INTAKE,
            "disposition": Disposition.EMERGENCY,
            "emergency_number": "12345",
            "told_caller": "x",
        },  # Art 11(1): not an emergency line
        {"outcome": Outcome.CLOSED_AT_INTAKE, "disposition": Disposition.LEGAL_CHANNEL},
        {
            "outcome": Outcome.CLOSED_AT_INTAKE,
            "disposition": Disposition.IN_PROGRESS,
            "told_caller": "x",
        },  # Art 11(4): which ticket?
        {
            "outcome": Outcome.CLOSED_AT_INTAKE,
            "disposition": Disposition.NORMAL,
            "told_caller": "x",
        },
        {"disposition": Disposition.CONFIDENTIAL},  # Art 11(5) matters are not dispatched
        {"disposition": Disposition.REPEAT},  # Art 22: link the earlier ticket
        {"outcome": Outcome.ANSWERED, "kb_entry_id": "kb1", "told_caller": "x"},  # Art 13(1)
        {"outcome": Outcome.ANSWERED, "ticket_type": TicketType.CONSULTATION},
    ],
)
def test_endings_the_measures_do_not_allow_are_refused(changes):
    with pytest.raises(BadInput):
        ending(**changes)


def test_art22_a_repeat_is_submitted_linked_to_the_earlier_ticket():
    ending(disposition=Disposition.REPEAT, related_ticket_id="t0")


def test_art17_notes_go_only_to_dispatched_open_tickets():
    check_note_allowed(outcome="submitted", status="handling")
    with pytest.raises(RuleViolation) as not_dispatched:
        check_note_allowed(outcome="answered", status="answered")
    with pytest.raises(RuleViolation) as closed:
        check_note_allowed(outcome="submitted", status="closed")
    assert (not_dispatched.value.code, closed.value.code) == ("not_dispatched", "ticket_closed")


def test_art11_1_every_emergency_line_has_its_chinese_name():
    from intake.tickets.rules import EMERGENCY_LINES

    assert {"110", "119", "120", "122"} <= set(EMERGENCY_LINES)
    assert all(name and not name.isascii() for name in EMERGENCY_LINES.values())


def test_art11_4_and_22_a_call_links_only_to_the_same_callers_ticket_in_the_right_state():
    from intake.tickets.rules import check_related

    check_related(disposition=Disposition.REPEAT, related_status="closed", same_caller=True)
    check_related(disposition=Disposition.IN_PROGRESS, related_status="handling", same_caller=True)
    for disposition, status, same, code in (
        (Disposition.REPEAT, "handling", True, "repeat_of_open_ticket"),
        (Disposition.IN_PROGRESS, "closed", True, "in_progress_ticket_closed"),
        (Disposition.REPEAT, "closed", False, "related_ticket_of_another_caller"),
        (Disposition.IN_PROGRESS, "handling", False, "related_ticket_of_another_caller"),
    ):
        with pytest.raises(RuleViolation) as refused:
            check_related(disposition=disposition, related_status=status, same_caller=same)
        assert refused.value.code == code


def test_art7_an_agent_answers_its_own_line_and_transfers_to_another():
    line, transferred_from = receiving_line(
        agent_unit=None, transfer_to=None, outcome=Outcome.SUBMITTED
    )
    assert (line.number, line.unit_id, transferred_from) == ("12345", None, None)
    line, _ = receiving_line(
        agent_unit="subcentre-12315", transfer_to=None, outcome=Outcome.ANSWERED
    )
    assert (line.number, line.unit_id) == ("12315", "subcentre-12315")
    line, transferred_from = receiving_line(
        agent_unit=None, transfer_to="95598", outcome=Outcome.SUBMITTED
    )
    assert (line.unit_id, transferred_from and transferred_from.number) == ("dual-95598", "12345")
    back, came_from = receiving_line(
        agent_unit="subcentre-12333", transfer_to="12345", outcome=Outcome.SUBMITTED
    )
    assert (back.unit_id, came_from and came_from.number) == (None, "12333")


@pytest.mark.parametrize(
    ("agent_unit", "transfer_to", "outcome"),
    [
        ("tianhe-urban", None, Outcome.SUBMITTED),  # a unit that answers no line
        (None, "12306", Outcome.SUBMITTED),  # not a line of the platform
        (None, "12345", Outcome.SUBMITTED),  # onto the line it came in on
        (None, "12333", Outcome.CLOSED_AT_INTAKE),  # a transfer is handled there
    ],
)
def test_art7_transfers_the_measures_do_not_know_are_refused(agent_unit, transfer_to, outcome):
    with pytest.raises(BadInput):
        receiving_line(agent_unit=agent_unit, transfer_to=transfer_to, outcome=outcome)
