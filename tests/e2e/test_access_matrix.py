"""Every endpoint of every service admits only the roles it declares: all others get 403."""

import re

import pytest
from fastapi.routing import APIRoute

from shared.auth import Role
from shared.db import SERVICES


def _admitted(route: APIRoute) -> frozenset[Role] | None:
    """The roles the route's `require(...)` dependency admits (None: an open route)."""
    stack = list(route.dependant.dependencies)
    while stack:
        dependency = stack.pop()
        admitted = getattr(dependency.call, "admitted_roles", None)
        if admitted is not None:
            return admitted
        stack.extend(dependency.dependencies)
    return None


def _api_routes(routes):
    """Every APIRoute, also inside included routers (kept as such by newer FastAPI)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)


def _guarded_routes(app):
    for route in _api_routes(app.routes):
        admitted = _admitted(route)
        if admitted is not None:
            for method in sorted(route.methods):
                yield method, route.path, admitted


@pytest.mark.parametrize("service", SERVICES)
async def test_every_guarded_endpoint_refuses_every_other_role(make_app, client_for, service):
    app = make_app(service)
    routes = list(_guarded_routes(app))
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
        if isinstance(route, APIRoute) and _admitted(route) is None
    }
    assert open_paths <= {"/healthz", "/readyz", "/metrics"}, open_paths
