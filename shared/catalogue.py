"""The category catalogue (two levels), the one list every service takes categories from.

``shared/reference/categories.json`` is the city's taxonomy: codes are stable English
identifiers, names are the Chinese labels people see. Intake's classifier, dispatch's
routing rules and sla's limits all name categories from it; a code outside it is refused
with the nearest valid choices.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from shared.errors import BadInput

SOURCE = Path(__file__).parent / "reference" / "categories.json"


@dataclass(frozen=True)
class Category:
    code: str
    name: str  # the Chinese label
    parent: str | None  # the top-level code of a leaf; None for a top level


@dataclass(frozen=True)
class Catalogue:
    version: str
    categories: dict[str, Category]

    def check(self, code: str) -> Category:
        """The category of ``code``, or a 422 naming the nearest codes (and their labels)."""
        found = self.categories.get(code)
        if found is not None:
            return found
        by_label = [c.code for c in self.categories.values() if code and code in c.name]
        near = by_label or difflib.get_close_matches(code, list(self.categories), n=3)
        hint = "; ".join(f"{c} ({self.categories[c].name})" for c in near[:3])
        raise BadInput(
            f"unknown category {code!r}" + (f"; did you mean: {hint}" if hint else ""),
            zh=f"没有事项分类 {code}" + (f"，是否指：{hint}" if hint else ""),
        )


@cache
def catalogue() -> Catalogue:
    """The shipped catalogue (read once per process)."""
    data = json.loads(SOURCE.read_text(encoding="utf-8"))
    categories: dict[str, Category] = {}
    for top in data["categories"]:
        categories[top["code"]] = Category(top["code"], top["name"], None)
        for leaf in top.get("children", []):
            categories[leaf["code"]] = Category(leaf["code"], leaf["name"], top["code"])
    return Catalogue(data["version"], categories)
