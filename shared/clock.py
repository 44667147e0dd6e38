"""The one source of "now" for every service.

Domain code never calls ``datetime.now()``: it takes the clock (or the ``now`` it gives)
so that tests, and a development stack, can move time across working days without sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock:
    """Real time plus an offset that only a non-production stack may move."""

    def __init__(self, *, movable: bool, source: Callable[[], datetime] | None = None) -> None:
        self._movable = movable
        self._source = source or (lambda: datetime.now(UTC))
        self._offset = timedelta(0)

    @property
    def movable(self) -> bool:
        return self._movable

    @property
    def offset(self) -> timedelta:
        return self._offset

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        return self._source() + self._offset

    def advance(self, delta: timedelta) -> datetime:
        """Move time forward (never back: deadlines and histories assume it only grows)."""
        if not self._movable:
            raise PermissionError("this clock cannot be moved")
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        self._offset += delta
        return self.now()


class FixedClock(Clock):
    """A clock that stands still until moved: the test clock."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        super().__init__(movable=True, source=lambda: start.astimezone(UTC))
