"""The routes of an app and the roles each admits (read from its ``require(...)`` dependency)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI

from shared.auth import Role
from shared.service import admitted_roles, api_routes


def guarded_routes(app: FastAPI) -> Iterator[tuple[str, str, frozenset[Role]]]:
    for route in api_routes(app.routes):
        admitted = admitted_roles(route)
        if admitted is not None:
            for method in sorted(route.methods):
                yield method, route.path, admitted
