import httpx
import pytest

from shared.clients.base import ServiceClient
from shared.errors import PeerFailed, PeerRefused, PeerUnavailable

slept: list[float] = []


async def _no_wait(seconds: float) -> None:
    slept.append(seconds)  # retries' pauses are injected: the tests never sleep


def _client(handler, retries=2) -> ServiceClient:
    return ServiceClient(
        peer="sla",
        base_url="http://sla",
        token=lambda: "tok",
        retries=retries,
        transport=httpx.MockTransport(handler),
        sleep=_no_wait,
    )


async def test_idempotent_call_is_retried_after_a_5xx():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503) if len(calls) == 1 else httpx.Response(200, json={"ok": 1})

    response = await _client(handler).request("GET", "/v1/calendar/due")
    assert response.json() == {"ok": 1}
    assert len(calls) == 2
    assert calls[0].headers["authorization"] == "Bearer tok"


async def test_post_without_idempotency_key_is_not_repeated():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(502)

    with pytest.raises(PeerUnavailable, match="502"):
        await _client(handler).request("POST", "/v1/tickets/1/extensions", json={})
    assert len(calls) == 1


async def test_post_with_idempotency_key_is_repeated():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(500) if len(calls) < 3 else httpx.Response(201, json={})

    response = await _client(handler).request(
        "POST", "/v1/tickets", json={}, headers={"Idempotency-Key": "k1"}
    )
    assert response.status_code == 201
    assert len(calls) == 3


async def test_refusal_carries_the_rule_code():
    def handler(request):
        return httpx.Response(
            409, json={"error": {"code": "extension_limit_reached", "message": "two at most"}}
        )

    with pytest.raises(PeerRefused) as refused:
        await _client(handler).request("POST", "/v1/x")
    assert refused.value.status_code == 409
    assert refused.value.code == "extension_limit_reached"


async def test_unreachable_peer_is_peer_unavailable():
    def handler(request):
        raise httpx.ConnectError("refused")

    with pytest.raises(PeerUnavailable, match="sla unreachable"):
        await _client(handler, retries=1).request("GET", "/v1/x")


async def test_a_server_error_on_this_request_is_told_apart_from_an_unavailable_peer():
    slept.clear()

    def handler(request):
        return httpx.Response(500)

    with pytest.raises(PeerFailed, match="500"):
        await _client(handler, retries=2).request("GET", "/v1/x")
    assert slept == [0.4, 0.8]  # backing off between the three attempts


async def test_a_call_made_while_serving_a_request_carries_its_id():
    """One trace: the peer logs the call under the id of the request that made it."""
    import structlog

    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("x-request-id"))
        return httpx.Response(200, json={})

    with structlog.contextvars.bound_contextvars(request_id="in-00000042"):
        await _client(handler).request("GET", "/v1/calendar/due")
    await _client(handler).request("GET", "/v1/calendar/due")
    assert seen == ["in-00000042", None]
