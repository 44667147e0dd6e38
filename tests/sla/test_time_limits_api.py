"""Time limits over HTTP: the Measures' defaults as data, changes for future clocks."""

from datetime import timedelta

import pytest

from shared.auth import Role


@pytest.fixture
def sla(make_app):
    return make_app("sla")


async def _resolve(client, **params) -> dict:
    response = await client.get("/v1/time-limits/resolve", params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("clock_kind", "ticket_type", "days", "extensions"),
    [
        ("dispatch", "complaint", 1, 0),  # Art 13
        ("verification", "report", 2, 0),  # Art 14
        ("handling", "consultation", 2, 2),  # Art 17(1), Art 18
        ("handling", "help_request", 10, 2),  # Art 17(2), Art 18
        ("rehandling", "complaint", 10, 0),  # Art 20
        ("final_feedback", "suggestion", 3, 0),  # Art 21
    ],
)
async def test_the_measures_defaults_are_seeded(
    sla, client_for, clock_kind, ticket_type, days, extensions
):
    async with client_for(sla, Role.DISPATCHER) as client:
        limit = await _resolve(client, clock_kind=clock_kind, ticket_type=ticket_type)
    assert (limit["working_days"], limit["max_extensions"]) == (days, extensions)


async def test_a_finer_limit_applies_from_its_effective_time(sla, client_for, clock):
    tomorrow = (clock.now() + timedelta(days=1)).isoformat()
    async with client_for(sla, Role.ADMIN) as client:
        created = await client.post(
            "/v1/time-limits",
            json={
                "clock_kind": "handling",
                "category": "noise",
                "working_days": 5,
                "max_extensions": 1,
                "effective_from": tomorrow,
                "reason": "市政府: 噪声投诉从快办理",
            },
        )
        today = await _resolve(
            client, clock_kind="handling", ticket_type="complaint", category="noise"
        )
        later = await _resolve(
            client, clock_kind="handling", ticket_type="complaint", category="noise", at=tomorrow
        )
        listed = (await client.get("/v1/time-limits")).json()["items"]
    assert created.status_code == 201
    assert created.json()["created_by"] == "test-admin"
    assert today["working_days"] == 10
    assert (later["working_days"], later["max_extensions"]) == (5, 1)
    assert len(listed) == 8  # the Measures' 6 defaults (Art 13, 14, 17 ×2, 21 ×2), contact, this


@pytest.mark.parametrize(
    "body",
    [
        {"clock_kind": "handling", "working_days": 10, "max_extensions": 3, "reason": "x"},
        {"clock_kind": "rehandling", "working_days": 10, "reason": "x"},
        {
            "clock_kind": "handling",
            "working_days": 10,
            "reason": "x",
            "effective_from": "2020-01-01T00:00:00+08:00",
        },
        {"clock_kind": "handling", "working_days": 10, "reason": ""},
        {"clock_kind": "handling", "working_days": 10, "ticket_type": "rumour", "reason": "x"},
    ],
)
async def test_bad_limits_are_refused_and_change_nothing(sla, client_for, body):
    async with client_for(sla, Role.ADMIN) as client:
        before = (await client.get("/v1/time-limits")).json()["items"]
        response = await client.post("/v1/time-limits", json=body)
        listed = (await client.get("/v1/time-limits")).json()["items"]
    assert response.status_code == 422
    assert listed == before


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
async def test_only_admins_change_limits(sla, client_for, role):
    async with client_for(sla, role, "u1") as client:
        response = await client.post(
            "/v1/time-limits", json={"clock_kind": "dispatch", "working_days": 1, "reason": "x"}
        )
    assert response.status_code == 403


async def test_a_limit_added_applies_at_once_in_the_session_that_read_the_limits(session, clock):
    """Limits are read once per session (a batch of events starts many clocks): adding one
    drops what the session read, so a clock started after it gets it."""
    from sla.time_limits import service
    from sla.time_limits.models import TimeLimit

    from shared.vocabulary import ClockKind

    def resolve():
        return service.resolve(
            session,
            clock_kind=ClockKind.HANDLING,
            ticket_type="complaint",
            category="noise",
            at=clock.now(),
        )

    before = await resolve()
    await service.add_limit(
        session,
        TimeLimit(
            clock_kind="handling",
            category="noise",
            working_days=5,
            max_extensions=1,
            effective_from=clock.now() - timedelta(days=1),
            reason="市政府: 噪声投诉从快办理",
            created_by="test-admin",
            created_at=clock.now(),
        ),
    )
    assert (before.working_days, (await resolve()).working_days) == (10, 5)
