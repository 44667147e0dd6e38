"""The catalogues every service takes its codes from: categories (two levels) and places.

``shared/reference/categories.json`` is the city's taxonomy: codes are stable English
identifiers, names are the Chinese labels people see. ``shared/reference/districts.json``
lists the districts and their streets and towns (街道/镇) by their official names. Intake,
dispatch's routing rules and sla's limits all take them from here; a value outside them is
refused with the nearest valid choices (天河 → 天河区).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from shared.errors import BadInput
from shared.geo import Point, Ring, in_polygon, wgs84_to_gcj02

SOURCE = Path(__file__).parent / "reference" / "categories.json"
PLACES = Path(__file__).parent / "reference" / "districts.json"
# The districts' outlines (scripts/district_boundaries.py; GCJ-02, to about 100 m).
BOUNDARIES = Path(__file__).parent / "reference" / "district_boundaries.json"


def _nearest(value: str, choices: list[str]) -> list[str]:
    """Choices containing the value (天河 → 天河区), else the closest spellings."""
    containing = [c for c in choices if value and value in c]
    return (containing or difflib.get_close_matches(value, choices, n=3, cutoff=0.4))[:3]


@dataclass(frozen=True)
class Category:
    code: str
    name: str  # the Chinese label
    parent: str | None  # the top-level code of a leaf; None for a top level
    help: str = ""  # what it covers, in a citizen's words (the public form, Open311)
    keywords: tuple[str, ...] = ()
    name_en: str = ""  # the English locale's (the public pages)
    help_en: str = ""


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
        categories[top["code"]] = Category(
            top["code"], top["name"], None, name_en=top.get("name_en", "")
        )
        for leaf in top.get("children", []):
            categories[leaf["code"]] = Category(
                leaf["code"],
                leaf["name"],
                top["code"],
                leaf.get("help", ""),
                tuple(leaf.get("keywords", "").split()),
                leaf.get("name_en", ""),
                leaf.get("help_en", ""),
            )
    return Catalogue(data["version"], categories)


@dataclass(frozen=True)
class Places:
    version: str
    streets: dict[str, tuple[str, ...]]  # district → its streets and towns

    def check_district(self, district: str) -> str:
        if district in self.streets:
            return district
        near = "、".join(_nearest(district, list(self.streets)))
        raise BadInput(
            f"unknown district {district!r}" + (f"; did you mean: {near}" if near else ""),
            zh=f"没有行政区 {district}" + (f"，是否指：{near}" if near else ""),
        )

    def check_street(self, district: str, street: str) -> str:
        streets = self.streets[self.check_district(district)]
        if street in streets:
            return street
        near = "、".join(_nearest(street, list(streets)))
        raise BadInput(
            f"{district} has no street or town {street!r}"
            + (f"; did you mean: {near}" if near else ""),
            zh=f"{district}没有街道（镇）{street}" + (f"，是否指：{near}" if near else ""),
        )


@cache
def places() -> Places:
    """The shipped districts and streets (read once per process)."""
    data = json.loads(PLACES.read_text(encoding="utf-8"))
    return Places(data["version"], {d["name"]: tuple(d["streets"]) for d in data["districts"]})


@cache
def _boundaries() -> list[tuple[str, list[list[Ring]]]]:
    data = json.loads(BOUNDARIES.read_text(encoding="utf-8"))
    return [
        (d["name"], [[[(x, y) for x, y in ring] for ring in polygon] for polygon in d["polygons"]])
        for d in data["districts"]
    ]


def district_at(point: Point) -> str | None:
    """The district a WGS-84 point lies in, or None outside the city. The outlines are drawn
    to about 100 m: within that of a border the answer is a suggestion to confirm."""
    lat, lon = wgs84_to_gcj02(point.lat, point.lon)
    for name, polygons in _boundaries():
        if any(in_polygon(lon, lat, rings) for rings in polygons):
            return name
    return None
