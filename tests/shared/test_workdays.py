"""Working days and deadlines (Art 13, 14, 17, 18; Civil Code Art 201)."""

from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.workdays import (
    DayKind,
    DaySource,
    WorkingCalendar,
    YearSchedule,
    end_of_day,
)

GZ = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkingCalendar.build()


@cache
def _reference_is_workday(day: date) -> bool:
    """Independent reference: the package where it has data, else Monday–Friday."""
    if day.year <= 2026:
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def _reference_add(day: date, working_days: int) -> date:
    while working_days:
        day += timedelta(days=1)
        working_days -= _reference_is_workday(day)
    return day


def test_art13_14_17_due_date_matches_a_day_by_day_walk_for_every_day_2004_to_2026():
    differences = []
    day = date(2004, 1, 1)
    while day <= date(2026, 12, 31):
        for n in (1, 2, 3, 10, 20):
            if CALENDAR.add_working_days(day, n) != _reference_add(day, n):
                differences.append((day, n))
        day += timedelta(days=1)
    assert differences == []


def _gz(*args: int) -> datetime:
    return datetime(*args, tzinfo=GZ)


@pytest.mark.parametrize(
    ("event_at", "working_days", "due_date"),
    [
        # Art 13: a call on National Day is dispatched by the first working day after the holiday.
        (_gz(2026, 10, 1, 10, 0), 1, date(2026, 10, 8)),
        # A make-up Saturday (调休上班日) is a working day: Friday's call is due on it.
        (_gz(2026, 10, 9, 15, 0), 1, date(2026, 10, 10)),
        # Received on the make-up Saturday: counting starts on Sunday (not working).
        (_gz(2026, 10, 10, 9, 0), 2, date(2026, 10, 13)),
        # Art 17(2): ten working days across the Spring Festival and both make-up Saturdays.
        (_gz(2026, 2, 12, 9, 0), 10, date(2026, 3, 4)),
        # Received on a Saturday: the first working day is Monday.
        (_gz(2026, 11, 28, 9, 0), 2, date(2026, 12, 1)),
        # 23:59 and 00:00 local time fall on different days.
        (_gz(2026, 11, 23, 23, 59), 1, date(2026, 11, 24)),
        (_gz(2026, 11, 24, 0, 0), 1, date(2026, 11, 25)),
        # In UTC across Guangzhou's midnight: 15:59Z is still Monday there, 16:30Z is Tuesday.
        (datetime(2026, 11, 23, 15, 59, tzinfo=UTC), 1, date(2026, 11, 24)),
        (datetime(2026, 11, 23, 16, 30, tzinfo=UTC), 1, date(2026, 11, 25)),
        # The example: 2026-09-30T16:30Z is 1 October in Guangzhou.
        (datetime(2026, 9, 30, 16, 30, tzinfo=UTC), 2, date(2026, 10, 9)),
    ],
)
def test_art14_17_period_starts_the_day_after_receipt_and_ends_at_24_00(
    event_at, working_days, due_date
):
    deadline = CALENDAR.deadline(event_at, working_days)
    assert deadline.due_date == due_date
    assert deadline.due_at == datetime.combine(
        due_date + timedelta(days=1), datetime.min.time(), tzinfo=GZ
    )
    assert deadline.due_at.utcoffset() == timedelta(hours=8)
    assert not deadline.provisional


def test_deadline_into_an_unscheduled_year_is_provisional_on_the_weekday_rule():
    deadline = CALENDAR.deadline(_gz(2026, 12, 28, 10, 0), 10)
    # 29, 30, 31 Dec; 1 Jan 2027 assumed a working Friday; 4–8 Jan; 11 Jan.
    assert deadline.due_date == date(2027, 1, 11)
    assert deadline.provisional


def test_loading_a_year_overrides_the_assumption_and_makes_deadlines_final():
    loaded = WorkingCalendar.build([YearSchedule(2027, {date(2027, 1, 1): "元旦"}, {})])
    deadline = loaded.deadline(_gz(2026, 12, 28, 10, 0), 10)
    assert deadline.due_date == date(2027, 1, 12)
    assert not deadline.provisional
    assert loaded.day(date(2027, 1, 1)).kind is DayKind.HOLIDAY
    assert loaded.day(date(2027, 1, 1)).source is DaySource.LOADED


def test_a_loaded_year_overrides_the_package():
    corrected = WorkingCalendar.build([YearSchedule(2026, {}, {})])  # a correction, say
    assert corrected.day(date(2026, 10, 1)).kind is DayKind.WORKDAY
    assert corrected.day(date(2026, 10, 1)).source is DaySource.LOADED
    assert CALENDAR.day(date(2026, 10, 1)).kind is DayKind.HOLIDAY
    assert CALENDAR.day(date(2026, 10, 1)).name == "国庆节"


def test_day_kinds_and_sources():
    assert CALENDAR.day(date(2026, 10, 10)).kind is DayKind.MAKEUP_WORKDAY
    assert CALENDAR.day(date(2026, 11, 28)).kind is DayKind.WEEKEND
    assert CALENDAR.day(date(2026, 11, 23)).kind is DayKind.WORKDAY
    assert CALENDAR.day(date(2026, 11, 23)).source is DaySource.PACKAGE
    assert CALENDAR.day(date(2030, 1, 1)).source is DaySource.ASSUMED


def test_art18_extension_counts_after_the_current_due_day():
    extended = CALENDAR.extend(date(2026, 11, 25), 10)
    assert extended.due_date == date(2026, 12, 9)
    assert extended.due_at == _gz(2026, 12, 10, 0, 0)


def test_remaining_due_today_and_late():
    due = date(2026, 11, 27)  # a Friday
    assert CALENDAR.remaining_working_days(_gz(2026, 11, 24, 9, 0), due) == 3
    assert CALENDAR.is_due_today(_gz(2026, 11, 27, 23, 59), due)
    assert CALENDAR.remaining_working_days(_gz(2026, 11, 27, 23, 59), due) == 0
    assert CALENDAR.working_days_late(_gz(2026, 11, 27, 23, 59), due) == 0
    assert CALENDAR.working_days_late(_gz(2026, 11, 28, 0, 0), due) == 1  # Saturday
    assert CALENDAR.working_days_late(_gz(2026, 11, 30, 9, 0), due) == 1  # Monday
    assert CALENDAR.working_days_late(_gz(2026, 12, 1, 9, 0), due) == 2


def test_invalid_periods_and_dates_are_refused():
    with pytest.raises(ValueError):
        CALENDAR.add_working_days(date(2026, 1, 5), 0)
    with pytest.raises(ValueError):
        CALENDAR.add_working_days(date(1999, 1, 5), 1)
    with pytest.raises(ValueError):
        CALENDAR.deadline(datetime(2026, 1, 5, 9), 1)  # naive: which timezone?


def test_end_of_day_is_the_next_local_midnight():
    assert end_of_day(date(2026, 12, 31)) == _gz(2027, 1, 1, 0, 0)


instants = st.datetimes(
    min_value=datetime(2004, 1, 1), max_value=datetime(2060, 12, 31), timezones=st.just(UTC)
)
periods = st.integers(min_value=1, max_value=60)


@settings(max_examples=300, deadline=None)
@given(instants, instants, periods)
def test_property_monotonic_in_event_time(first, second, n):
    early, late = sorted((first, second))
    assert CALENDAR.deadline(early, n).due_at <= CALENDAR.deadline(late, n).due_at


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=date(2004, 1, 1), max_value=date(2060, 12, 31)), periods, periods)
def test_property_adding_a_then_b_equals_adding_a_plus_b(day, a, b):
    assert CALENDAR.add_working_days(CALENDAR.add_working_days(day, a), b) == (
        CALENDAR.add_working_days(day, a + b)
    )


@settings(max_examples=300, deadline=None)
@given(instants, periods)
def test_property_due_day_is_a_working_day_and_counts_back(event_at, n):
    deadline = CALENDAR.deadline(event_at, n)
    assert CALENDAR.day(deadline.due_date).is_working
    start = event_at.astimezone(GZ).date()
    assert CALENDAR.working_days_between(start, deadline.due_date) == n
