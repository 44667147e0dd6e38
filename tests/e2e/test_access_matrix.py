"""Every endpoint of every service admits only the roles it declares: all others get 403."""

import re

import pytest
from fastapi.routing import APIRoute

from shared.auth import Role
from shared.db import SERVICES
from shared.service import admitted_roles
from tests.support.routes import guarded_routes


@pytest.mark.parametrize("service", SERVICES)
async def test_every_guarded_endpoint_refuses_every_other_role(make_app, client_for, service):
    app = make_app(service)
    routes = list(guarded_routes(app))
    assert len(routes) >= 5
    checked = 0
    for method, path, admitted in routes:
        url = re.sub(r"\{[^}]+\}", "1", path)
        for role in set(Role) - admitted:
            async with client_for(app, role, "some-unit") as client:
                response = await client.request(method, url, json={})
            assert response.status_code == 403, (service, method, path, role, response.text)
            checked += 1
        async with client_for(app) as anonymous:
            assert (await anonymous.request(method, url, json={})).status_code == 401, path
    assert checked > 0


@pytest.mark.parametrize("service", SERVICES)
def test_only_operations_endpoints_are_open(make_app, service):
    open_paths = {
        route.path
        for route in make_app(service).routes
        if isinstance(route, APIRoute) and admitted_roles(route) is None
    }
    operations = {"/healthz", "/readyz", "/metrics", "/docs", "/redoc"}
    # Signing in is done without a token; the public keys are public.
    signing_in = {"/v1/sessions", "/v1/sessions/refresh", "/v1/sessions/sign-out"}
    public = signing_in | {"/.well-known/jwks.json"} if service == "identity" else set()
    assert open_paths <= operations | public, open_paths


async def test_an_endpoint_for_some_services_refuses_the_others(make_app, client_for):
    """Issue 19: a service identity is scoped to what it needs (sla takes an extension
    only from dispatch); the event inboxes check each event's sender by its contract."""
    from shared.service import admitted_services, api_routes

    checked = []
    for service in SERVICES:
        app = make_app(service)
        for route in api_routes(app.routes):
            admitted = admitted_services(route)
            for other in set(SERVICES) - (admitted or set(SERVICES)):
                url = re.sub(r"\{[^}]+\}", "1", route.path)
                async with client_for(app, Role.SERVICE, as_service=other) as client:
                    for method in route.methods:
                        response = await client.request(method, url, json={})
                        assert response.status_code == 403, (route.path, other)
                        checked.append((service, route.path, other))
    assert ("sla", "/v1/tickets/{ticket_id}/extensions", "intake") in checked, checked
