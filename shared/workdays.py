"""Working days and the deadline arithmetic of the Measures (pure: no I/O, no clock).

A working day (工作日) is Monday–Friday, minus statutory holidays, plus make-up working days
(调休上班日). Years come from the ``chinesecalendar`` package, or from the official schedule an
administrator loaded (which wins); a year with neither is assumed to follow the weekday rule
and every deadline that depends on it is **provisional**.

Counting rule (Art 13, 14, 17; Civil Code Art 201): a period of n working days starts the day
after the event's calendar day in Asia/Shanghai and ends at 24:00 of its nth working day.
Answers come from an index built once per calendar: the working days in order, and for every
calendar day how many working days fall up to it — a deadline is two list look-ups, never a
day-by-day walk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import NamedTuple

from shared.clock import SHANGHAI

FIRST_YEAR = 2004  # the first year chinesecalendar knows
LAST_YEAR = 2100  # beyond it nobody can need a hotline deadline from this code
FIRST_ORDINAL = date(FIRST_YEAR, 1, 1).toordinal()

HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


class DayKind(StrEnum):
    WORKDAY = "workday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"
    MAKEUP_WORKDAY = "makeup_workday"  # 调休上班日: a Saturday or Sunday worked


class DaySource(StrEnum):
    PACKAGE = "package"  # chinesecalendar
    LOADED = "loaded"  # the official schedule loaded by an administrator
    ASSUMED = "assumed"  # no schedule: weekday rule, deadlines provisional


@dataclass(frozen=True)
class YearSchedule:
    """One year's statutory holidays and make-up working days, each with its name."""

    year: int
    holidays: Mapping[date, str]
    makeup_workdays: Mapping[date, str]
    source: DaySource = DaySource.LOADED


@dataclass(frozen=True)
class Day:
    date: date
    kind: DayKind
    source: DaySource
    name: str | None = None

    @property
    def is_working(self) -> bool:
        return self.kind in (DayKind.WORKDAY, DayKind.MAKEUP_WORKDAY)


class Deadline(NamedTuple):
    """When a period ends: 24:00 Asia/Shanghai of ``due_date`` for one in working days (a
    contact limit in hours ends within ``due_date``); provisional if an unscheduled year is
    involved."""

    # A tuple, not a frozen dataclass: built for every clock a step starts, it is a third of
    # a deadline's cost as a dataclass.
    due_date: date
    due_at: datetime
    provisional: bool


def end_of_day(day: date) -> datetime:
    """24:00 of ``day`` in Guangzhou, i.e. the next midnight, as an aware datetime."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI)


def due_day(due_at: datetime) -> date:
    """The day whose 24:00 a due time is (the inverse of :func:`end_of_day`): 24:00 is the
    next day's first instant, so the due day is the one before it."""
    return local_date(due_at - timedelta(microseconds=1))


def local_date(instant: datetime) -> date:
    """The calendar day in Guangzhou on which an instant (in any offset) falls."""
    if instant.tzinfo is None:
        raise ValueError("a timezone-aware instant is required")
    return instant.astimezone(SHANGHAI).date()


def package_schedules() -> dict[int, YearSchedule]:
    """The years chinesecalendar covers, as schedules."""
    from chinese_calendar import constants

    years: dict[int, tuple[dict[date, str], dict[date, str]]] = {}
    for day, name in constants.holidays.items():
        years.setdefault(day.year, ({}, {}))[0][day] = HOLIDAY_NAMES_ZH.get(name, name)
    for day, name in constants.workdays.items():
        years.setdefault(day.year, ({}, {}))[1][day] = HOLIDAY_NAMES_ZH.get(name, name)
    return {
        year: YearSchedule(year, holidays, makeups, DaySource.PACKAGE)
        for year, (holidays, makeups) in years.items()
    }


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days from 2004 to 2100 with O(log n) deadline arithmetic."""

    schedules: Mapping[int, YearSchedule]
    # The working days, in order.
    _workdays: list[date] = field(init=False, repr=False, compare=False)
    # For each calendar day from FIRST_YEAR (by ordinal offset): working days up to and
    # including it, i.e. the position in _workdays of the first working day after it.
    _worked_by: list[int] = field(init=False, repr=False, compare=False)
    # 24:00 of each working day, as the aware instant a deadline carries.
    _ends: list[datetime] = field(init=False, repr=False, compare=False)
    # For each year from FIRST_YEAR: how many years before it have no schedule.
    _unscheduled_before: list[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        working, worked_by = [], []
        day = date(FIRST_YEAR, 1, 1)
        last = date(LAST_YEAR, 12, 31)
        while day <= last:
            if self.day(day).is_working:
                working.append(day)
            worked_by.append(len(working))
            day += timedelta(days=1)
        unscheduled = [0]
        for year in range(FIRST_YEAR, LAST_YEAR + 1):
            unscheduled.append(unscheduled[-1] + (not self.is_scheduled(year)))
        object.__setattr__(self, "_workdays", working)
        object.__setattr__(self, "_worked_by", worked_by)
        object.__setattr__(self, "_ends", [end_of_day(d) for d in working])
        object.__setattr__(self, "_unscheduled_before", unscheduled)

    @classmethod
    def build(cls, loaded: Iterable[YearSchedule] = ()) -> WorkingCalendar:
        """The package's years, overridden and extended by the loaded ones."""
        schedules = package_schedules()
        schedules.update({schedule.year: schedule for schedule in loaded})
        return cls(schedules)

    def is_scheduled(self, year: int) -> bool:
        return year in self.schedules

    def day(self, day: date) -> Day:
        """What kind of day ``day`` is, and where that comes from."""
        schedule = self.schedules.get(day.year)
        if schedule is None:
            kind = DayKind.WORKDAY if day.weekday() < 5 else DayKind.WEEKEND
            return Day(day, kind, DaySource.ASSUMED)
        if day in schedule.holidays:
            return Day(day, DayKind.HOLIDAY, schedule.source, schedule.holidays[day])
        if day in schedule.makeup_workdays:
            return Day(day, DayKind.MAKEUP_WORKDAY, schedule.source, schedule.makeup_workdays[day])
        kind = DayKind.WORKDAY if day.weekday() < 5 else DayKind.WEEKEND
        return Day(day, kind, schedule.source)

    def is_working_day(self, day: date) -> bool:
        self._check_range(day)
        offset = day.toordinal() - FIRST_ORDINAL
        return self._worked_by[offset] > (self._worked_by[offset - 1] if offset else 0)

    def add_working_days(self, day: date, working_days: int) -> date:
        """The ``working_days``-th working day after ``day`` (``day`` itself never counts)."""
        return self._workdays[self._position_after(day, working_days)]

    def _position_after(self, day: date, working_days: int) -> int:
        """Where in the index the ``working_days``-th working day after ``day`` is."""
        if working_days < 1:
            raise ValueError("a period is at least one working day")
        self._check_range(day)
        position = self._worked_by[day.toordinal() - FIRST_ORDINAL] + working_days - 1
        if position >= len(self._workdays):
            raise ValueError(f"{working_days} working days after {day} is past {LAST_YEAR}")
        return position

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days fall after ``start`` up to and including ``end``."""
        self._check_range(start)
        self._check_range(end)
        if end <= start:
            return 0
        return (
            self._worked_by[end.toordinal() - FIRST_ORDINAL]
            - self._worked_by[start.toordinal() - FIRST_ORDINAL]
        )

    def is_provisional(self, start: date, end: date) -> bool:
        """Whether any year from ``start`` to ``end`` has no schedule (weekday rule assumed)."""
        if not FIRST_YEAR <= start.year <= end.year <= LAST_YEAR:
            return any(not self.is_scheduled(year) for year in range(start.year, end.year + 1))
        before = self._unscheduled_before
        return before[end.year - FIRST_YEAR + 1] > before[start.year - FIRST_YEAR]

    def deadline(self, event_at: datetime, working_days: int) -> Deadline:
        """Due time of a period of ``working_days`` counted from an event (Art 13, 14, 17)."""
        return self._deadline_after(local_date(event_at), working_days)

    def extend(self, due_date: date, working_days: int) -> Deadline:
        """A due day moved on by ``working_days`` after the current due day (Art 18)."""
        return self._deadline_after(due_date, working_days)

    def _deadline_after(self, start: date, working_days: int) -> Deadline:
        position = self._position_after(start, working_days)
        due = self._workdays[position]
        before = self._unscheduled_before  # both years are in the calendar's range here
        provisional = before[due.year - FIRST_YEAR + 1] > before[start.year - FIRST_YEAR]
        return Deadline(due, self._ends[position], provisional)

    def remaining_working_days(self, now: datetime, due_date: date) -> int:
        """Whole working days left after today until the due day (0 when due today or late)."""
        return self.working_days_between(local_date(now), due_date)

    def is_due_today(self, now: datetime, due_date: date) -> bool:
        return local_date(now) == due_date

    def working_days_late(self, now: datetime, due_date: date) -> int:
        """Working days past 24:00 of the due day, counting the working day under way or next.

        A Friday deadline missed on Saturday is one working day late, as on Monday.
        """
        if now < end_of_day(due_date):
            return 0
        today = local_date(now)
        if not self.is_working_day(today):
            today = self.add_working_days(today, 1)
        return self.working_days_between(due_date, today)

    def _check_range(self, day: date) -> None:
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise ValueError(f"{day} is outside the calendar ({FIRST_YEAR}–{LAST_YEAR})")
