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
    others = {service: set() for service in SERVICES if service != "intake"}
    assert found == {"intake": set(head_revisions("intake")), **others}


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


def test_tickets_of_an_older_schema_get_the_head_of_their_history_chain(empty_database_url):
    """dispatch_0014: each ticket's history_head is the hash of its newest entry (Art 26),
    from which the next entry chains on."""
    upgrade("dispatch", empty_database_url, "dispatch_0013")

    async def seed_then_read() -> list[tuple[str, str | None]]:
        connection = await asyncpg.connect(asyncpg_dsn(empty_database_url))
        try:
            for ticket, hashes in (("t1", ["a1", "a2"]), ("t2", [])):
                await connection.execute(
                    "INSERT INTO dispatch.ticket (id, number, ticket_type, summary, status,"
                    " co_handlers, approved_returns, verification_open, rehandled, received_at,"
                    " overdue, dispatch_overdue, new_situation_pending, change_seq, created_at,"
                    " updated_at, line) VALUES ($1, $1, 'complaint', 's', 'awaiting_dispatch',"
                    " '{}', 0, true, false, now(), false, false, false, 1, now(), now(), '12345')",
                    ticket,
                )
                previous = "0" * 64
                for digest in hashes:
                    await connection.execute(
                        "INSERT INTO dispatch.ticket_event (ticket_id, at, actor, role, action,"
                        " status, details, prev_hash, hash) VALUES ($1, now(), 'x', 'service',"
                        " 'submitted', 'awaiting_dispatch', '{}', $2, $3)",
                        ticket,
                        previous,
                        digest,
                    )
                    previous = digest
            await asyncio.to_thread(upgrade, "dispatch", empty_database_url)
            rows = await connection.fetch(
                "SELECT id, history_head FROM dispatch.ticket ORDER BY id"
            )
            return [(r["id"], r["history_head"]) for r in rows]
        finally:
            await connection.close()

    assert asyncio.run(seed_then_read()) == [("t1", "a2"), ("t2", None)]
