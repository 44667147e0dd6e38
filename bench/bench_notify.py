"""Notifications delivered to a unit's webhook: how fast dispatch's relay and notifier send
what was queued, against a bare loop POSTing the same signed payloads.

On a fresh database, BENCH_NOTICES (5,000) `ticket_assigned` notifications for one unit's
webhook channel are queued with the suite's own code (the notification rows and their outbox
rows, as a step writes them). Then dispatch starts: its relay hands the channel's rows to the
notifier, which renders, signs and POSTs each to a local receiver (uvicorn, answering 200)
and records it sent. The script times the notification table until every one is sent. The
baseline is a loop that POSTs the same bodies with the same headers to the same receiver,
one at a time, and nothing else. The per-receiver rate limit is lifted for the run
(HOTLINE_NOTIFY_RATE_PER_MINUTE): it measures the path, not the limit.
Run: `.venv/bin/python bench/bench_notify.py`. Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from bench.stacks import cpu_seconds, fresh_stack  # noqa: E402
from shared.channels import sign  # noqa: E402
from shared.db import asyncpg_dsn, make_engine, make_sessionmaker, session_scope  # noqa: E402
from shared.notify import Notice, Notifications, render, secret_box  # noqa: E402
from shared.outbox import Outbox  # noqa: E402
from shared.settings import Settings  # noqa: E402
from shared.vocabulary import NoticeKind  # noqa: E402
from tests.support.stack import Stack, free_port  # noqa: E402

NOTICES = int(os.environ.get("BENCH_NOTICES", "5000"))
SECRET = "whsec_bench"
CHANNEL = "bench-hook"


async def receiver(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A webhook receiver that takes everything (served by uvicorn in its own process)."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def start_receiver(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bench_notify:receiver",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
    )
    for _ in range(100):
        try:
            httpx.post(f"http://127.0.0.1:{port}/", content=b"")
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the receiver did not start")


def notice(i: int) -> Notice:
    params = {"number": f"GZ{i:012d}", "category": "建筑施工噪音"}
    return Notice(NoticeKind.TICKET_ASSIGNED, "tianhe-urban", params, ticket_id=f"T{i}")


async def seed(url: str, port: int) -> None:
    """One webhook channel of tianhe-urban and NOTICES notifications queued for it."""
    engine = make_engine(url, pool_size=1, application_name="bench-seed")
    notifications, outbox = Notifications("dispatch"), Outbox("dispatch")
    now = datetime.now(UTC)
    box = secret_box(Settings(env="test").pii_key.get_secret_value())
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            await session.execute(
                notifications.channels.insert().values(
                    id=CHANNEL,
                    owner="tianhe-urban",
                    kind="webhook",
                    name="bench",
                    target=f"http://127.0.0.1:{port}/hook",
                    secret_sealed=box.encrypt(SECRET.encode()).decode(),
                    kinds=[],
                    created_at=now,
                    updated_at=now,
                )
            )
        for start in range(0, NOTICES, 1000):
            batch = [notice(i) for i in range(start, min(start + 1000, NOTICES))]
            async with session_scope(make_sessionmaker(engine)) as session:
                await notifications.queue(
                    session, outbox, batch, now=now, channel_ids=lambda _: [CHANNEL]
                )
    finally:
        await engine.dispose()


async def sending_time(url: str) -> float:
    """Once every notification is sent: seconds from the first one sent to the last (the
    service's start-up left out)."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        while await connection.fetchval(  # noqa: ASYNC110 (another process's progress)
            "SELECT count(*) FROM dispatch.notification WHERE state <> 'sent'"
        ):
            await asyncio.sleep(0.1)
        first, last = await connection.fetchrow(
            "SELECT min(sent_at), max(sent_at) FROM dispatch.notification"
        )
        return (last - first).total_seconds()
    finally:
        await connection.close()


async def through_the_suite(stack: Stack, url: str, port: int) -> tuple[float, float]:
    await seed(url, port)
    stack["dispatch"].start()
    process = psutil.Process(stack["dispatch"].process.pid)  # type: ignore[union-attr]
    took = await sending_time(url)
    return took, cpu_seconds(process)


async def bare_loop(port: int) -> float:
    """The same signed bodies POSTed one at a time by a loop that does nothing else."""
    bodies = []
    for i in range(NOTICES):
        n = notice(i)
        title, text = render(n.kind, n.params)
        body = {
            "id": f"n{i}",
            "kind": n.kind.value,
            "ticket_id": n.ticket_id,
            "owner": n.owner,
            "title": title,
            "text": text,
            "params": dict(n.params),
        }
        bodies.append(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
    async with httpx.AsyncClient(timeout=30) as client:
        started = time.perf_counter()
        for i, body in enumerate(bodies):
            timestamp = int(time.time())
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "X-Hotline-Delivery": f"n{i}",
                "X-Hotline-Event": "ticket_assigned",
                "X-Hotline-Timestamp": str(timestamp),
                "X-Hotline-Signature": sign(SECRET, timestamp, body),
            }
            response = await client.post(
                f"http://127.0.0.1:{port}/hook", content=body, headers=headers
            )
            response.raise_for_status()
        return time.perf_counter() - started


def main() -> None:
    port = free_port()
    hook = start_receiver(port)
    try:
        with fresh_stack("hotline_notify_bench", notify_rate_per_minute="1000000000") as (
            stack,
            url,
        ):
            took, cpu = asyncio.run(through_the_suite(stack, url, port))
        baseline = asyncio.run(bare_loop(port))
    finally:
        hook.terminate()
        hook.wait()
    ours, bare = (NOTICES - 1) / took, NOTICES / baseline
    each = cpu / NOTICES * 1000
    print(f"{NOTICES:,} notifications to one webhook")
    print(f"dispatch's relay and notifier  {took:7.1f} s  {ours:8.1f} /s")
    print(f"  dispatch's CPU per notification {each:.2f} ms (its start-up included)")
    print(f"baseline: a bare POST loop     {baseline:7.1f} s  {bare:8.1f} /s")
    print(f"ratio                          {ours / bare:7.2f}")


if __name__ == "__main__":
    main()
