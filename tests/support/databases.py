"""Test databases: one migrated template per run, cheap copies of it per test that needs one.

The server is ``TEST_DATABASE_URL`` when set, else an embedded PostgreSQL in
``.data/test-pg`` that stops when the run ends.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from hotline.reference import load_all
from shared import embedded_pg
from shared.db import SERVICES, asyncpg_dsn
from shared.migrations import upgrade

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = "hotline_test_template"


class DatabaseServer:
    """A PostgreSQL server the suite may create and drop databases on."""

    def __init__(self) -> None:
        url = os.environ.get("TEST_DATABASE_URL")
        self._embedded = None
        if not url:
            self._embedded, url = embedded_pg.start(ROOT / ".data" / "test-pg", database="postgres")
        self.admin_url = url

    def url_for(self, database: str) -> str:
        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    async def _admin(self, *statements: str) -> None:
        connection = await asyncpg.connect(asyncpg_dsn(self.admin_url))
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    def run_admin(self, *statements: str) -> None:
        """Run statements from sync or async code (in a thread: async tests hold the loop)."""
        with ThreadPoolExecutor(1) as executor:
            executor.submit(asyncio.run, self._admin(*statements)).result()

    def create_template(self) -> None:
        """A database migrated to head by the real migrations, to copy from."""
        self.drop(TEMPLATE)
        self.run_admin(f'CREATE DATABASE "{TEMPLATE}"')
        for service in SERVICES:
            upgrade(service, self.url_for(TEMPLATE))
        load_all(self.url_for(TEMPLATE), data_dir=ROOT / "data")

    def create_empty(self, prefix: str = "hotline_empty") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        self.run_admin(f'CREATE DATABASE "{name}"')
        return name

    def copy_template(self, prefix: str = "hotline_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        self.run_admin(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
        return name

    def drop(self, database: str) -> None:
        self.run_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def close(self) -> None:
        if self._embedded is not None:
            self._embedded.cleanup()
