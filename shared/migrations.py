"""Alembic, one migration history per service, each in its own schema.

``upgrade`` is what ``hotline migrate`` and the test suite run; a service's ``env.py`` calls
``run_env``. Migrations of one schema are serialised by an advisory lock, so several
replicas starting together migrate once.
"""

from __future__ import annotations

import asyncio
from importlib import import_module
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from shared.db import async_url, make_engine


def script_location(service: str) -> Path:
    """Folder of a service's migrations (``<package>/migrations``)."""
    package = import_module(service)
    assert package.__file__
    return Path(package.__file__).parent / "migrations"


def alembic_config(service: str, database_url: str) -> Config:
    """An Alembic config for one service, without any ini file."""
    config = Config()
    config.set_main_option("script_location", str(script_location(service)))
    # Passed as an attribute: a URL's %-escapes would trip the ini interpolation.
    config.attributes["database_url"] = database_url
    return config


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    """Bring one service's schema to ``revision`` (runs its own event loop: call from sync code)."""
    command.upgrade(alembic_config(service, database_url), revision)


def head_revisions(service: str) -> frozenset[str]:
    """The revisions a fully migrated schema of ``service`` is at."""
    scripts = ScriptDirectory(str(script_location(service)))
    return frozenset(scripts.get_heads())


def run_env(*, schema: str, target_metadata: MetaData | None = None) -> None:
    """The body of every service's ``env.py``."""
    url = context.config.attributes["database_url"]
    options: dict[str, Any] = {
        "target_metadata": target_metadata,
        "version_table_schema": schema,
        "include_schemas": True,
        "include_name": lambda name, type_, _: type_ != "schema" or name == schema,
    }
    if context.is_offline_mode():
        context.configure(url=async_url(url), literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return

    def migrate(connection: Connection) -> None:
        # The lock first: two replicas creating the schema at once would otherwise race on
        # CREATE SCHEMA IF NOT EXISTS (a unique violation in pg_namespace).
        connection.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"alembic:{schema}"}
        )
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = make_engine(url, pool_size=1, application_name=f"{schema}-migrate")
        try:
            async with engine.begin() as connection:
                await connection.run_sync(migrate)
        finally:
            await engine.dispose()

    asyncio.run(main())
