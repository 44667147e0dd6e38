"""Hotspots: a category in a district, or in one street of it, whose calls this week rise
well above its own recent weeks (pure; the false-alarm rate and its evaluation are in
docs/kpis.md).

Each (category, district, street) cell's count this week is compared with its previous
``BASELINE_WEEKS`` weeks by the exact test for two Poisson counts: if the rate had not
changed, of the n calls in those weeks together each fell in this week with chance
1/(weeks + 1), so this week's count is Binomial(n, 1/(weeks + 1)); the p-value is the chance
of at least the count seen. Unlike a Poisson test against the past mean, it allows for the
past mean being an estimate itself (which made that test alarm twice as often as it said:
docs/kpis.md). A cell is a hotspot when the p-value is below ``ALPHA`` and the count is at
least ``MIN_COUNT`` (a jump from 0 to 2 is not a hotspot, however unlikely).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# (category, district, street); street None: the whole district.
Cell = tuple[str | None, str | None, str | None]

BASELINE_WEEKS = 8
# Per cell and week. Guangzhou has ~700 (category, district) cells in use, and some 3,000
# (category, street) ones: with nothing changing anywhere, about 0.4 false alarms a week
# city-wide, one a district every six months (docs/kpis.md).
ALPHA = 1e-4
MIN_COUNT = 5


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(Y ≥ k) for Y ~ Binomial(n, p), summed in log space (no underflow for large n)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    log_n = math.lgamma(n + 1)

    def term(i: int) -> float:
        log_choose = log_n - math.lgamma(i + 1) - math.lgamma(n - i + 1)
        return math.exp(log_choose + i * log_p + (n - i) * log_q)

    total = sum(term(i) for i in range(k, n + 1))
    return min(1.0, total)


@dataclass(frozen=True)
class Surge:
    cell: Cell
    count: int  # this week
    baseline: float  # the mean of the previous weeks
    previous: int  # last week's count: growing when this week's is higher
    p_value: float

    @property
    def growing(self) -> bool:
        return self.count > self.previous


def surges(
    weeks: Mapping[Cell, Sequence[int]],
    *,
    alpha: float = ALPHA,
    min_count: int = MIN_COUNT,
) -> list[Surge]:
    """The cells whose last count is a surge over the ``BASELINE_WEEKS`` before it (each
    sequence oldest first; a cell with less history than that is not judged), most
    surprising first."""
    found = []
    for cell, counts in weeks.items():
        if len(counts) < BASELINE_WEEKS + 1:
            continue
        *past, now = counts[-(BASELINE_WEEKS + 1) :]
        if now < min_count:
            continue
        p_value = binomial_tail(now, now + sum(past), 1 / (len(past) + 1))
        if p_value < alpha:
            found.append(Surge(cell, now, round(sum(past) / len(past), 2), past[-1], p_value))
    return sorted(found, key=lambda s: s.p_value)


def weekly_counts(
    rows: Iterable[tuple[int, str | None, str | None, str | None, int]], *, weeks: int
) -> dict[Cell, list[int]]:
    """(week index 0…weeks−1, category, district, street, count) rows as each cell's counts,
    oldest first, with the weeks it had none as 0: every district's cell (all its streets)
    and every street's own."""
    cells: dict[Cell, list[int]] = {}
    for week, category, district, street, count in rows:
        cells.setdefault((category, district, None), [0] * weeks)[week] += count
        if street is not None:
            cells.setdefault((category, district, street), [0] * weeks)[week] += count
    return cells
