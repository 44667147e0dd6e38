"""A unit reaches only its own tickets (roles per endpoint: tests/e2e/test_access_matrix.py);
extensions through sla."""

from datetime import UTC, datetime

import httpx
import pytest

from shared.auth import Role
from shared.clients.base import ServiceClient
from tests.dispatch.test_tickets_api import FEEDBACK

UNIT_ENDPOINTS = [
    ("POST", "accept", {}),
    ("POST", "returns", {"reason": "x", "basis": "y"}),
    ("POST", "designate", {"sub_unit_id": "tianhe-street-01"}),
    ("POST", "feedback", FEEDBACK),
    ("POST", "extensions", {"reason": "x", "caller_notified": True}),
    ("POST", "new-situation", {"affects_handling": True, "reason": "x"}),
    ("POST", "repeat-answer", FEEDBACK),
    ("POST", "long-running", {"plan": "x"}),
    ("POST", "progress", {"plan": "x"}),
    (
        "POST",
        "legal-procedure",
        {"procedure": "litigation", "reference": "x", "guidance_department": "city-urban"},
    ),
    ("POST", "legal-procedure-ended", {"reason": "x"}),
    ("POST", "sub-unit-result/review", {"approved": True}),
    ("GET", "", None),
    ("GET", "history", None),
]


@pytest.fixture
async def dispatched(submit, agency):
    ticket_id = await submit()
    async with agency() as client:
        assert (await client.post(f"/v1/tickets/{ticket_id}/dispatch", json={})).is_success
    return ticket_id


@pytest.mark.parametrize(("method", "path", "body"), UNIT_ENDPOINTS)
async def test_every_unit_endpoint_refuses_another_units_token(
    dispatched, unit, method, path, body
):
    url = f"/v1/tickets/{dispatched}/{path}".rstrip("/")
    async with unit("haizhu-urban") as client:
        response = await client.request(method, url, json=body)
    assert response.status_code == 403, response.text


async def test_a_unit_cannot_poll_another_units_tickets(dispatched, unit, as_role):
    async with unit("haizhu-urban") as client:
        assert (await client.get("/v1/units/tianhe-urban/tickets")).status_code == 403
    async with as_role(Role.SUB_UNIT, "tianhe-street-01") as client:
        assert (await client.get("/v1/units/tianhe-urban/tickets")).status_code == 403
        own = await client.get("/v1/units/tianhe-street-01/tickets")
    assert own.json()["items"] == []  # nothing designated to it


def _sla(handler) -> ServiceClient:
    return ServiceClient(
        peer="sla",
        base_url="http://sla",
        token=lambda: "t",
        retries=0,
        transport=httpx.MockTransport(handler),
    )


async def test_art18_extension_is_granted_by_sla_and_shown(dispatched, dispatch_app, unit):
    asked = []

    def sla(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(
            200,
            json={
                "ticket_id": dispatched,
                "due_at": "2026-12-22T00:00:00+08:00",
                "due_date": "2026-12-21",
                "extensions_used": 1,
            },
        )

    dispatch_app.state.clients["sla"] = _sla(sla)
    async with unit() as client:
        await client.post(f"/v1/tickets/{dispatched}/accept")
        untold = await client.post(
            f"/v1/tickets/{dispatched}/extensions",
            json={"reason": "需协调多部门", "caller_notified": False},
        )
        extended = await client.post(
            f"/v1/tickets/{dispatched}/extensions",
            json={"reason": "需协调多部门", "caller_notified": True},
            headers={"Idempotency-Key": "ext-1"},
        )
    assert untold.json()["error"]["code"] == "caller_not_notified"
    assert datetime.fromisoformat(extended.json()["handling_due_at"]) == datetime(
        2026, 12, 21, 16, tzinfo=UTC
    )
    assert asked[0].headers["idempotency-key"] == f"{dispatched}:extension:1"


async def test_art18_sla_refusal_keeps_its_rule(dispatched, dispatch_app, unit):
    def sla(request):
        return httpx.Response(
            409,
            json={"error": {"code": "extension_limit_reached", "message": "at most two (Art 18)"}},
        )

    dispatch_app.state.clients["sla"] = _sla(sla)
    async with unit() as client:
        await client.post(f"/v1/tickets/{dispatched}/accept")
        refused = await client.post(
            f"/v1/tickets/{dispatched}/extensions", json={"reason": "x", "caller_notified": True}
        )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "extension_limit_reached"


async def test_extension_while_sla_is_down_is_503_and_changes_nothing(
    dispatched, dispatch_app, unit
):
    def sla(request):
        raise httpx.ConnectError("down")

    dispatch_app.state.clients["sla"] = _sla(sla)
    async with unit() as client:
        await client.post(f"/v1/tickets/{dispatched}/accept")
        response = await client.post(
            f"/v1/tickets/{dispatched}/extensions", json={"reason": "x", "caller_notified": True}
        )
        ticket = (await client.get(f"/v1/tickets/{dispatched}")).json()
    assert response.status_code == 503
    assert ticket["handling_due_at"] is None


async def test_art5_a_district_hotline_agency_works_its_own_districts_tickets(
    submit, as_role, agency
):
    tianhe = await submit(district="天河区")
    haizhu = await submit(district="海珠区", category="noise.construction")
    async with as_role(Role.DISPATCHER, district="天河区") as district_agency:
        queue = [t["id"] for t in (await district_agency.get("/v1/queue")).json()["items"]]
        own = await district_agency.get(f"/v1/tickets/{tianhe}")
        other = await district_agency.get(f"/v1/tickets/{haizhu}")
        refused = await district_agency.post(
            f"/v1/tickets/{haizhu}/dispatch", json={"unit_id": "haizhu-urban"}
        )
        dispatched = await district_agency.post(f"/v1/tickets/{tianhe}/dispatch", json={})
    async with agency() as city:  # the city agency sees every district
        city_queue = [t["id"] for t in (await city.get("/v1/queue")).json()["items"]]
        await city.post(f"/v1/tickets/{haizhu}/dispatch", json={"unit_id": "tianhe-urban"})
    async with as_role(Role.SUPERVISOR, district="天河区") as district_supervisor:
        polled = (await district_supervisor.get("/v1/units/tianhe-urban/tickets")).json()
    assert queue == [tianhe]
    assert (own.status_code, other.status_code, refused.status_code) == (200, 403, 403)
    assert dispatched.status_code == 200, dispatched.text
    assert haizhu in city_queue  # tianhe was dispatched by its district already
    # tianhe-urban also holds the Haizhu ticket; the Tianhe agency sees only its own.
    assert [t["id"] for t in polled["items"]] == [tianhe]
