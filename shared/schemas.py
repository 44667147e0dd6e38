"""Pydantic types every service's API shares."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, StringConstraints

from shared.errors import BadInput


def _printable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text may not contain a NUL character")
    return value


def _not_a_number(value: Any) -> Any:
    # Pydantic would read 0.5 as half a second after 1970: a time is written as a time.
    if isinstance(value, int | float) or (
        isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit()
    ):
        raise ValueError("write a time as ISO 8601 with its offset, e.g. 2026-11-24T09:30:00+08:00")
    return value


def _not_a_day_number(value: Any) -> Any:
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        raise ValueError("write a day as YYYY-MM-DD")
    return value


# An instant with its UTC offset, never a bare number (strict where pydantic is lax).
Instant = Annotated[AwareDatetime, BeforeValidator(_not_a_number)]
# A calendar day, never a number of seconds since 1970.
Day = Annotated[date, BeforeValidator(_not_a_day_number)]


# Words a person wrote: a reason, a basis, a note. Surrounding whitespace is dropped, and
# what is left may not be empty: whitespace is not a reason (Art 14, 18, 19, 23).
Words = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1),  # the length: Field(max_length=…)
    AfterValidator(_printable),
]


# The weeks a weekly report may name: its baseline weeks before and its end stay representable.
FIRST_WEEK, LAST_WEEK = date(2000, 1, 3), date(2199, 12, 23)


def week_asked(week: date | None, today: date) -> date:
    """The Monday a weekly report (hotspots, clusters) covers: the one asked for, by default
    the last whole week's; a 422 for another weekday or a week outside 2000–2199."""
    monday = week or today - timedelta(days=today.weekday() + 7)
    if monday.weekday() != 0:
        raise BadInput("week is the Monday a week starts on", zh="week 应为一周的星期一")
    if not FIRST_WEEK <= monday <= LAST_WEEK:
        raise BadInput("week is between 2000 and 2199", zh="week 应在2000年至2199年之间")
    return monday
