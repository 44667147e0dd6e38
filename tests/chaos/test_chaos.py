"""Faults under load (``make chaos``): calls keep coming while each service is killed with
SIGKILL and restarted, and the database is stopped as by a crash and restarted.

Afterwards every call the agents were told was taken is a ticket exactly once at intake, at
dispatch and with its dispatch clock at sla (0 lost, 0 duplicated), and every outbox has
drained (0 stuck). The agents' client behaves as the real one does: it retries a call with
the same Idempotency-Key until it gets an answer. ``CHAOS_TICKETS`` sets the load (300).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from hotline.reference import load_all
from shared import embedded_pg
from shared.auth import Role, mint_token
from shared.db import SERVICES, asyncpg_dsn
from shared.migrations import upgrade
from shared.settings import get_settings
from tests.intake.conftest import CALL
from tests.support.stack import Stack

pytestmark = pytest.mark.chaos

ROOT = Path(__file__).resolve().parents[2]
TICKETS = int(os.environ.get("CHAOS_TICKETS", "300"))
FAULTS = ["dispatch", "sla", "database", "intake", "dispatch", "database", "sla"]


class Load(threading.Thread):
    """An agent's desk taking calls, each retried with its key until answered."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url, self.token = url, token
        self.taken: dict[str, str] = {}  # Idempotency-Key → ticket id the agent was given
        self.retries = 0
        self.faults_done = threading.Event()

    def run(self) -> None:
        """Calls keep coming, about 20 a second, until every fault has happened and at least
        ``TICKETS`` calls were taken."""
        with httpx.Client(timeout=30) as client:
            n = 0
            while not self.faults_done.is_set() or n < TICKETS:
                key = f"chaos-{n}"
                n += 1
                time.sleep(0.05)
                call = {**CALL, "text": f"第{n}号来电：林和西路工地夜间施工噪音扰民"}
                while key not in self.taken:
                    try:
                        answer = client.post(
                            f"{self.url}/v1/tickets",
                            json=call,
                            headers={
                                "Authorization": f"Bearer {self.token}",
                                "Idempotency-Key": key,
                            },
                        )
                    except httpx.TransportError:
                        answer = None
                    if answer is not None and answer.status_code in (200, 201):
                        self.taken[key] = answer.json()["id"]
                    else:
                        assert answer is None or answer.status_code >= 409, answer.text
                        self.retries += 1
                        time.sleep(0.2)


async def _counts(url: str) -> dict[str, int]:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        row = await connection.fetchrow(
            """
            SELECT
              (SELECT count(*) FROM intake.ticket WHERE idempotency_key LIKE '%:chaos-%')
                  AS intake,
              (SELECT count(*) FROM dispatch.ticket) AS dispatch,
              (SELECT count(DISTINCT number) FROM dispatch.ticket) AS dispatch_numbers,
              (SELECT count(*) FROM sla.clock WHERE kind = 'dispatch') AS clocks,
              (SELECT count(DISTINCT ticket_id) FROM sla.clock WHERE kind = 'dispatch')
                  AS clocked_tickets,
              (SELECT count(*) FROM intake.outbox WHERE delivered_at IS NULL)
                + (SELECT count(*) FROM dispatch.outbox WHERE delivered_at IS NULL)
                + (SELECT count(*) FROM sla.outbox WHERE delivered_at IS NULL) AS undelivered
            """
        )
        return dict(row)
    finally:
        await connection.close()


def _crash_database(server, pgdata: Path) -> None:
    import pgserver

    # Immediate: no checkpoint, no goodbye to clients — the next start recovers from the WAL.
    pgserver.pg_ctl(
        ["-m", "immediate", "-w", "stop"], pgdata=pgdata, user=server.system_user, timeout=60
    )
    time.sleep(1)
    server.ensure_postgres_running()


def test_killed_services_and_database_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    pgdata = tmp_path / "pg"
    server, url = embedded_pg.start(pgdata, database="hotline_chaos")
    for service in SERVICES:
        upgrade(service, url)
    load_all(url, data_dir=ROOT / "data")
    stack = Stack(url, tmp_path)
    stack.start()
    load = Load(stack["intake"].url, mint_token(get_settings(), role=Role.AGENT, subject="desk"))
    try:
        load.start()
        for fault in FAULTS:
            time.sleep(2)
            if fault == "database":
                _crash_database(server, pgdata)
            else:
                victim = stack[fault]
                assert victim.process is not None
                victim.process.kill()  # SIGKILL: no shutdown, no flush
                victim.process.wait()
                victim.start()
        load.faults_done.set()
        load.join(timeout=900)
        assert not load.is_alive(), "the load did not finish"
        # Delivery goes on after the last fault; give it the time the work needs.
        deadline = time.monotonic() + 300
        counts = asyncio.run(_counts(url))
        while time.monotonic() < deadline and (
            counts["undelivered"] or counts["clocked_tickets"] < len(load.taken)
        ):
            time.sleep(1)
            counts = asyncio.run(_counts(url))
    finally:
        stack.stop()
    taken = len(load.taken)
    print(f"chaos: {taken} calls, {load.retries} retried answers, faults {FAULTS}, {counts}")
    assert taken >= TICKETS and load.retries > 0  # the faults did hit the load
    assert len(set(load.taken.values())) == taken  # one ticket per call
    lost = taken - counts["clocked_tickets"]
    duplicated = (counts["intake"] - taken) + (counts["dispatch"] - counts["dispatch_numbers"])
    duplicated += counts["clocks"] - counts["clocked_tickets"]
    assert (lost, duplicated, counts["undelivered"]) == (0, 0, 0), counts
    assert counts["intake"] == counts["dispatch"] == taken
