"""Backups per schema (issue 19): a dump restored into an empty database answers as before."""

import asyncio
import json

from typer.testing import CliRunner

from hotline.cli import app
from shared.auth import Role
from shared.db import SERVICES, make_engine
from shared.migrations import head_revisions
from shared.settings import get_settings
from tests.intake.conftest import CALL

runner = CliRunner()


def _with_database(monkeypatch, url: str, *command: str):
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        return runner.invoke(app, list(command))
    finally:
        get_settings.cache_clear()


def test_a_backup_restored_into_an_empty_database_answers_as_before(
    monkeypatch, database_server, fresh_database_url, settings, clock, client_for, tmp_path
):
    from intake.app import build_app

    async def take() -> dict:
        engine = make_engine(fresh_database_url, pool_size=2)
        intake = build_app(settings=settings, engine=engine, clock=clock, run_relay=False)
        try:
            async with client_for(intake, Role.AGENT) as agent:
                return (await agent.post("/v1/tickets", json=CALL)).json()
        finally:
            await engine.dispose()

    async def read_back(url: str, ticket_id: str) -> tuple[dict, dict, dict]:
        engine = make_engine(url, pool_size=2)
        intake = build_app(settings=settings, engine=engine, clock=clock, run_relay=False)
        try:
            async with client_for(intake, Role.AGENT) as agent:
                ticket = (await agent.get(f"/v1/tickets/{ticket_id}")).json()
                contact = (await agent.get(f"/v1/tickets/{ticket_id}/contact")).json()
            async with engine.connect() as connection:
                versions = {
                    s: set(
                        (
                            await connection.exec_driver_sql(
                                f"SELECT version_num FROM {s}.alembic_version"
                            )
                        ).scalars()
                    )
                    for s in SERVICES
                }
            return ticket, contact, versions
        finally:
            await engine.dispose()

    taken = asyncio.run(take())
    dumped = _with_database(monkeypatch, fresh_database_url, "backup", str(tmp_path / "b"))
    assert dumped.exit_code == 0, dumped.output
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert set(manifest["schemas"]) == set(SERVICES)

    empty = database_server.create_empty()
    try:
        restored_url = database_server.url_for(empty)
        restored = _with_database(monkeypatch, restored_url, "restore", str(tmp_path / "b"))
        assert restored.exit_code == 0, restored.output
        ticket, contact, versions = asyncio.run(read_back(restored_url, taken["id"]))
    finally:
        database_server.drop(empty)
    assert ticket["number"] == taken["number"] and ticket["text"] == taken["text"]
    assert contact["name"] == CALL["caller"]["name"]  # personal data opens again
    assert versions == {s: set(head_revisions(s)) for s in SERVICES}


def test_restore_refuses_an_unknown_schema_and_a_missing_dump(monkeypatch, tmp_path):
    unknown = _with_database(
        monkeypatch, "postgresql://x/y", "restore", str(tmp_path), "--schema", "billing"
    )
    missing = _with_database(
        monkeypatch, "postgresql://x/y", "restore", str(tmp_path), "--schema", "sla"
    )
    assert unknown.exit_code == 2 and "unknown schema" in unknown.output
    assert missing.exit_code == 2 and "sla.dump" in missing.output
