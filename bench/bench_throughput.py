"""Tickets through the whole suite: created at intake, handed to dispatch by the relay, their
dispatch clocks started at sla — how many a second, and each service's CPU per ticket.

The three services run as processes on a fresh embedded PostgreSQL (or BENCH_DATABASE_URL's
server). BENCH_CALLS calls (1,500 by default) are posted to intake's `POST /v1/tickets`, each
with its Idempotency-Key, BENCH_IN_FLIGHT (16) at a time, paced at BENCH_RATE calls a second
if set; the script watches dispatch's and
sla's tables until every ticket has arrived. It prints the creation rate, the end-to-end rate
(the last ticket's dispatch clock started at sla) and each service's CPU time per ticket over
the whole run (its processes together: BENCH_WORKERS per service, 1 by default), this
script's own (posting and watching), and the relay's latency from intake's commit to
dispatch's acknowledgement (p50, p99); with
BENCH_SIZES=1, what each table grew by, scaled to a million tickets. Run the same script on two
trees to compare. Run: `.venv/bin/python bench/bench_throughput.py`.
Results go to docs/benchmarks.md and docs/operations.md (processes).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import asyncpg
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from bench.stacks import cpu_seconds, fresh_stack, post_calls  # noqa: E402
from shared.auth import Role, mint_token  # noqa: E402
from shared.db import asyncpg_dsn  # noqa: E402
from shared.settings import Settings  # noqa: E402
from tests.support.stack import Stack  # noqa: E402

CALLS = int(os.environ.get("BENCH_CALLS", "1500"))
IN_FLIGHT = int(os.environ.get("BENCH_IN_FLIGHT", "16"))
# Calls a second (unset: as fast as intake answers). Paced below saturation, the relay's
# latency says what a sustained load costs; at saturation it only grows with the backlog.
RATE = float(os.environ["BENCH_RATE"]) if os.environ.get("BENCH_RATE") else None
WORKERS = int(os.environ.get("BENCH_WORKERS", "1"))  # processes per service
PLACES = ["天河区", "海珠区", "越秀区", "白云区", "番禺区"]


def call(i: int) -> dict:
    return {
        "channel": "phone",
        "caller": {"name": "测试", "phone": f"139{i:08d}"},
        "text": f"{PLACES[i % 5]}工地夜间施工，噪音扰民（第{i}号）",
        "ticket_type": "complaint",
        "category": "noise.construction",
        "district": PLACES[i % 5],
        "outcome": "submitted",
    }


async def create(url: str, token: str) -> float:
    """Post every call, IN_FLIGHT at a time; the seconds it took."""
    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {token}"}
    await post_calls(url, [call(i) for i in range(CALLS)], IN_FLIGHT, headers, rate=RATE)
    return time.perf_counter() - started


async def arrived(database: str, started: float) -> tuple[float, float]:
    """Seconds from ``started`` until dispatch holds every ticket, and until sla has started
    every ticket's dispatch clock."""
    connection = await asyncpg.connect(asyncpg_dsn(database))
    at: dict[str, float] = {}
    try:
        while len(at) < 2:
            counts = {
                "dispatch": await connection.fetchval("SELECT count(*) FROM dispatch.ticket"),
                "sla": await connection.fetchval(
                    "SELECT count(DISTINCT ticket_id) FROM sla.clock WHERE kind = 'dispatch'"
                ),
            }
            for service, count in counts.items():
                if count >= CALLS and service not in at:
                    at[service] = time.perf_counter() - started
            await asyncio.sleep(0.05)
    finally:
        await connection.close()
    return at["dispatch"], at["sla"]


async def run(stack: Stack, database: str) -> None:
    processes = {}
    for service in ("intake", "dispatch", "sla"):
        process = stack[service].process
        assert process is not None
        processes[service] = psutil.Process(process.pid)
    sizes_before = await table_sizes(database) if os.environ.get("BENCH_SIZES") else {}
    before = {s: cpu_seconds(p) for s, p in processes.items()}
    loader_before = time.process_time()  # this process alone, not the services under it
    token = mint_token(Settings(env="test"), role=Role.AGENT, subject="bench")
    started = time.perf_counter()
    watching = asyncio.create_task(arrived(database, started))
    created = await create(stack["intake"].url, token)
    at_dispatch, at_sla = await watching
    after = {s: cpu_seconds(p) for s, p in processes.items()}
    loaded = time.process_time() - loader_before
    paced = f"paced at {RATE:g}/s" if RATE else "unpaced"
    print(f"{CALLS:,} calls, {IN_FLIGHT} in flight, {paced}, {WORKERS} process(es) a service")
    print(f"created at intake        {created:7.1f} s  {CALLS / created:8.1f} tickets/s")
    print(f"all at dispatch          {at_dispatch:7.1f} s  {CALLS / at_dispatch:8.1f} tickets/s")
    print(f"all clocks started (sla) {at_sla:7.1f} s  {CALLS / at_sla:8.1f} tickets/s")
    for service in processes:
        used = after[service] - before[service]
        print(f"CPU per ticket, {service:<9}{used / CALLS * 1000:8.2f} ms")
    print(
        f"CPU per ticket, loader   {loaded / CALLS * 1000:8.2f} ms (this script: posting, watching)"
    )
    p50, p99 = await relay_latency(database)
    print(f"relay latency to dispatch  p50 {p50 * 1000:6.0f} ms   p99 {p99 * 1000:6.0f} ms")
    if sizes_before:
        await asyncio.sleep(2)  # the relays mark the last events delivered
        print_growth(sizes_before, await table_sizes(database))


async def relay_latency(database: str) -> tuple[float, float]:
    """Seconds from an event's commit at intake to dispatch's acknowledgement of it, p50 and
    p99 (the outbox stamps both with the database's clock)."""
    connection = await asyncpg.connect(asyncpg_dsn(database))
    try:
        row = await connection.fetchrow(
            """
            SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (
                ORDER BY extract(epoch FROM delivered_at - created_at)) AS q
            FROM intake.outbox WHERE destination = 'dispatch' AND delivered_at IS NOT NULL
            """
        )
    finally:
        await connection.close()
    return row["q"][0], row["q"][1]


SIZES = """
SELECT n.nspname || '.' || c.relname AS name, pg_total_relation_size(c.oid) AS bytes
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname IN ('intake', 'dispatch', 'sla')
"""


async def table_sizes(database: str) -> dict[str, int]:
    """Each service's tables: rows, indexes and TOAST together, in bytes."""
    connection = await asyncpg.connect(asyncpg_dsn(database))
    try:
        return {row["name"]: row["bytes"] for row in await connection.fetch(SIZES)}
    finally:
        await connection.close()


def print_growth(before: dict[str, int], after: dict[str, int]) -> None:
    """What the run added to each table, scaled to a million tickets, largest first."""
    scale = 1_000_000 / CALLS / 2**20
    grown = {name: (size - before.get(name, 0)) * scale for name, size in after.items()}
    print(f"growth per 1,000,000 tickets (measured over {CALLS:,}):")
    for name, mib in sorted(grown.items(), key=lambda item: -item[1]):
        if mib >= 1:
            print(f"  {name:<32}{mib:10,.0f} MiB")
    print(f"  {'all':<32}{sum(grown.values()):10,.0f} MiB")


def main() -> None:
    with fresh_stack("hotline_throughput_bench", workers=str(WORKERS)) as (stack, url):
        stack.start()
        asyncio.run(run(stack, url))


if __name__ == "__main__":
    main()
