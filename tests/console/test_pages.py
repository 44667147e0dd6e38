"""The workbench's own rules of presentation (pure)."""

from datetime import date

from console.admin import schedule_warning
from console.app import told
from hotline_client.models import TimeLeft


def test_next_years_schedule_is_asked_for_from_december():
    assert schedule_warning(date(2026, 11, 30), {2026}) is None
    december = schedule_warning(date(2026, 12, 1), {2026})
    assert december is not None and december.startswith("2027年的节假日安排尚未载入")
    assert schedule_warning(date(2026, 12, 1), {2026, 2027}) is None
    this_year = schedule_warning(date(2027, 3, 1), {2026})
    assert this_year is not None and this_year.startswith("2027年")


def test_time_left_is_said_in_working_days_or_hours():
    def left(days: int, hours: float | None, late: int) -> str:
        return told(
            TimeLeft(
                due_at="2026-12-08T00:00:00+08:00",
                working_days_left=days,
                hours_left=hours,
                working_days_late=late,
            )
        )

    assert left(3, None, 0) == "剩余 3 个工作日"
    assert left(0, 5.5, 0) == "今日到期，剩余 5.5 小时"
    assert left(0, None, 2) == "已超期 2 个工作日"


def test_a_row_is_red_once_late_and_amber_on_its_last_day():
    from console.app import urgency

    def left(days: int, hours: float | None, late: int) -> TimeLeft:
        return TimeLeft(
            due_at="2026-12-08T00:00:00+08:00",
            working_days_left=days,
            hours_left=hours,
            working_days_late=late,
        )

    assert urgency(left(0, None, 1)) == "overdue"
    assert urgency(left(0, 3.0, 0)) == "due-today"
    assert urgency(left(2, None, 0)) == ""
    assert urgency(None) == ""  # no due time yet
