"""Engine, sessions and schema metadata on asyncpg.

One PostgreSQL database, one schema per service. The request's session commits on success
and rolls back on error; service functions may ``flush()`` but never ``commit()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import MetaData
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlmodel import SQLModel

# Predictable constraint names, so that Alembic migrations can name what they drop.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SERVICES = ("intake", "dispatch", "sla", "identity")

# Table models of all the services share SQLModel's metadata (each in its own schema).
SQLModel.metadata.naming_convention = NAMING_CONVENTION


def schema_metadata(schema: str) -> MetaData:
    """Metadata for one service's schema with the suite's naming convention."""
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def async_url(database_url: str) -> URL:
    """Turn any ``postgresql://`` URL into the asyncpg dialect's URL."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"only PostgreSQL is supported, not {url.get_backend_name()!r}")
    return url.set(drivername="postgresql+asyncpg")


def asyncpg_dsn(database_url: str) -> str:
    """The same database as a plain DSN for raw asyncpg connections (LISTEN/NOTIFY)."""
    return (
        async_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


def make_engine(
    database_url: str, *, pool_size: int = 10, application_name: str = "hotline"
) -> AsyncEngine:
    """An async engine. A restarted database heals without a ping before every use (a round
    trip per transaction, 5 % of a ticket's CPU): the first statement that finds its
    connection gone makes SQLAlchemy discard every connection the pool held from before."""
    return create_async_engine(
        async_url(database_url),
        pool_size=pool_size,
        max_overflow=pool_size,
        # A failed statement's error text must not carry its parameters (callers' sealed
        # data, phone hashes, free text) into a log line.
        hide_parameters=True,
        connect_args={"server_settings": {"application_name": application_name}},
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def session_scope(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit if the block succeeds, roll back if it raises."""
    async with sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


@asynccontextmanager
async def standalone_session(
    database_url: str, *, application_name: str
) -> AsyncIterator[AsyncSession]:
    """A unit of work for a command (no app, no pool kept): its own engine, disposed after."""
    engine = make_engine(database_url, pool_size=1, application_name=application_name)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            yield session
    finally:
        await engine.dispose()


class DriverStatement:
    """A hot statement built and compiled once and sent through asyncpg, which prepares it
    once per connection: SQLAlchemy executing a statement costs about 50 µs of CPU more than
    the driver alone, per call (docs/benchmarks.md). The connection is SQLAlchemy's, checked
    out of the pool as usual; one the driver finds broken is invalidated, as SQLAlchemy does
    with the statements it sends itself, so that the pool does not hand it out again."""

    def __init__(self, statement: ClauseElement) -> None:
        compiled = statement.compile(dialect=asyncpg_dialect.dialect())
        assert isinstance(compiled, SQLCompiler)  # a statement, not DDL
        self.sql = str(compiled)
        self.names = tuple(compiled.positiontup or ())
        self.defaults = compiled.params  # the statement's own literals, bound anonymously

    async def fetchval(self, connection: AsyncConnection, params: Mapping[str, Any]) -> Any:
        """The first column of the first row (None without a row)."""
        values = self.defaults | dict(params)
        arguments = [values[name] for name in self.names]  # a missing one is the caller's bug
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None  # a checked-out connection holds its driver's
        try:
            return await driver.fetchval(self.sql, *arguments)
        except asyncpg.PostgresError as error:
            # The server answered: the connection is sound unless it is going away.
            if (error.sqlstate or "").startswith(("08", "57P")):
                await connection.invalidate()
            raise
        except BaseException:  # the socket, or a cancellation mid-statement: state unknown
            await connection.invalidate()
            raise
