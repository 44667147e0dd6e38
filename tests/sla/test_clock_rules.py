"""Clock rules (pure): extensions (Art 18, 20) and which breaches are supervised (Art 23)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sla.clocks.rules import (
    RunningClock,
    breach_withdrawn,
    check_extension,
    supervision_reason,
    working_days_late,
)
from sla.supervision.rules import Reason

from shared.errors import RuleViolation
from shared.vocabulary import ClockKind
from shared.workdays import WorkingCalendar

NOW = datetime(2026, 11, 24, 2, tzinfo=UTC)


def _handling(used=0, due_in=timedelta(days=3)) -> RunningClock:
    return RunningClock(ClockKind.HANDLING, NOW + due_in, used, 2)


def _refusal(handling, *, rehandling=False) -> str:
    with pytest.raises(RuleViolation) as refused:
        check_extension(handling, rehandling=rehandling, now=NOW)
    return refused.value.code


def test_art18_an_extension_before_the_due_time_is_allowed_twice():
    check_extension(_handling(used=0), rehandling=False, now=NOW)
    check_extension(_handling(used=1), rehandling=False, now=NOW)
    assert _refusal(_handling(used=2)) == "extension_limit_reached"


def test_art18_an_extension_at_or_after_the_due_time_is_refused():
    assert _refusal(_handling(due_in=timedelta(0))) == "extension_after_due"
    assert _refusal(_handling(due_in=-timedelta(seconds=1))) == "extension_after_due"


def test_art20_re_handling_is_never_extended():
    assert _refusal(_handling(), rehandling=True) == "no_extension_in_rehandling"
    assert _refusal(None) == "no_running_handling_clock"


def test_art23_1_only_the_units_periods_open_a_supervision_when_late():
    # The handling periods (Art 23(1)), and the time to contact the caller (响应).
    assert {k for k in ClockKind if supervision_reason(k) is Reason.LATE} == {
        ClockKind.HANDLING,
        ClockKind.REHANDLING,
        ClockKind.FINAL_FEEDBACK,
        ClockKind.CONTACT,
    }
    assert supervision_reason(ClockKind.DISPATCH) is None
    assert supervision_reason(ClockKind.VERIFICATION) is None


def test_art21_23_3_a_missed_progress_report_is_supervised_as_long_running_not_late():
    assert supervision_reason(ClockKind.PROGRESS_REPORT) is Reason.LONG_RUNNING


def test_art17_23_a_breach_is_withdrawn_when_the_act_happened_by_the_due_time():
    due = NOW
    assert breach_withdrawn(due, due, act_at=due - timedelta(minutes=1))  # 23:59 feedback
    assert breach_withdrawn(due, due, act_at=due)
    assert not breach_withdrawn(due, due, act_at=due + timedelta(seconds=1))
    assert not breach_withdrawn(None, due, act_at=due - timedelta(days=1))  # nothing to undo


def test_art17_an_act_after_a_limit_in_hours_is_late_by_the_day_under_way():
    calendar = WorkingCalendar.build()
    due_at = datetime(2026, 11, 24, 4, tzinfo=UTC)  # Tuesday 12:00 in Guangzhou: 2 hours' limit
    due_date = date(2026, 11, 24)
    assert working_days_late(calendar, due_at, due_date, due_at) == 0
    assert working_days_late(calendar, due_at + timedelta(hours=3), due_date, due_at) == 1
    # A working-day limit (due Tuesday 24:00): the same act is on time; Wednesday, one late.
    end = datetime(2026, 11, 24, 16, tzinfo=UTC)
    assert working_days_late(calendar, due_at + timedelta(hours=3), due_date, end) == 0
    assert working_days_late(calendar, end + timedelta(hours=1), due_date, end) == 1
