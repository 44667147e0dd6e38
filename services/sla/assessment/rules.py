"""The monthly assessment of units (Art 24) as pure functions: a score from a unit's KPIs
with the city's weights (data: weights.json), a ranking, and what cost a unit its points."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

WEIGHTS = Path(__file__).with_name("weights.json")


@dataclass(frozen=True)
class Measure:
    name: str
    weight: float
    better: Literal["higher", "lower"]

    def earned(self, rate: float) -> float:
        """The share of this measure's weight a rate earns."""
        return rate if self.better == "higher" else 1 - rate


@dataclass(frozen=True)
class Weights:
    measures: tuple[Measure, ...]
    deductions: Mapping[str, float]


@cache
def weights(path: Path = WEIGHTS) -> Weights:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Weights(
        measures=tuple(
            Measure(name, float(m["weight"]), m["better"]) for name, m in data["measures"].items()
        ),
        deductions={k: float(v) for k, v in data["deductions"].items()},
    )


@dataclass(frozen=True)
class Line:
    """One measure of a unit's score: its rate, the points it earned and lost (of 100)."""

    measure: str
    rate: float
    weight: float
    earned: float
    lost: float


@dataclass(frozen=True)
class Score:
    unit: str
    score: float | None  # None: nothing to assess this month
    lines: tuple[Line, ...]
    deducted: float


def score(kpis: Mapping[str, Any], w: Weights) -> Score:
    """A unit's score of 100: each measure with a rate earns its weight's share, the weights
    of those present scaled to 100; then the deductions (each supervision), down to 0."""
    present = [(m, float(kpis[m.name])) for m in w.measures if kpis.get(m.name) is not None]
    total = sum(m.weight for m, _ in present)
    if not total:
        return Score(kpis["unit"], None, (), 0.0)
    lines = tuple(
        Line(
            measure=m.name,
            rate=rate,
            weight=round(100 * m.weight / total, 2),
            earned=round(100 * m.weight * m.earned(rate) / total, 2),
            lost=round(100 * m.weight * (1 - m.earned(rate)) / total, 2),
        )
        for m, rate in present
    )
    deducted = sum(float(kpis.get(name) or 0) * points for name, points in w.deductions.items())
    raw = 100 * sum(m.weight * m.earned(rate) for m, rate in present) / total
    return Score(kpis["unit"], round(max(0.0, raw - deducted), 2), lines, round(deducted, 2))


def ranks(scores: Sequence[Score]) -> dict[str, int]:
    """Rank 1 is the highest score; equal scores share a rank and the next rank skips (1, 2,
    2, 4); units with nothing to assess are not ranked."""
    ranked = sorted((s for s in scores if s.score is not None), key=lambda s: -(s.score or 0))
    found: dict[str, int] = {}
    for position, s in enumerate(ranked, start=1):
        tie = position > 1 and ranked[position - 2].score == s.score
        found[s.unit] = found[ranked[position - 2].unit] if tie else position
    return found


def month_bounds(month: str) -> tuple[date, date]:
    """The first and last day of a month written YYYY-MM."""
    first = date.fromisoformat(f"{month}-01")
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def previous_month(month: str) -> str:
    first, _ = month_bounds(month)
    return f"{first - timedelta(days=1):%Y-%m}"
