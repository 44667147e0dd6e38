"""Which unit a ticket should go to (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    """A routing rule: ``None`` matches any category or district."""

    id: int
    category: str | None
    district: str | None
    unit_id: str
    priority: int


def category_matches(rule_category: str | None, category: str | None) -> bool:
    """A rule for ``noise`` covers ``noise.construction``; ``None`` covers everything."""
    if rule_category is None:
        return True
    return category is not None and (
        category == rule_category or category.startswith(rule_category + ".")
    )


def suggest_route(
    routes: Iterable[Route], *, category: str | None, district: str | None
) -> Route | None:
    """The matching rule with the highest priority, then the most specific one.

    Specific means a deeper category first, then a named district over any district.
    """
    matching = [
        r
        for r in routes
        if category_matches(r.category, category) and r.district in (None, district)
    ]
    if not matching:
        return None
    return max(
        matching,
        key=lambda r: (
            r.priority,
            0 if r.category is None else r.category.count(".") + 1,
            r.district is not None,
            -r.id,
        ),
    )
