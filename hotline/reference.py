"""Reference data every stack starts with: Guangzhou's unit directory and routing rules."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from shared.db import make_engine, make_sessionmaker, session_scope


def load_all(database_url: str) -> dict[str, int]:
    """Load (idempotently) every service's shipped reference data; return what was loaded."""
    return asyncio.run(_load_all(database_url))


async def _load_all(database_url: str) -> dict[str, int]:
    from dispatch.directory.service import load_reference

    engine = make_engine(database_url, pool_size=1, application_name="load-reference")
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            units, rules = await load_reference(session, now=datetime.now(UTC))
    finally:
        await engine.dispose()
    return {"units": units, "routing_rules_added": rules}
