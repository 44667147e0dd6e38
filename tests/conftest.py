"""Fixtures shared by every test: a real PostgreSQL, per-test transactions, apps, the clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from shared.auth import Role, mint_token
from shared.clock import FixedClock
from shared.db import make_engine
from shared.settings import Settings
from tests.support.databases import DatabaseServer

# A Monday morning in Guangzhou; tests move it forward, never sleep.
TEST_START = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


@pytest.fixture(scope="session")
def database_server() -> Iterator[DatabaseServer]:
    server = DatabaseServer()
    server.create_template()
    yield server
    server.close()


@pytest.fixture(scope="session")
def database_url(database_server: DatabaseServer) -> Iterator[str]:
    """The run's working database, migrated to head (a copy of the template)."""
    name = database_server.copy_template()
    yield database_server.url_for(name)
    database_server.drop(name)


@pytest.fixture
def fresh_database_url(database_server: DatabaseServer) -> Iterator[str]:
    """A database of this test's own, migrated to head, for tests that must commit."""
    name = database_server.copy_template("hotline_own")
    yield database_server.url_for(name)
    database_server.drop(name)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(env="test", database_url=database_url)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url, pool_size=2, application_name="tests")
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside an outer transaction that is rolled back after the test."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        # SQLAlchemy sends BEGIN with the first statement of its own: send it now, or a
        # statement sent through the driver first (shared.db.DriverStatement) would commit.
        await connection.execute(text("SELECT 1"))
        yield connection
        await transaction.rollback()


@pytest.fixture
async def session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session whose commits are savepoints of the test's outer transaction."""
    async with AsyncSession(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    ) as session:
        yield session


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(TEST_START)


@pytest.fixture
def make_app(
    settings: Settings, engine: AsyncEngine, connection: AsyncConnection, clock: FixedClock
) -> Callable[..., FastAPI]:
    """Build a service's app whose requests run inside the test's transaction."""

    def build(service: str, **overrides: Any) -> FastAPI:
        from importlib import import_module

        options: dict[str, Any] = {
            "settings": settings,
            "engine": engine,
            "clock": clock,
            "run_relay": False,
        }
        options.update(overrides)
        app = import_module(f"{service}.app").build_app(**options)
        # Every unit of work of the app (requests, idempotency keys) is a savepoint of the
        # test's transaction, rolled back after the test.
        app.state.sessions = async_sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        # Statements outside a transaction would not see the test's: they join it too.
        app.state.autocommit = _Joined(connection)
        return app

    return build


class _Joined:
    """An engine whose one connection is the test's (``AutocommitDep`` in tests)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        yield self.connection


@pytest.fixture
def token(settings: Settings) -> Callable[..., str]:
    def mint(
        role: Role | str,
        unit_id: str | None = None,
        subject: str | None = None,
        district: str | None = None,
    ) -> str:
        # A service token names its service; one that names none stands for intake.
        default = "intake" if role == Role.SERVICE else f"test-{role}"
        return mint_token(
            settings,
            role=role,
            subject=subject or default,
            unit_id=unit_id,
            district=district,
        )

    return mint


@pytest.fixture
def client_for(token: Callable[..., str]) -> Callable[..., httpx.AsyncClient]:
    """An in-process client of an app, authenticated as ``role`` (or anonymous); a service
    client names the service it stands for (``as_service="dispatch"``)."""

    def build(
        app: FastAPI,
        role: Role | str | None = None,
        unit_id: str | None = None,
        *,
        as_service: str | None = None,
        district: str | None = None,
    ) -> httpx.AsyncClient:
        """``district``: a district hotline agency's staff (Art 5)."""
        bearer = token(role, unit_id, as_service, district) if role else None
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        # Unexpected errors answer 500 as in production instead of raising into the test.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        return httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers)

    return build
