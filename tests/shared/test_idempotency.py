"""The Idempotency-Key claim when the database goes away mid-request: the key is not left
"in progress" for the claim's whole staleness period."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import Receive, Scope, Send

from shared.auth import Role, mint_token
from shared.db import make_engine, make_sessionmaker
from shared.idempotency import IdempotencyMiddleware
from shared.settings import Settings


@pytest.fixture
async def own_engine(fresh_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(fresh_database_url, pool_size=2, application_name="tests-idempotency")
    yield engine
    await engine.dispose()


@pytest.fixture
async def unreachable() -> AsyncIterator[AsyncEngine]:
    """A database that refuses every connection (nothing listens on port 1)."""
    engine = make_engine("postgresql://postgres@127.0.0.1:1/gone", pool_size=1)
    yield engine.execution_options(isolation_level="AUTOCOMMIT")
    await engine.dispose()


async def test_a_claim_its_process_could_not_give_up_is_retried_at_once(
    own_engine: AsyncEngine, unreachable: AsyncEngine
) -> None:
    settings = Settings(env="test")
    database: dict[str, Any] = {"now": own_engine.execution_options(isolation_level="AUTOCOMMIT")}
    runs: list[str] = []

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        runs.append(scope["path"])
        if len(runs) == 1:  # the database goes away while the first attempt runs
            database["later"], database["now"] = database["now"], unreachable
            status, body = 503, b'{"error": {"code": "database_unavailable"}}'
        else:
            status, body = 201, b'{"id": "t1"}'
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    app = IdempotencyMiddleware(
        endpoint,
        schema="intake",
        settings=settings,
        sessions=lambda: make_sessionmaker(own_engine),
        autocommit=lambda: database["now"],
    )
    headers = {
        "Authorization": "Bearer " + mint_token(settings, role=Role.AGENT, subject="a1"),
        "Idempotency-Key": "call-1",
    }
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        first = await client.post("/v1/tickets", json={"text": "噪音"}, headers=headers)
        database["now"] = database["later"]  # the database is back
        retried = await client.post("/v1/tickets", json={"text": "噪音"}, headers=headers)
        replayed = await client.post("/v1/tickets", json={"text": "噪音"}, headers=headers)
        other = await client.post("/v1/tickets", json={"text": "别的事"}, headers=headers)
    assert first.status_code == 503  # answered, but its key could not be given up
    assert retried.status_code == 201 and retried.json() == {"id": "t1"}
    assert replayed.status_code == 201 and replayed.headers["idempotent-replayed"] == "true"
    assert other.status_code == 422
    assert len(runs) == 2
