"""Pydantic types every service's API shares."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints


def _printable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text may not contain a NUL character")
    return value


# Words a person wrote: a reason, a basis, a note. Surrounding whitespace is dropped, and
# what is left may not be empty: whitespace is not a reason (Art 14, 18, 19, 23).
Words = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1),  # the length: Field(max_length=…)
    AfterValidator(_printable),
]
