"""Calls taken at intake against the raw write they come down to, side by side.

intake runs alone as a process on a fresh embedded PostgreSQL (or BENCH_DATABASE_URL's
server): its relay finds no dispatch and waits, so the figures are intake's own. BENCH_CALLS
calls (2,000) are posted to `POST /v1/tickets`, each with its Idempotency-Key, at 16 and at
32 in flight (BENCH_IN_FLIGHT="16 32"). Beside each run, two baselines write the same rows:

- **raw**: the ticket and outbox rows intake wrote, copied with fresh ids, each call one
  asyncpg transaction of two INSERTs on a pool as wide as the runs in flight, into copies of
  the two tables with their indexes (`LIKE … INCLUDING ALL`) — what a call costs the database
  and the driver, with no HTTP, validation, encryption or idempotency key;
- **bare FastAPI**: the same raw write behind one FastAPI endpoint (JSON body, no middleware,
  no authentication) served by uvicorn as a process, posted to as intake is.

Each case runs BENCH_REPEATS (3) times, the three interleaved, and the script prints every
rate and intake's as a share of the raw write's (#15 asks ≥ 70 %). Run:
`.venv/bin/python bench/bench_intake.py`. Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import asyncpg
import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from bench.bench_throughput import call  # noqa: E402
from bench.stacks import cpu_seconds, fresh_stack, post_calls  # noqa: E402
from shared.auth import Role, mint_token  # noqa: E402
from shared.db import asyncpg_dsn  # noqa: E402
from shared.settings import Settings  # noqa: E402
from tests.support.stack import free_port  # noqa: E402

CALLS = int(os.environ.get("BENCH_CALLS", "2000"))
IN_FLIGHT = [int(n) for n in os.environ.get("BENCH_IN_FLIGHT", "16 32").split()]
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))

COPIES = """
CREATE SCHEMA IF NOT EXISTS bench_raw;
DROP TABLE IF EXISTS bench_raw.ticket, bench_raw.outbox;
CREATE TABLE bench_raw.ticket (LIKE intake.ticket INCLUDING ALL);
CREATE TABLE bench_raw.outbox (LIKE intake.outbox INCLUDING ALL);
"""


class RawWrite:
    """A call's rows as intake wrote them, inserted again with fresh ids."""

    def __init__(self, ticket: asyncpg.Record, event: asyncpg.Record) -> None:
        self.ticket = dict(ticket)
        self.event = {k: v for k, v in dict(event).items() if k != "seq"}
        self.insert_ticket = _insert("bench_raw.ticket", self.ticket)
        self.insert_event = _insert("bench_raw.outbox", self.event)

    async def write(self, connection: asyncpg.Connection, text: str) -> None:
        ticket_id = str(uuid.uuid4())
        ticket = self.ticket | {
            "id": ticket_id,
            "number": ticket_id,
            "idempotency_key": ticket_id,
            "text": text,
        }
        event = self.event | {"event_id": uuid.uuid4(), "ordering_key": ticket_id}
        async with connection.transaction():
            await connection.execute(self.insert_ticket, *ticket.values())
            await connection.execute(self.insert_event, *event.values())


def _insert(table: str, row: dict[str, Any]) -> str:
    places = ", ".join(f"${i}" for i in range(1, len(row) + 1))
    return f"INSERT INTO {table} ({', '.join(row)}) VALUES ({places})"


async def posted(url: str, in_flight: int, headers: dict[str, str]) -> float:
    """Every call posted, ``in_flight`` at a time; calls a second."""
    started = time.perf_counter()
    await post_calls(url, [call(i) for i in range(CALLS)], in_flight, headers)
    return CALLS / (time.perf_counter() - started)


async def raw(pool: asyncpg.Pool, rows: RawWrite, in_flight: int) -> float:
    """Every call as one raw transaction, ``in_flight`` at a time; calls a second."""
    texts = (call(i)["text"] for i in range(CALLS))

    async def worker() -> None:
        async with pool.acquire() as connection:
            for text in texts:
                await rows.write(connection, text)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return CALLS / (time.perf_counter() - started)


def bare_app(dsn: str, pool_size: int) -> Any:
    """One FastAPI endpoint doing the raw write: the framework's own floor."""
    from fastapi import FastAPI

    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with asyncpg.create_pool(dsn, min_size=pool_size, max_size=pool_size) as pool:
            state["pool"] = pool
            async with pool.acquire() as connection:
                state["rows"] = await sample(connection)
            yield

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/tickets")
    async def take(body: dict[str, Any]) -> dict[str, str]:
        async with state["pool"].acquire() as connection:
            await state["rows"].write(connection, body["text"])
        return {"status": "created"}

    return app


async def sample(connection: asyncpg.Connection) -> RawWrite:
    ticket = await connection.fetchrow("SELECT * FROM intake.ticket LIMIT 1")
    event = await connection.fetchrow(
        "SELECT * FROM intake.outbox WHERE ordering_key = $1", ticket["id"]
    )
    return RawWrite(ticket, event)


async def run(intake: Server, bare: Server, dsn: str) -> None:
    token = mint_token(Settings(env="test"), role=Role.AGENT, subject="bench")
    headers = {"Authorization": f"Bearer {token}"}
    intake_url, bare_url = (f"http://127.0.0.1:{server.port}" for server in (intake, bare))
    await post_calls(intake_url, [call(i) for i in range(50)], 4, headers)  # warm
    pool = await asyncpg.create_pool(dsn, min_size=max(IN_FLIGHT), max_size=max(IN_FLIGHT))
    async with pool.acquire() as connection:
        rows = await sample(connection)
    rates: dict[tuple[str, int], list[float]] = {}
    cpu: dict[tuple[str, int], list[float]] = {}
    # Whose CPU a call costs: the server's process, or, for the raw write, this one (the
    # driver's work; the loop's own bookkeeping is counted against it too).
    spent = {
        "raw": time.process_time,  # this process alone, not the servers under it
        "bare FastAPI": partial(cpu_seconds, bare.process),
        "intake": partial(cpu_seconds, intake.process),
    }
    try:
        for repeat in range(REPEATS):
            for n in IN_FLIGHT:
                for case, measured in (
                    ("raw", raw(pool, rows, n)),
                    ("bare FastAPI", posted(bare_url, n, {})),
                    ("intake", posted(intake_url, n, headers)),
                ):
                    before = spent[case]()
                    rates.setdefault((case, n), []).append(await measured)
                    used = (spent[case]() - before) / CALLS * 1000
                    cpu.setdefault((case, n), []).append(used)
                    print(f"run {repeat + 1}, {n} in flight, {case}: {rates[case, n][-1]:.1f}/s")
    finally:
        await pool.close()
    print(f"\n{CALLS:,} calls a run, {REPEATS} runs interleaved; calls a second:")
    for n in IN_FLIGHT:
        for case in ("raw", "bare FastAPI", "intake"):
            figures = " / ".join(f"{r:7.1f}" for r in rates[case, n])
            ms = " / ".join(f"{c:5.2f}" for c in cpu[case, n])
            print(f"{n:>3} in flight  {case:<13}{figures}   CPU ms a call {ms}")
        shares = " / ".join(
            f"{i / r:6.1%}" for i, r in zip(rates["intake", n], rates["raw", n], strict=True)
        )
        bare = " / ".join(
            f"{b / r:6.1%}" for b, r in zip(rates["bare FastAPI", n], rates["raw", n], strict=True)
        )
        print(f"{n:>3} in flight  intake ÷ raw {shares}   (bare FastAPI ÷ raw {bare})")


class Server(NamedTuple):
    port: int
    process: psutil.Process


def main() -> None:
    if sys.argv[1:2] == ["bare"]:  # the baseline's own process
        import uvicorn

        port, dsn = int(sys.argv[2]), sys.argv[3]
        uvicorn.run(bare_app(dsn, max(IN_FLIGHT)), port=port, log_level="warning")
        return
    with fresh_stack("hotline_intake_bench") as (stack, url):
        intake = stack["intake"]
        intake.start()
        assert intake.process is not None
        dsn = asyncpg_dsn(url)
        asyncio.run(prepare(dsn))
        # A first call, so that the baselines have rows to copy.
        token = mint_token(Settings(env="test"), role=Role.AGENT, subject="bench")
        httpx.post(
            f"{intake.url}/v1/tickets",
            json=call(0),
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        ).raise_for_status()
        port = free_port()
        bare = subprocess.Popen([sys.executable, __file__, "bare", str(port), dsn])
        try:
            while bare.poll() is None:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            if bare.poll() is not None:
                raise RuntimeError("the bare FastAPI baseline did not start")
            asyncio.run(
                run(
                    Server(intake.port, psutil.Process(intake.process.pid)),
                    Server(port, psutil.Process(bare.pid)),
                    dsn,
                )
            )
        finally:
            bare.terminate()
            bare.wait()


async def prepare(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(COPIES)
    finally:
        await connection.close()


if __name__ == "__main__":
    main()
