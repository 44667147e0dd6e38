"""Shared API types: words, instants and days are strict where pydantic is lax."""

import pytest
from pydantic import TypeAdapter, ValidationError

from shared.schemas import Day, Instant, Words


@pytest.mark.parametrize("value", ["0.5", 0.5, "1764000000", "2026-11-24T09:30:00"])
def test_an_instant_is_never_a_number_nor_without_its_offset(value):
    with pytest.raises(ValidationError):
        TypeAdapter(Instant).validate_python(value)


def test_an_instant_with_its_offset_is_read():
    read = TypeAdapter(Instant).validate_python("2026-11-24T09:30:00+08:00")
    assert read.utcoffset() is not None


@pytest.mark.parametrize("value", ["20261124", 20261124, 0])
def test_a_day_is_never_a_number(value):
    with pytest.raises(ValidationError):
        TypeAdapter(Day).validate_python(value)


@pytest.mark.parametrize("value", ["", "   ", "\u3000", "a\x00b"])
def test_words_are_neither_blank_nor_nul(value):
    with pytest.raises(ValidationError):
        TypeAdapter(Words).validate_python(value)


async def test_a_poll_filter_of_half_a_second_is_refused(make_app, client_for):
    from shared.auth import Role

    async with client_for(make_app("dispatch"), Role.UNIT, "tianhe-urban") as unit:
        answer = await unit.get("/v1/units/tianhe-urban/tickets", params={"due_before": "0.5"})
    assert answer.status_code == 422
