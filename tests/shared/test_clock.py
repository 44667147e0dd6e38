from datetime import UTC, datetime, timedelta

import pytest

from shared.clock import Clock, FixedClock


def test_fixed_clock_stands_still_until_moved():
    clock = FixedClock(datetime(2026, 1, 5, 9, tzinfo=UTC))
    assert clock.now() == clock.now() == datetime(2026, 1, 5, 9, tzinfo=UTC)
    clock.advance(timedelta(days=3))
    assert clock.now() == datetime(2026, 1, 8, 9, tzinfo=UTC)


def test_time_never_moves_back():
    clock = FixedClock(datetime(2026, 1, 5, tzinfo=UTC))
    with pytest.raises(ValueError):
        clock.advance(timedelta(seconds=-1))


def test_production_clock_cannot_be_moved():
    clock = Clock(movable=False)
    with pytest.raises(PermissionError):
        clock.advance(timedelta(days=1))


def test_clock_is_timezone_aware_utc():
    assert Clock(movable=False).now().utcoffset() == timedelta(0)


def test_naive_start_is_refused():
    with pytest.raises(ValueError):
        FixedClock(datetime(2026, 1, 5))
