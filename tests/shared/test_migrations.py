"""Each service's Alembic history: to head, back to base, and up again, in its own schema."""

import asyncio

import asyncpg
import pytest

from shared.db import SERVICES, asyncpg_dsn
from shared.migrations import head_revisions, upgrade


async def _schemas_and_versions(url: str) -> dict[str, set[str]]:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        found = {}
        for service in SERVICES:
            exists = await connection.fetchval(
                "SELECT to_regclass($1) IS NOT NULL", f"{service}.alembic_version"
            )
            rows = (
                await connection.fetch(f"SELECT version_num FROM {service}.alembic_version")
                if exists
                else []
            )
            found[service] = {r[0] for r in rows}
        return found
    finally:
        await connection.close()


@pytest.fixture
def empty_database_url(database_server):
    name = database_server.create_empty()
    yield database_server.url_for(name)
    database_server.drop(name)


def test_each_service_migrates_its_own_schema_to_head(empty_database_url):
    upgrade("intake", empty_database_url)
    found = asyncio.run(_schemas_and_versions(empty_database_url))
    assert found == {"intake": set(head_revisions("intake")), "dispatch": set(), "sla": set()}


def test_migrations_go_down_to_base_and_up_again(empty_database_url):
    from alembic import command

    from shared.migrations import alembic_config

    for service in SERVICES:
        upgrade(service, empty_database_url)
        command.downgrade(alembic_config(service, empty_database_url), "base")
        upgrade(service, empty_database_url)
    found = asyncio.run(_schemas_and_versions(empty_database_url))
    assert found == {service: set(head_revisions(service)) for service in SERVICES}


def test_upgrading_twice_changes_nothing(empty_database_url):
    upgrade("sla", empty_database_url)
    upgrade("sla", empty_database_url)
    assert asyncio.run(_schemas_and_versions(empty_database_url))["sla"] == set(
        head_revisions("sla")
    )
