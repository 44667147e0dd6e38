"""The breach scan with two schedulers on one database: every breach handled once."""

import asyncio
from collections import Counter
from datetime import timedelta

from sla.app import build_app
from sla.clocks.tasks import scan_once
from sqlalchemy import select, text

from shared.db import make_engine
from shared.outbox import Outbox


async def test_two_schedulers_handle_every_breach_exactly_once(fresh_database_url, settings, clock):
    engine = make_engine(fresh_database_url, pool_size=6)
    replicas = [
        build_app(settings=settings, engine=engine, clock=clock, run_relay=False, run_scan=False)
        for _ in range(2)
    ]
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO sla.clock (ticket_id, kind, state, unit_id, ticket_type,"
                    " started_at, working_days, due_date, due_at, provisional, max_extensions,"
                    " extension_working_days, limit_rule_id)"
                    " SELECT 'T' || n, 'handling', 'running', 'tianhe-urban', 'complaint',"
                    " CAST(:now AS timestamptz) - interval '20 days', 10, CAST(:now AS date) - 1,"
                    " CAST(:now AS timestamptz) - n * interval '1 second', false, 2, 10, 1"
                    " FROM generate_series(1, 1200) n"
                ),
                {"now": clock.now()},
            )
        clock.advance(timedelta(seconds=1))
        found = await asyncio.gather(*(scan_once(app.state) for app in replicas))
        async with engine.connect() as connection:
            breached = await connection.scalar(
                text("SELECT count(*) FROM sla.clock WHERE breached_at IS NOT NULL")
            )
            outbox = Outbox("sla").outbox
            told = Counter(
                r[0]["ticket_id"]
                for r in await connection.execute(
                    select(outbox.c.payload).where(outbox.c.event_type == "clock.breached.v1")
                )
            )
            supervisions = await connection.scalar(text("SELECT count(*) FROM sla.supervision"))
        assert sum(found) == breached == 1200
        assert len(told) == 1200 and max(told.values()) == 1
        assert supervisions == 1200
        assert await asyncio.gather(*(scan_once(app.state) for app in replicas)) == [0, 0]
    finally:
        await engine.dispose()
