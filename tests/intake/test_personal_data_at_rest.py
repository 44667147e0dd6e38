"""Art 25: a dump of the intake schema holds no caller's name, phone or address in clear."""

import asyncio
import subprocess
from pathlib import Path

import pgserver
from intake.app import build_app

from shared.auth import Role
from shared.db import make_engine
from tests.intake.conftest import CALL

PG_DUMP = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump"


async def test_a_dump_of_the_intake_schema_has_no_personal_data_in_clear(
    fresh_database_url, settings, clock, client_for
):
    engine = make_engine(fresh_database_url, pool_size=2)
    app = build_app(settings=settings, engine=engine, clock=clock, run_relay=False)
    try:
        async with client_for(app, Role.AGENT) as client:
            created = await client.post("/v1/tickets", json=CALL)
            await client.post(f"/v1/tickets/{created.json()['id']}/contact")
            contact = await client.get(f"/v1/tickets/{created.json()['id']}/contact")
        assert contact.json()["phone"] == "13812345678"  # it is there, sealed
    finally:
        await engine.dispose()
    dump = (
        await asyncio.to_thread(
            subprocess.run,
            [
                str(PG_DUMP),
                "--schema=intake",
                "--data-only",
                "--dbname",
                fresh_database_url.replace("postgresql+asyncpg", "postgresql"),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    ).stdout
    assert "COPY intake.ticket" in dump and created.json()["number"] in dump
    for personal in ("13812345678", "1381234", "李雷", "林和西路1号"):
        assert personal not in dump, personal
