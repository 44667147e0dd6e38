"""Pydantic types every service's API shares."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, StringConstraints


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
