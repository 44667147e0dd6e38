"""Which limit a clock gets (Art 13, 14, 17, 18, 20, 21) — pure rules."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sla.time_limits.rules import (
    ResolvedLimit,
    TimeLimitRule,
    due,
    resolve_limit,
    validate_new_rule,
)

from shared.errors import BadInput, NotFound
from shared.vocabulary import ClockKind
from shared.workdays import WorkingCalendar

IN_FORCE = datetime(2022, 10, 31, 16, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


def rule(id, kind, days, *, type=None, category=None, extensions=0, since=IN_FORCE):
    return TimeLimitRule(id, ClockKind(kind), type, category, days, extensions, since)


DEFAULTS = [
    rule(1, "dispatch", 1),
    rule(2, "verification", 2),
    rule(3, "handling", 2, type="consultation", extensions=2),
    rule(4, "handling", 10, extensions=2),
    rule(5, "final_feedback", 3),
]


def resolve(kind, type="complaint", category=None, rules=DEFAULTS, at=NOW):
    return resolve_limit(
        rules, clock_kind=ClockKind(kind), ticket_type=type, category=category, at=at
    )


def test_art13_dispatch_is_one_working_day():
    assert resolve("dispatch").working_days == 1


def test_art14_verification_is_two_working_days():
    assert resolve("verification").working_days == 2


def test_art17_consultation_two_other_types_ten():
    assert resolve("handling", "consultation").working_days == 2
    for ticket_type in ("help_request", "complaint", "report", "suggestion"):
        assert resolve("handling", ticket_type).working_days == 10


def test_art18_extension_is_the_handling_length_at_most_twice():
    for ticket_type, days in (("consultation", 2), ("complaint", 10)):
        limit = resolve("handling", ticket_type)
        assert (limit.extension_working_days, limit.max_extensions) == (days, 2)


def test_art20_rehandling_has_the_handling_length_and_no_extension():
    limit = resolve("rehandling", "complaint")
    assert (limit.working_days, limit.max_extensions) == (10, 0)
    assert resolve("rehandling", "consultation").working_days == 2


def test_art21_final_feedback_is_three_working_days():
    assert resolve("final_feedback").working_days == 3


def test_art17_a_category_limit_beats_the_type_and_default_limits():
    rules = [*DEFAULTS, rule(6, "handling", 5, category="noise", extensions=1)]
    assert resolve("handling", "complaint", "noise", rules).working_days == 5
    assert resolve("handling", "complaint", "housing", rules).working_days == 10
    assert resolve("handling", "consultation", "noise", rules).working_days == 5


def test_art17_a_change_reaches_only_clocks_started_after_it():
    tomorrow = NOW + timedelta(days=1)
    rules = [*DEFAULTS, rule(6, "handling", 7, since=tomorrow, extensions=2)]
    assert resolve("handling", rules=rules, at=NOW).working_days == 10
    assert resolve("handling", rules=rules, at=tomorrow).working_days == 7


def test_no_rule_in_force_is_not_found():
    with pytest.raises(NotFound):
        resolve("dispatch", at=IN_FORCE - timedelta(days=1))


def _validate(kind="handling", days=10, extensions=2, effective_from=NOW):
    validate_new_rule(
        clock_kind=ClockKind(kind),
        working_days=days,
        max_extensions=extensions,
        effective_from=effective_from,
        now=NOW,
    )


def test_a_valid_new_limit_passes():
    _validate()
    _validate(kind="dispatch", days=1, extensions=0, effective_from=NOW + timedelta(days=3))


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ({"extensions": 3}, "Art 18"),
        ({"kind": "dispatch", "days": 1, "extensions": 1}, "Art 18"),
        ({"kind": "rehandling"}, "Art 20"),
        ({"days": 0}, "working_days"),
        ({"effective_from": NOW - timedelta(seconds=1)}, "running clocks"),
    ],
)
def test_limits_the_measures_do_not_allow_are_refused(options, why):
    with pytest.raises(BadInput, match=why):
        _validate(**options)


def test_a_contact_limit_may_be_hours_only_for_contact_and_shorter_than_a_day():
    """The time to contact the caller (响应) is the city's own measure: it may be set in
    hours for urgent matters; the Measures' periods (Art 13, 14, 17) stay in working days."""
    hours = {"clock_kind": ClockKind.CONTACT, "working_days": 0, "max_extensions": 0,
             "effective_from": NOW, "now": NOW}  # fmt: skip
    validate_new_rule(**hours, hours=2)
    with pytest.raises(BadInput, match="only the time to contact"):
        validate_new_rule(**{**hours, "clock_kind": ClockKind.HANDLING}, hours=2)
    for wrong in ({"hours": 24}, {"hours": 0}, {"hours": 2, "working_days": 1}):
        with pytest.raises(BadInput, match="hours is 1–23"):
            validate_new_rule(**{**hours, **wrong})


def test_a_limit_in_hours_runs_round_the_clock_and_one_in_days_ends_at_2400():
    calendar = WorkingCalendar.build()
    saturday_night = datetime(2026, 11, 28, 14, tzinfo=UTC)  # Saturday 22:00 in Guangzhou
    urgent = ResolvedLimit(ClockKind.CONTACT, 0, 0, 0, rule_id=9, hours=2)
    usual = ResolvedLimit(ClockKind.CONTACT, 1, 0, 1, rule_id=8)
    assert due(calendar, saturday_night, urgent) == (
        date(2026, 11, 29),  # Sunday 00:00 in Guangzhou
        datetime(2026, 11, 28, 16, tzinfo=UTC),
        False,
    )
    # One working day from a Saturday: Monday's 24:00.
    assert due(calendar, saturday_night, usual).due_at == datetime(2026, 11, 30, 16, tzinfo=UTC)
