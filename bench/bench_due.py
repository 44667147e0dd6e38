"""Due-time computations per second: the working-day index against a day-by-day walk.

Both sides answer the same (event time, working days) inputs; the script checks that
their answers agree, then prints each rate and the ratio. Run: `make bench`.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

import chinese_calendar

from shared.clock import SHANGHAI
from shared.workdays import WorkingCalendar, end_of_day

INPUTS = 20_000


def walk_due_at(event_at: datetime, working_days: int) -> datetime:
    """The baseline: step a day at a time, asking chinesecalendar about each."""
    day = event_at.astimezone(SHANGHAI).date()
    while working_days:
        day += timedelta(days=1)
        working_days -= chinese_calendar.is_workday(day)
    return end_of_day(day)


def inputs(count: int, lengths: tuple[int, ...]) -> list[tuple[datetime, int]]:
    rng = random.Random(191)
    span = (datetime(2025, 12, 1, tzinfo=UTC) - datetime(2004, 1, 1, tzinfo=UTC)).total_seconds()
    start = datetime(2004, 1, 1, tzinfo=UTC)
    return [
        (start + timedelta(seconds=rng.uniform(0, span)), rng.choice(lengths)) for _ in range(count)
    ]


def rate(function, cases) -> tuple[float, list[datetime]]:
    started = time.perf_counter()
    answers = [function(event_at, n) for event_at, n in cases]
    return len(cases) / (time.perf_counter() - started), answers


def main() -> None:
    built = time.perf_counter()
    calendar = WorkingCalendar.build()
    build_ms = (time.perf_counter() - built) * 1000
    print(f"{INPUTS} event times 2004-2025 per row; answers identical on every row")
    print(f"index build (once per calendar change): {build_ms:.0f} ms")
    print(f"{'working days':<14}{'index /s':>12}{'walk /s':>12}{'ratio':>9}")
    for label, lengths in (("1", (1,)), ("10", (10,)), ("1/2/3/10/20", (1, 2, 3, 10, 20))):
        cases = inputs(INPUTS, lengths)
        index_rate, index_answers = rate(lambda e, n: calendar.deadline(e, n).due_at, cases)
        walk_rate, walk_answers = rate(walk_due_at, cases)
        assert index_answers == walk_answers, "the two methods disagree"
        print(f"{label:<14}{index_rate:>12,.0f}{walk_rate:>12,.0f}{index_rate / walk_rate:>8.1f}x")


if __name__ == "__main__":
    main()
