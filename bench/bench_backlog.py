"""A backlog of events drained: how fast intake's relay delivers tickets that piled up while
dispatch was away, and how fast dispatch's and sla's inboxes take them.

On a fresh database, BENCH_EVENTS (50,000) `ticket.submitted` events are written to intake's
outbox with the outbox's own code, as intake writes them when it takes calls while dispatch
is down. Then dispatch and sla start, and intake last: its relay finds the backlog and
delivers it in batches (`HOTLINE_RELAY_BATCH_SIZE`, 50). The script watches the outbox until
every event is delivered and sla until every dispatch clock has started, and reads each
process's CPU time. The baseline beside it is the same events posted as plain batches by a
loop that does nothing else (`POST /v1/events/batch` to dispatch, one request at a time): the
receiver's own rate, without the relay. Run the same script on two trees to compare.
Run: `.venv/bin/python bench/bench_backlog.py`. Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from bench.stacks import cpu_seconds, fresh_stack  # noqa: E402
from shared.auth import Role, mint_token  # noqa: E402
from shared.db import asyncpg_dsn, make_engine, make_sessionmaker, session_scope  # noqa: E402
from shared.events import EventBatch, EventEnvelope, TicketSubmitted  # noqa: E402
from shared.outbox import Outbox  # noqa: E402
from shared.settings import Settings  # noqa: E402
from shared.vocabulary import TicketType  # noqa: E402
from tests.support.stack import Stack  # noqa: E402

EVENTS = int(os.environ.get("BENCH_EVENTS", "50000"))
BATCH = 50
PLACES = ["天河区", "海珠区", "越秀区", "白云区", "番禺区"]


def submitted(i: int, at: datetime) -> TicketSubmitted:
    return TicketSubmitted(
        ticket_id=str(uuid.uuid4()),
        number=f"GZ{i:012d}",
        ticket_type=TicketType.COMPLAINT,
        category="noise.construction",
        district=PLACES[i % 5],
        summary=f"{PLACES[i % 5]}工地夜间施工，噪音扰民（第{i}号）",
        received_at=at,
    )


async def seed(url: str, first: int, count: int) -> None:
    """``count`` submitted tickets in intake's outbox, as intake writes them."""
    engine = make_engine(url, pool_size=1, application_name="bench-seed")
    outbox, now = Outbox("intake"), datetime.now(UTC)
    try:
        for start in range(first, first + count, 1000):
            events = [
                (e, e.ticket_id)
                for e in (submitted(i, now) for i in range(start, min(start + 1000, first + count)))
            ]
            async with session_scope(make_sessionmaker(engine)) as session:
                await outbox.add_many(session, events, to="dispatch", now=now)
    finally:
        await engine.dispose()


async def watch(url: str, started: float, expected: int) -> tuple[float, float]:
    """Seconds from ``started`` until intake's outbox is delivered, and until sla has
    started every ticket's dispatch clock."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    at: dict[str, float] = {}
    try:
        while len(at) < 2:
            pending = await connection.fetchval(
                "SELECT count(*) FROM intake.outbox WHERE delivered_at IS NULL"
            )
            clocks = await connection.fetchval(
                "SELECT count(*) FROM sla.clock WHERE kind = 'dispatch'"
            )
            if pending == 0:
                at.setdefault("delivered", time.perf_counter() - started)
            if clocks >= expected:
                at.setdefault("clocks", time.perf_counter() - started)
            await asyncio.sleep(0.2)
    finally:
        await connection.close()
    return at["delivered"], at["clocks"]


async def relayed(stack: Stack, url: str) -> None:
    await seed(url, 0, EVENTS)
    stack["dispatch"].start()
    stack["sla"].start()
    processes = {s: psutil.Process(stack[s].process.pid) for s in ("dispatch", "sla")}  # type: ignore[union-attr]
    before = {s: cpu_seconds(p) for s, p in processes.items()}
    started = time.perf_counter()
    stack["intake"].start()
    delivered, clocks = await watch(url, started, EVENTS)
    after = {s: cpu_seconds(p) for s, p in processes.items()}
    print(f"{EVENTS:,} events waiting in intake's outbox, batches of {BATCH}")
    print(f"relayed to dispatch      {delivered:7.1f} s  {EVENTS / delivered:8.1f} events/s")
    print(f"dispatch clocks started  {clocks:7.1f} s  {EVENTS / clocks:8.1f} tickets/s")
    for service in processes:
        used = after[service] - before[service]
        print(f"CPU per event, {service:<10}{used / EVENTS * 1000:8.2f} ms")
    stack.stop()


async def posted(stack: Stack, url: str) -> None:
    """The baseline: the same kind of events posted to dispatch in batches by a bare loop."""
    stack["dispatch"].start()
    token = mint_token(Settings(env="test"), role=Role.SERVICE, subject="intake")
    now = datetime.now(UTC)
    batches = [
        EventBatch(
            events=[
                EventEnvelope(
                    type=e.type_name,
                    source="intake",
                    occurred_at=now,
                    ordering_key=e.ticket_id,
                    payload=e.model_dump(mode="json"),
                )
                for e in (submitted(EVENTS + i, now) for i in range(start, start + BATCH))
            ]
        ).model_dump(mode="json")
        for start in range(0, EVENTS, BATCH)
    ]
    async with httpx.AsyncClient(
        base_url=stack["dispatch"].url, headers={"Authorization": f"Bearer {token}"}, timeout=120
    ) as client:
        started = time.perf_counter()
        for body in batches:
            (await client.post("/v1/events/batch", json=body)).raise_for_status()
        took = time.perf_counter() - started
    print(
        f"baseline: posted to dispatch by a bare loop {took:7.1f} s  {EVENTS / took:8.1f} events/s"
    )
    stack.stop()


def main() -> None:
    with fresh_stack("hotline_backlog_bench") as (stack, url):
        asyncio.run(relayed(stack, url))
    with fresh_stack("hotline_backlog_baseline") as (stack, url):
        asyncio.run(posted(stack, url))


if __name__ == "__main__":
    main()
