"""What the benchmarks that run the services as processes share: a fresh database and a
stack on it, taken down afterwards, and a service's CPU time."""

from __future__ import annotations

import asyncio
import json
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from tests.support.databases import DatabaseServer
from tests.support.stack import Stack


@contextmanager
def fresh_stack(prefix: str, **settings: str) -> Iterator[tuple[Stack, str]]:
    """A stack (not yet started) on a new copy of the migrated template, and its URL; the
    processes stopped and the database dropped afterwards."""
    server = DatabaseServer()
    server.create_template()
    database = server.copy_template(prefix)
    url = server.url_for(database)
    stack = Stack(url, Path(tempfile.mkdtemp()), **settings)
    try:
        yield stack, url
    finally:
        stack.stop()
        server.drop(database)
        server.close()


def cpu_seconds(process: psutil.Process) -> float:
    """User and system time of a service: its process and any worker processes under it."""
    return sum(sum(p.cpu_times()[:2]) for p in [process, *process.children(recursive=True)])


async def post_calls(
    url: str,
    calls: list[dict],
    in_flight: int,
    headers: dict[str, str],
    *,
    rate: float | None = None,
) -> None:
    """Every call posted to ``/v1/tickets`` with its own Idempotency-Key, on ``in_flight``
    kept-alive connections; with ``rate``, call i is not sent before i / rate seconds. The
    requests are written and read by hand: an HTTP client library (httpx) costs about as much
    CPU per request as the endpoint under test, and the loader shares the host's cores with
    the services it measures."""
    host, port = url.removeprefix("http://").split(":")
    pending = enumerate(calls)
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for i, call in pending:
                if rate is not None:
                    await asyncio.sleep(started + i / rate - loop.time())
                payload = json.dumps(call).encode()
                head = {**headers, "Idempotency-Key": str(uuid.uuid4())}
                writer.write(
                    b"POST /v1/tickets HTTP/1.1\r\nHost: bench\r\n"
                    b"Content-Type: application/json\r\n"
                    + "".join(f"{k}: {v}\r\n" for k, v in head.items()).encode()
                    + f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                answer = await reader.readexactly(length)
                if not status_line.split()[1].startswith(b"2"):
                    raise RuntimeError(f"{status_line!r}: {answer[:300]!r}")
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(in_flight)))
