"""An official year's schedule (pure): what a loaded year must look like."""

from datetime import date

import pytest
from sla.calendar.rules import NamedDay, validate_year_schedule

from shared.errors import BadInput

NEW_YEAR = NamedDay(date(2027, 1, 1), "元旦")
MAKEUP_SUNDAY = NamedDay(date(2027, 2, 7), "春节")  # a Sunday


def test_a_well_formed_year_is_accepted_with_its_names():
    schedule = validate_year_schedule(2027, [NEW_YEAR], [MAKEUP_SUNDAY])
    assert schedule.holidays == {date(2027, 1, 1): "元旦"}
    assert schedule.makeup_workdays == {date(2027, 2, 7): "春节"}


@pytest.mark.parametrize(
    ("holidays", "makeups", "names"),
    [
        ([NamedDay(date(2026, 12, 31), "元旦")], [], "2026-12-31"),  # outside the year
        ([NamedDay(date(2027, 1, 1), " ")], [], "2027-01-01"),  # no name
        ([NEW_YEAR, NEW_YEAR], [], "twice"),
        ([NamedDay(date(2027, 2, 7), "春节")], [MAKEUP_SUNDAY], "both"),
        ([], [NamedDay(date(2027, 2, 8), "春节")], "weekday"),  # a Monday cannot be made up
    ],
)
def test_a_malformed_year_is_refused_naming_what_is_wrong(holidays, makeups, names):
    with pytest.raises(BadInput) as refused:
        validate_year_schedule(2027, holidays, makeups)
    assert names in refused.value.message


def test_a_year_outside_the_calendar_range_is_refused():
    with pytest.raises(BadInput):
        validate_year_schedule(1999, [], [])
