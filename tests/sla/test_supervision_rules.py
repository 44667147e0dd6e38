"""Art 23 supervision rules, pure."""

import pytest
from sla.supervision.rules import check_answerable, check_open

from shared.errors import Forbidden, RuleViolation


def test_art23_only_the_unit_addressed_answers():
    check_answerable(addressed_to="tianhe-urban", unit="tianhe-urban", closed=False)
    with pytest.raises(Forbidden):
        check_answerable(addressed_to="tianhe-urban", unit="haizhu-urban", closed=False)


def test_art23_a_closed_supervision_takes_no_answer_and_no_second_closing():
    with pytest.raises(RuleViolation) as refused:
        check_answerable(addressed_to="tianhe-urban", unit="tianhe-urban", closed=True)
    assert refused.value.code == "supervision_closed"
    with pytest.raises(RuleViolation):
        check_open(closed=True)


def test_art23_a_supervision_of_whitespace_is_refused():
    from pydantic import ValidationError
    from sla.supervision.schemas import SupervisionCreate

    with pytest.raises(ValidationError):
        SupervisionCreate(
            ticket_id="T1", unit_id="tianhe-urban", reason="other", method="phone", note="  "
        )
