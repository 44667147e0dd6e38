"""The routes of an app and the roles each admits (read from its ``require(...)`` dependency)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from shared.auth import Role


def admitted_roles(route: APIRoute) -> frozenset[Role] | None:
    """The roles the route's `require(...)` dependency admits (None: an open route)."""
    stack = list(route.dependant.dependencies)
    while stack:
        dependency = stack.pop()
        admitted = getattr(dependency.call, "admitted_roles", None)
        if admitted is not None:
            return admitted
        stack.extend(dependency.dependencies)
    return None


def api_routes(routes: Any) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (kept as such by newer FastAPI)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)


def guarded_routes(app: FastAPI) -> Iterator[tuple[str, str, frozenset[Role]]]:
    for route in api_routes(app.routes):
        admitted = admitted_roles(route)
        if admitted is not None:
            for method in sorted(route.methods):
                yield method, route.path, admitted
