"""sla at city scale: one million clocks; breach-scan and dashboard query times, and the
scan itself breaching what fell due.

Each query runs with the project's indexes and, as the baseline, with index use switched
off (what a scan without the due-time index costs), side by side, and prints the ratio.
Then the service's own scan (``sla.clocks.tasks.scan_once``: a batch per transaction, as the
scheduler runs it) breaches the 10,000 newly due clocks — change records, supervisions and
events to dispatch included — and the script prints how long that took; run it on two trees
to compare implementations. Run: `make bench` (embedded PostgreSQL in .data/bench-pg, or
BENCH_DATABASE_URL).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
from sla.clocks.service import due_clocks
from sla.clocks.tasks import scan_once
from sla.dashboard.service import GROUPS, Filters, due_soon_window, overdue_window
from sqlalchemy import and_, func, select
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

from shared import embedded_pg
from shared.clock import FixedClock
from shared.db import asyncpg_dsn, make_engine, make_sessionmaker
from shared.migrations import upgrade
from shared.outbox import Outbox

CLOCKS = 1_000_000
DAY = timedelta(days=1)
DUE_NOW = 10_000
ROOT = Path(__file__).resolve().parents[1]


def statement(query: Any) -> tuple[str, list[Any]]:
    """The SQL and arguments asyncpg receives for a statement the services build."""
    compiled = query.compile(
        dialect=asyncpg_dialect.dialect(), compile_kwargs={"render_postcompile": True}
    )
    return str(compiled), [compiled.params[name] for name in compiled.positiontup or []]


def scan(at: datetime) -> tuple[str, list[Any]]:
    """The breach scan's own statement (sla.clocks.service.due_clocks)."""
    return statement(due_clocks(at))


def dashboard(window: Any) -> tuple[str, list[Any]]:
    """A dashboard's count by unit in a window, as sla.dashboard.service.grouped builds it."""
    where = and_(*Filters().conditions(), window)
    column = GROUPS["unit"]
    return statement(
        select(column, func.count()).where(where).group_by(column).order_by(func.count().desc())
    )


def database_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    _, url = embedded_pg.start(ROOT / ".data" / "bench-pg", database="hotline_bench")
    return url


async def seed(connection: asyncpg.Connection) -> None:
    """A million open clocks across 200 units: 100,000 breached and still open (overdue),
    10,000 due but not yet scanned, the rest due within the next 60 days."""
    await connection.execute("TRUNCATE sla.clock CASCADE")
    await connection.execute(
        f"""
        INSERT INTO sla.clock (ticket_id, kind, state, unit_id, ticket_type, district,
            started_at, working_days, due_date, due_at, provisional, max_extensions,
            extension_working_days, limit_rule_id, breached_at)
        SELECT 'T' || n, 'handling', 'running', 'unit-' || (n % 200), 'complaint',
            'district-' || (n % 11), now() - interval '10 days', 10,
            sla.gz_date(due - interval '1 microsecond'), due, false, 2, 10, 1,
            CASE WHEN n <= 100000 THEN now() END
        FROM generate_series(1, {CLOCKS}) n
        -- Due at 24:00 Beijing time of a day, as every clock is.
        CROSS JOIN LATERAL (SELECT (sla.gz_date(now()) + CASE
                WHEN n <= 100000 THEN -(n % 30 + 1)
                WHEN n <= 100000 + {DUE_NOW} THEN 0
                ELSE n % 60 + 1
            END)::timestamp AT TIME ZONE 'Asia/Shanghai' AS due) d
        """
    )
    await connection.execute("ANALYZE sla.clock")


async def timed(
    connection: asyncpg.Connection, query: str, args: list[Any], *, indexes: bool, runs: int = 7
) -> float:
    """Median milliseconds of ``query`` inside a rolled-back transaction."""
    samples = []
    for _ in range(runs):
        transaction = connection.transaction()
        await transaction.start()
        try:
            if not indexes:
                await connection.execute("SET LOCAL enable_indexscan = off")
                await connection.execute("SET LOCAL enable_bitmapscan = off")
                await connection.execute("SET LOCAL enable_indexonlyscan = off")
            started = time.perf_counter()
            await connection.fetch(query, *args)
            samples.append((time.perf_counter() - started) * 1000)
        finally:
            await transaction.rollback()
    return statistics.median(samples)


async def run(url: str) -> None:
    # No statement cache: each run is planned under its own settings.
    connection = await asyncpg.connect(asyncpg_dsn(url), statement_cache_size=0)
    try:
        started = time.perf_counter()
        await seed(connection)
        print(
            f"seeded {CLOCKS:,} clocks in {time.perf_counter() - started:.1f} s "
            f"(100,000 overdue and breached, {DUE_NOW:,} newly due)"
        )
        nothing_due = await connection.fetchval("SELECT now() - interval '40 days'")
        now = await connection.fetchval("SELECT now()")
        print(f"{'query':<38}{'indexed ms':>12}{'baseline ms':>13}{'ratio':>9}")
        for label, (query, args) in (
            ("breach scan, nothing due", scan(nothing_due)),
            (f"breach scan, {DUE_NOW:,} due (first batch)", scan(now)),
            ("overdue dashboard by unit", dashboard(overdue_window(now))),
            # Due by the end of tomorrow (the next working day on a weekday).
            ("due-soon dashboard by unit", dashboard(due_soon_window(now, now.date() + DAY))),
        ):
            fast = await timed(connection, query, args, indexes=True)
            slow = await timed(connection, query, args, indexes=False)
            print(f"{label:<38}{fast:>12.2f}{slow:>13.2f}{slow / fast:>8.1f}x")
        query, args = scan(now)
        plan = await connection.fetch("EXPLAIN " + query, *args)
        print("scan plan:", " / ".join(r[0].strip() for r in plan[:3]))
        seconds, breached = await breach_what_is_due(url, now)
        print(f"the scan breached {breached:,} clocks in {seconds:.2f} s")
    finally:
        await connection.close()


async def breach_what_is_due(url: str, now: datetime) -> tuple[float, int]:
    """The service's own scan loop until nothing is due (it commits: run it last)."""
    engine = make_engine(url)
    state = SimpleNamespace(
        sessions=make_sessionmaker(engine), outbox=Outbox("sla"), clock=FixedClock(now)
    )
    try:
        started = time.perf_counter()
        breached = await scan_once(state)
        return time.perf_counter() - started, breached
    finally:
        await engine.dispose()


def main() -> None:
    url = database_url()
    for service in ("intake", "dispatch", "sla"):
        upgrade(service, url)  # runs its own event loop: before ours starts
    asyncio.run(run(url))


if __name__ == "__main__":
    main()
