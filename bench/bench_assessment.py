"""The assessment at city scale: a month's ranking of every unit and a unit's twelve-month
trend over a year of a million tickets, read from the daily rollups, against the same
answers counted from the raw records (the clock runs and steps sla keeps from the events).

A year (2026) of BENCH_TICKETS (1,000,000) tickets over 270 units, 11 districts and 176
streets is written straight into sla's tables — each with its handling run (nine in ten
closed, a tenth of those late, some still open and breached), its contact run, and for six
in ten an `evaluated` step with a rating and a resolution. Loading them marks every day
stale; the first report recounts them all (timed: the one-off cost), and the rollups are
analysed. Then, after a warm-up, median of 5 runs each:
- the November ranking (`/v1/rankings`' own code: KPIs of every unit for two months) and
  tianhe's trend by month, from the rollups;
- the baseline: the same after marking November (and October) stale again, i.e. counted from
  the records first — what every read would cost without rollups.
Run: `.venv/bin/python bench/bench_assessment.py` (embedded PostgreSQL in .data/bench-pg, or
BENCH_DATABASE_URL). Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "services")]

from sla.assessment.service import ranking as month_ranking  # noqa: E402
from sla.dashboard import rollup, service  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.bench_sla import database_url  # noqa: E402
from shared.db import make_engine, make_sessionmaker, session_scope  # noqa: E402
from shared.migrations import upgrade  # noqa: E402

TICKETS = int(os.environ.get("BENCH_TICKETS", "1000000"))
UNITS = 270
STREET = "'street-' || (n % 11) || '-' || (n / 11 % 16)"  # 16 streets a district: 176

SEED = f"""
TRUNCATE sla.clock, sla.ticket_step, sla.report_day, sla.report_stale_day CASCADE;
INSERT INTO sla.clock (ticket_id, kind, state, unit_id, ticket_type, category, district,
    street, started_at, working_days, due_date, due_at, provisional, max_extensions,
    extension_working_days, limit_rule_id, breached_at, stopped_at, stop_kind,
    working_days_late)
SELECT 'T' || n, k.kind,
    CASE WHEN n % 10 = 0 THEN 'running' ELSE 'stopped' END,
    'unit-' || (n % {UNITS}), 'complaint', 'cat-' || (n % 40), 'district-' || (n % 11),
    {STREET}, s.at, k.days, sla.gz_date(s.at) + k.days * 7 / 5,
    s.at + k.days * interval '1.4 days', false, 0, 0, 1,
    CASE WHEN n % 10 = 0 AND n % 20 = 0 THEN s.at + k.days * interval '1.4 days' END,
    CASE WHEN n % 10 <> 0 THEN s.at + k.days * interval '1.2 days' END,
    CASE WHEN n % 10 <> 0 THEN 'completed' END,
    CASE WHEN n % 10 <> 0 THEN (n % 100 = 1)::int * 2 END
FROM generate_series(1, {TICKETS}) n
CROSS JOIN LATERAL (SELECT timestamptz '2026-01-01 00:00+08'
    + (n::float / {TICKETS}) * interval '364 days' AS at) s
CROSS JOIN (VALUES ('handling', 10), ('contact', 1)) k(kind, days);
INSERT INTO sla.ticket_step (ticket_id, number, at, action, unit_id, ticket_type, category,
    district, street, details)
SELECT 'T' || n, 'GZ' || n, s.at + interval '15 days', 'evaluated', 'unit-' || (n % {UNITS}),
    'complaint', 'cat-' || (n % 40), 'district-' || (n % 11), {STREET},
    jsonb_build_object(
        'rating', (ARRAY['satisfied', 'basically_satisfied', 'unsatisfied'])[n % 3 + 1],
        'resolution', (ARRAY['solved', 'partly_solved', 'not_solved', 'no_answer'])[n % 4 + 1])
FROM generate_series(1, {TICKETS}) n
CROSS JOIN LATERAL (SELECT timestamptz '2026-01-01 00:00+08'
    + (n::float / {TICKETS}) * interval '364 days' AS at) s
WHERE n % 10 < 6;
ANALYZE sla.clock;
ANALYZE sla.ticket_step;
"""
STALE = (
    "INSERT INTO sla.report_stale_day (day)"
    " SELECT d::date FROM generate_series({}, {}, interval '1 day') d"
)


async def median_ms(sessions, work: Callable[..., Awaitable[object]], before: str = "") -> float:
    samples = []
    async with session_scope(sessions) as session:
        await work(session)  # a warm-up: the first read of fresh rows also sets their hint bits
    for _ in range(5):
        async with session_scope(sessions) as session:
            if before:
                await session.execute(text(before))
        started = time.perf_counter()
        async with session_scope(sessions) as session:
            await work(session)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def run(url: str) -> None:
    engine = make_engine(url, pool_size=2, application_name="bench-assessment")
    sessions = make_sessionmaker(engine)
    try:
        started = time.perf_counter()
        async with session_scope(sessions) as session:
            for statement in SEED.split(";\n"):
                if statement.strip():
                    await session.execute(text(statement))
        seeded = time.perf_counter() - started
        started = time.perf_counter()
        async with session_scope(sessions) as session:
            days = await rollup.refresh(session)
        recounted = time.perf_counter() - started
        # What autovacuum does in service: statistics of the freshly written rollups (without
        # them the first plans scan more than they need).
        async with session_scope(sessions) as session:
            await session.execute(text("ANALYZE sla.report_day"))
            await session.execute(text("ANALYZE sla.report_unit_day"))
        print(f"{TICKETS:,} tickets over {UNITS} units in 2026: written in {seeded:.1f} s;")
        print(f"the first report recounted {days} stale days in {recounted:.1f} s (once)")

        async def ranking(session) -> object:
            return await month_ranking(session, "2026-11", None)

        async def trend(session) -> object:
            first, last = date(2026, 1, 1), date(2026, 12, 31)
            return await service.trend(
                session, unit="unit-7", by="month", from_date=first, to_date=last, district=None
            )

        months = STALE.format("date '2026-10-01'", "date '2026-11-30'")
        year = STALE.format("date '2026-01-01'", "date '2026-12-31'")
        rows = [
            ("November ranking, every unit", ranking, months),
            ("a unit's trend, 12 months", trend, year),
        ]
        print(f"{'':34}{'rollups ms':>12}{'from records ms':>17}{'ratio':>8}")
        for name, work, stale in rows:
            fast = await median_ms(sessions, work)
            slow = await median_ms(sessions, work, before=stale)
            print(f"{name:34}{fast:12.1f}{slow:17.1f}{slow / fast:7.1f}×")
    finally:
        await engine.dispose()


def main() -> None:
    url = database_url()
    upgrade("sla", url)  # runs its own event loop: before ours starts
    asyncio.run(run(url))


if __name__ == "__main__":
    main()
