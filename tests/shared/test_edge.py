"""The edge of every service: oversized requests refused first, a lost database is a 503."""

import socket

from shared.auth import Role
from shared.db import make_engine
from shared.settings import Settings


async def test_a_huge_url_is_refused_before_routing_and_logging(make_app, client_for, capsys):
    app = make_app("dispatch")
    async with client_for(app) as anonymous:
        huge = await anonymous.get("/nope/" + "a" * 60_000)
        health = await anonymous.get("/healthz")
    assert huge.status_code == 414
    assert huge.json()["error"]["code"] == "uri_too_long"
    assert health.status_code == 200
    service_lines = [
        line for line in capsys.readouterr().out.splitlines() if '"logger": "httpx"' not in line
    ]  # the test client's own log names its URL; the service logged nothing of it
    assert not any("a" * 1000 in line for line in service_lines)


async def test_a_body_over_the_limit_is_413_and_never_read_whole(make_app, client_for):
    app = make_app("intake")
    limit = app.state.settings.max_body_bytes
    async with client_for(app, Role.AGENT) as client:
        declared = await client.post(
            "/v1/tickets", content=b"x" * (limit + 1), headers={"content-type": "application/json"}
        )

        async def chunks():  # no Content-Length: counted as it streams
            for _ in range(limit // 65536 + 2):
                yield b" " * 65536

        streamed = await client.post(
            "/v1/tickets", content=chunks(), headers={"content-type": "application/json"}
        )
    assert declared.status_code == streamed.status_code == 413
    assert streamed.json()["error"]["code"] == "payload_too_large"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_a_database_that_cannot_be_reached_answers_503_with_retry_after(client_for):
    from dispatch.app import build_app

    url = f"postgresql://hotline@127.0.0.1:{_closed_port()}/hotline"
    engine = make_engine(url, pool_size=1)
    app = build_app(settings=Settings(env="test", database_url=url), engine=engine, run_relay=False)
    try:
        async with client_for(app, Role.DISPATCHER) as agency:
            queue = await agency.get("/v1/queue")
            dispatch = await agency.post(
                "/v1/tickets/t/dispatch", json={}, headers={"Idempotency-Key": "k"}
            )
    finally:
        await engine.dispose()
    for answer in (queue, dispatch):
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "2"
        assert answer.json()["error"]["code"] == "database_unavailable"


async def test_values_the_database_cannot_take_are_422_and_change_nothing(
    make_app, client_for, session
):
    from sqlalchemy import text

    from tests.intake.conftest import CALL

    intake = make_app("intake")
    async with client_for(intake, Role.AGENT) as agent:
        # The words people write are checked at the edge (the field is named) ...
        in_words = await agent.post("/v1/tickets", json={**CALL, "text": "工地噪音\u0000扰民"})
        # ... and any other text PostgreSQL refuses is a 422 too, never a 500.
        nul = await agent.post("/v1/tickets", json={**CALL, "place": "林和西路\u0000"})
    dispatch = make_app("dispatch")
    async with client_for(dispatch, Role.DISPATCHER) as agency:
        past_int64 = await agency.post(
            f"/v1/returns/{2**70}/decision", json={"decision": "reject", "reason": "x"}
        )
    assert (in_words.status_code, nul.status_code, past_int64.status_code) == (422, 422, 422)
    assert "NUL" in in_words.json()["error"]["message"]
    assert nul.json()["error"]["code"] == "invalid_value"
    assert await session.scalar(text("SELECT count(*) FROM intake.ticket")) == 0
