"""Routing (pure): which unit a ticket goes to, and why that one (Art 13, 16)."""

import pytest
from dispatch.directory.rules import Route, category_matches, suggest_route


def _route(id_, category, district, unit, priority=10):
    return Route(id_, category, district, unit, priority)


def test_art13_a_top_level_rule_covers_its_leaves_and_no_other_category():
    assert category_matches("noise", "noise.construction")
    assert category_matches(None, "noise.construction")
    assert not category_matches("noise", "noiseless.thing")  # a prefix is not a parent
    assert not category_matches("noise.construction", "noise")
    assert not category_matches("noise", None)


def test_art13_the_higher_priority_wins_over_a_more_specific_rule():
    routes = [
        _route(1, "noise.construction", "天河区", "tianhe-urban", priority=10),
        _route(2, None, None, "city-hotline-office", priority=50),
    ]
    assert suggest_route(routes, category="noise.construction", district="天河区").unit_id == (
        "city-hotline-office"
    )


@pytest.mark.parametrize(
    ("category", "district", "unit"),
    [
        ("noise.construction", "天河区", "tianhe-urban"),  # leaf and district
        ("noise.commercial", "天河区", "tianhe-gov"),  # the top level, with district
        ("noise.commercial", "海珠区", "city-eco"),  # the top level, any district
        ("water.supply", "海珠区", "city-hotline-office"),  # only the catch-all
    ],
)
def test_art13_at_equal_priority_the_most_specific_rule_wins(category, district, unit):
    routes = [
        _route(1, None, None, "city-hotline-office"),
        _route(2, "noise", None, "city-eco"),
        _route(3, "noise", "天河区", "tianhe-gov"),
        _route(4, "noise.construction", "天河区", "tianhe-urban"),
    ]
    assert suggest_route(routes, category=category, district=district).unit_id == unit


def test_art13_ties_go_to_the_older_rule_and_nothing_matching_is_no_suggestion():
    routes = [_route(7, "noise", None, "newer"), _route(3, "noise", None, "older")]
    assert suggest_route(routes, category="noise.traffic", district=None).unit_id == "older"
    assert suggest_route(routes, category="water.supply", district=None) is None
