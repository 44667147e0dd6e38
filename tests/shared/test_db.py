"""A statement sent through the driver: same answers as SQLAlchemy's, and a broken connection
is not handed out again."""

import asyncpg
import pytest
from sqlalchemy import Integer, Text, bindparam, func, literal, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import DriverStatement, make_engine


async def test_a_driver_statement_binds_its_parameters_by_name(engine: AsyncEngine) -> None:
    first, second = bindparam("first", type_=Text), bindparam("second", type_=Text)
    n = bindparam("n", type_=Integer)
    statement = select(func.concat(second, "-", first, "-", literal(1) + n))
    async with engine.connect() as connection:
        got = await DriverStatement(statement).fetchval(
            connection, {"first": "a", "second": "b", "n": 41}
        )
    assert got == "b-a-42"


async def test_a_connection_the_driver_finds_broken_leaves_the_pool(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1, application_name="tests-driver")
    pid_of = DriverStatement(select(func.pg_backend_pid()))
    try:
        async with engine.connect() as connection:
            doomed = await pid_of.fetchval(connection, {})
        async with engine.connect() as other:  # the pool's one connection, checked out again
            assert await pid_of.fetchval(other, {}) == doomed
            killer = await asyncpg.connect(
                engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            )
            try:
                assert await killer.fetchval("SELECT pg_terminate_backend($1, 60000)", doomed)
            finally:
                await killer.close()
            with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
                await pid_of.fetchval(other, {})
        async with engine.connect() as connection:  # a new one, not the broken one
            assert await pid_of.fetchval(connection, {}) != doomed
    finally:
        await engine.dispose()
