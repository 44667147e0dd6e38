"""What the benchmarks that run the services as processes share: a fresh database and a
stack on it, taken down afterwards, and a service's CPU time."""

from __future__ import annotations

import tempfile
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
