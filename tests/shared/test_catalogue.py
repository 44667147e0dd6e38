"""One category catalogue: every category the suite ships or accepts comes from it."""

import csv
import json
from pathlib import Path

import pytest

from shared.catalogue import catalogue
from shared.errors import BadInput

ROOT = Path(__file__).resolve().parents[2]


def test_every_category_the_suite_ships_is_in_the_catalogue():
    known = set(catalogue().categories)
    rules = json.loads(
        (ROOT / "services/dispatch/directory/reference/routing_rules.json").read_text()
    )
    routed = {r["category"] for r in rules["rules"] if r.get("category")}
    trained = set()
    for path in (ROOT / "services/intake/classify").glob("*/*.tsv"):  # corpus and evaluation
        with path.open() as handle:
            trained |= {r["category"] for r in csv.DictReader(handle, delimiter="\t")}
    trained.discard("emergency")
    assert routed and trained
    assert routed <= known, routed - known
    assert trained <= known, trained - known


def test_every_leaf_has_its_top_level_and_a_chinese_label():
    categories = catalogue().categories
    for category in categories.values():
        assert category.name and not category.name.isascii()
        if category.parent is not None:
            assert categories[category.parent].parent is None
            assert category.code.startswith(category.parent + ".")


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [("noise.constructon", "noise.construction"), ("施工噪声", "noise.construction")],
)
def test_an_unknown_code_is_refused_with_the_nearest_choices(typed, suggested):
    with pytest.raises(BadInput) as refused:
        catalogue().check(typed)
    assert suggested in refused.value.message


def test_every_place_the_directory_and_the_gazetteer_name_is_in_the_catalogue():
    from shared.catalogue import places

    streets = places().streets
    units = json.loads((ROOT / "services/dispatch/directory/reference/units.json").read_text())
    gazetteer = json.loads((ROOT / "services/intake/classify/gazetteer.json").read_text())
    assert len(streets) == 11  # Guangzhou's districts
    for unit in units["units"]:
        if unit.get("district"):
            assert unit["district"] in streets, unit
        if unit.get("street"):
            assert unit["street"] in streets[unit["district"]], unit
    assert {d["name"] for d in gazetteer["districts"]} == set(streets)


@pytest.mark.parametrize(
    ("district", "street", "suggested"),
    [
        ("天河", None, "天河区"),  # free text where a name is expected
        ("Tianhe", None, None),
        ("天河区", "林和", "林和街道"),
        ("海珠区", "林和街道", None),  # a street of another district
    ],
)
def test_places_outside_the_catalogue_are_refused_with_the_nearest(district, street, suggested):
    from shared.catalogue import places

    with pytest.raises(BadInput) as refused:
        if street is None:
            places().check_district(district)
        else:
            places().check_street(district, street)
    if suggested:
        assert suggested in refused.value.zh and suggested in refused.value.message
