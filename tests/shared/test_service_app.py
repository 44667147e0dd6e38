"""What every service answers: health, readiness, metrics, the inbox, the dev clock."""

import json
from uuid import uuid4

import pytest
from sqlalchemy import text

from shared.auth import Role, mint_token
from shared.db import SERVICES, make_engine
from shared.deps import SessionDep
from tests.support.production import production_settings


@pytest.mark.parametrize("service", SERVICES)
async def test_health_and_readiness(make_app, client_for, service, database_url):
    """Ready once migrated and warmed up in the app's lifespan (intake loads its classifier)."""
    import asyncio

    engine = make_engine(database_url, pool_size=1)  # the lifespan disposes of it
    app = make_app(service, engine=engine)
    async with app.router.lifespan_context(app), client_for(app) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        for _ in range(600):  # a minute at most; loading the stored model takes milliseconds
            ready = await client.get("/readyz")
            if ready.status_code == 200:
                break
            await asyncio.sleep(0.1)
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert all(rev.startswith(f"{service}_") for rev in ready.json()["migrations"])


async def test_readiness_fails_on_an_unmigrated_database(make_app, client_for, database_server):
    name = database_server.create_empty()
    engine = make_engine(database_server.url_for(name), pool_size=1)
    try:
        async with client_for(make_app("dispatch", engine=engine)) as client:
            response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
    finally:
        await engine.dispose()
        database_server.drop(name)


async def test_metrics_are_prometheus_text(make_app, client_for):
    async with client_for(make_app("sla")) as client:
        await client.get("/healthz")
        response = await client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    assert 'http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in response.text
    assert "outbox_pending" in response.text


async def test_openapi_is_served(make_app, client_for):
    async with client_for(make_app("intake")) as client:
        assert (await client.get("/openapi.json")).json()["info"]["title"].endswith("intake")
        assert (await client.get("/docs")).status_code == 200


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_api_docs_load_nothing_from_outside_the_service(make_app, client_for, page):
    import re

    async with client_for(make_app("dispatch")) as client:
        html = (await client.get(page)).text
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
        served = [(await client.get(a)).status_code for a in assets if a.startswith("/")]
    assert assets and all(a.startswith("/") for a in assets), assets  # no CDN, no fonts
    assert "fonts.googleapis" not in html and "cdn." not in html
    assert served and set(served) == {200}


def _envelope(event_id=None) -> dict:
    return {
        "id": str(event_id or uuid4()),
        "type": "test.counted.v1",
        "source": "intake",
        "occurred_at": "2026-11-23T01:30:00+00:00",
        "payload": {"n": 1},
        "field_from_the_future": True,
    }


async def test_inbox_applies_an_event_once(make_app, client_for):
    applied = []

    async def count(session, envelope):
        applied.append(envelope.id)

    app = make_app("dispatch", event_handlers={"test.counted.v1": count})
    envelope = _envelope()
    async with client_for(app, Role.SERVICE, as_service="intake") as client:
        first = await client.post("/v1/events", json=envelope)
        second = await client.post("/v1/events", json=envelope)
    assert first.json()["status"] == "applied"
    assert second.json()["status"] == "duplicate"
    assert len(applied) == 1


async def test_inbox_accepts_unknown_event_types_once(make_app, client_for):
    async with client_for(make_app("sla"), Role.SERVICE, as_service="intake") as client:
        body = {**_envelope(), "type": "something.new.v9"}
        assert (await client.post("/v1/events", json=body)).json()["status"] == "applied"
        assert (await client.post("/v1/events", json=body)).json()["status"] == "duplicate"


async def test_a_failing_handler_leaves_no_inbox_record(make_app, client_for):
    calls = []

    async def flaky(session, envelope):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database hiccup")

    app = make_app("dispatch", event_handlers={"test.counted.v1": flaky})
    envelope = _envelope()
    async with client_for(app, Role.SERVICE, as_service="intake") as client:
        assert (await client.post("/v1/events", json=envelope)).status_code == 500
        assert (await client.post("/v1/events", json=envelope)).json()["status"] == "applied"
    assert len(calls) == 2


async def test_a_batch_applies_each_event_alone_in_order(make_app, client_for):
    """The relay's batch: each event under its own savepoint — one whose handler fails or
    that its sender may not send is refused alone (and leaves no inbox record), the others
    stand, a redelivered one is a duplicate; one result per event, in order."""
    applied = []

    async def count(session, envelope):
        if envelope.payload.get("n") == 2:
            raise RuntimeError("this event's handler fails")
        applied.append(envelope.payload["n"])

    app = make_app("dispatch", event_handlers={"test.counted.v1": count})
    events = [{**_envelope(), "id": str(uuid4()), "payload": {"n": n}} for n in (1, 2, 3)]
    forged = {**_envelope(), "id": str(uuid4()), "source": "sla"}
    async with client_for(app, Role.SERVICE, as_service="intake") as client:
        first = await client.post("/v1/events/batch", json={"events": [*events, forged]})
        again = await client.post("/v1/events/batch", json={"events": events})
        empty = await client.post("/v1/events/batch", json={"events": []})
    statuses = [(r["status"], r["error"]) for r in first.json()["results"]]
    assert statuses == [
        ("applied", None),
        ("refused", "failed: RuntimeError"),
        ("applied", None),
        ("refused", "forbidden: intake may not send test.counted.v1 as sla"),
    ]
    assert [r["id"] for r in first.json()["results"]] == [e["id"] for e in [*events, forged]]
    # The failed one left no inbox record: redelivered, it is tried again (and fails again).
    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "refused", "duplicate"]
    assert applied == [1, 3]
    assert empty.status_code == 422


async def test_a_batch_that_fails_part_way_is_applied_again_event_by_event(make_app, client_for):
    """A batch is first applied whole, without a savepoint per event; when one event fails,
    that attempt is rolled back — its inbox records too, so the event before the failure is
    applied again, not taken for a duplicate — and each event is applied alone."""
    attempts = []

    async def count(session, envelope):
        attempts.append(envelope.payload["n"])
        if envelope.payload["n"] == 2:
            raise RuntimeError("this event's handler fails")

    app = make_app("dispatch", event_handlers={"test.counted.v1": count})
    events = {n: {**_envelope(), "id": str(uuid4()), "payload": {"n": n}} for n in range(1, 6)}
    async with client_for(app, Role.SERVICE, as_service="intake") as client:
        mixed = await client.post(
            "/v1/events/batch", json={"events": [events[n] for n in (1, 2, 3)]}
        )
        whole = await client.post("/v1/events/batch", json={"events": [events[4], events[5]]})
    assert [r["status"] for r in mixed.json()["results"]] == ["applied", "refused", "applied"]
    assert [r["status"] for r in whole.json()["results"]] == ["applied", "applied"]
    assert attempts == [1, 2, 1, 2, 3, 4, 5]


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.SERVICE])
async def test_only_services_may_post_events(make_app, client_for, role):
    async with client_for(make_app("dispatch"), role, "u1") as client:
        response = await client.post("/v1/events", json=_envelope())
    assert response.status_code == 403


async def test_a_service_may_post_only_the_events_it_sends_under_its_own_name(
    make_app, client_for, clock
):
    """A forged status change once let another unit read a caller's contact (Art 25)."""
    from shared.events import EventEnvelope, TicketStatusChanged

    event = TicketStatusChanged(ticket_id="t", status="dispatched", unit_id="u", at=clock.now())

    def envelope(source: str) -> dict:
        return EventEnvelope(
            type=event.type_name,
            source=source,
            occurred_at=clock.now(),
            payload=event.model_dump(mode="json"),
        ).model_dump(mode="json")

    app = make_app("intake")
    async with client_for(app, Role.SERVICE, as_service="sla") as sla:
        as_itself = await sla.post("/v1/events", json=envelope("sla"))
        posing = await sla.post("/v1/events", json=envelope("dispatch"))
    async with client_for(app, Role.SERVICE, as_service="dispatch") as dispatch:
        genuine = await dispatch.post("/v1/events", json=envelope("dispatch"))
    assert (as_itself.status_code, posing.status_code) == (403, 403)
    assert genuine.status_code == 200


async def test_malformed_event_is_422(make_app, client_for):
    async with client_for(make_app("dispatch"), Role.SERVICE) as client:
        response = await client.post("/v1/events", json={"type": ""})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


async def test_admin_moves_a_dev_stack_clock(make_app, client_for, clock):
    app = make_app("sla")
    before = clock.now()
    async with client_for(app, Role.ADMIN) as client:
        response = await client.post("/v1/dev/clock/advance", json={"days": 3, "hours": 2})
        read = await client.get("/v1/dev/clock")
    assert response.status_code == 200
    assert response.json()["offset_seconds"] == (3 * 24 + 2) * 3600
    assert read.json()["now"] == (clock.now()).isoformat()
    assert (clock.now() - before).days == 3


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
async def test_only_admins_move_the_clock(make_app, client_for, role):
    async with client_for(make_app("sla"), role, "u1") as client:
        response = await client.post("/v1/dev/clock/advance", json={"days": 1})
    assert response.status_code == 403


async def test_moving_the_clock_back_is_refused(make_app, client_for):
    async with client_for(make_app("sla"), Role.ADMIN) as client:
        response = await client.post("/v1/dev/clock/advance", json={"days": -1})
    assert response.status_code == 422


async def test_production_has_no_clock_control(make_app, client_for, database_url):
    production = production_settings("sla", database_url=database_url)
    app = make_app("sla", settings=production, clock=None)
    assert not app.state.clock.movable
    async with client_for(app) as client:
        token = mint_token(production_settings("identity"), role=Role.ADMIN, subject="root")
        response = await client.post(
            "/v1/dev/clock/advance", json={"days": 1}, headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 404


async def test_request_id_is_echoed_and_access_log_is_redacted(make_app, client_for, capsys):
    async with client_for(make_app("intake"), Role.AGENT) as client:
        response = await client.get(
            "/v1/nowhere?caller_phone=13812345678", headers={"X-Request-ID": "req-42"}
        )
    assert response.headers["x-request-id"] == "req-42"
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    access = [line for line in lines if line.get("event") == "request"]
    assert access and access[-1]["request_id"] == "req-42"
    assert "13812345678" not in json.dumps(lines)
    assert access[-1]["query"] == ["caller_phone"]


async def test_query_values_and_sql_parameters_never_reach_the_log(make_app, client_for, capsys):
    """A KB question is a caller's words; a failed statement's parameters can be anything."""
    app = make_app("intake")
    async with client_for(app, Role.AGENT) as client:
        await client.get("/v1/kb/search", params={"q": "我家住天河区林和西路88号怎么办居住证"})

    async def failing(session: SessionDep) -> None:
        await session.execute(
            text("SELECT CAST(:address AS integer)"), {"address": "天河区林和西路88号"}
        )

    app.add_api_route("/v1/failing", failing)
    async with client_for(app, Role.AGENT) as client:
        failed = await client.get("/v1/failing")
    assert failed.status_code == 422  # a value the database refused
    out = capsys.readouterr().out
    assert "林和西路88号" not in out


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_declares_the_errors_it_can_answer(make_app, service):
    document = make_app(service).openapi()
    for path, operations in document["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            declared = set(operation["responses"])
            assert {"401", "403", "409", "422", "503"} <= declared, (method, path, declared)
    assert "ErrorBody" in document["components"]["schemas"]


async def test_idempotency_keys_are_forgotten_after_their_retention(make_app, client_for):
    from datetime import timedelta

    from shared.idempotency import forget_older_than
    from tests.intake.conftest import CALL

    app = make_app("intake")
    async with client_for(app, Role.AGENT) as agent:
        first = await agent.post("/v1/tickets", json=CALL, headers={"Idempotency-Key": "k9"})
        kept = await forget_older_than(app.state.sessions, "intake", timedelta(hours=24))
        forgotten = await forget_older_than(app.state.sessions, "intake", timedelta(0))
        # The key is forgotten; intake's own agent-scoped key still answers the same ticket.
        other_body = await agent.post(
            "/v1/tickets", json={**CALL, "text": "另一件事"}, headers={"Idempotency-Key": "k9"}
        )
    assert (kept, forgotten) == (0, 1)
    assert other_body.status_code == 200  # not 422: the shared key store no longer knows it
    assert other_body.json()["id"] == first.json()["id"]


@pytest.mark.parametrize("service", SERVICES)
def test_the_api_docs_declare_the_bearer_token_and_each_operations_roles(make_app, service):
    """/docs has an Authorize button: operations that want a token say so, with their roles;
    open ones (health, signing in) do not."""
    document = make_app(service).openapi()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    labels = document["paths"]["/v1/labels"]["get"]
    assert labels["security"] == [{"bearer": []}]
    assert "Roles: admin, agent" in labels["description"]
    assert "security" not in document["paths"]["/healthz"]["get"]
    if service == "identity":
        assert "security" not in document["paths"]["/v1/sessions"]["post"]
        assert document["paths"]["/v1/users"]["post"]["description"].endswith("Roles: admin")
