"""The dispatch service's app (served with `hotline serve dispatch`)."""

from typing import Any

from fastapi import FastAPI

from dispatch.directory.channels import router as channels_router
from dispatch.directory.router import router as directory_router
from dispatch.tickets.agency_router import router as agency_router
from dispatch.tickets.events import handlers
from dispatch.tickets.measures import open_tickets
from dispatch.tickets.router import router as tickets_router
from dispatch.tickets.service import prune_unit_changes
from dispatch.tickets.unit_router import router as unit_router
from shared.service import create_app


def build_app(**overrides: Any) -> FastAPI:
    """The dispatch app; tests pass an engine, a clock or event handlers via ``overrides``."""
    app = create_app(
        service="dispatch",
        routers=[directory_router, tickets_router, agency_router, unit_router, channels_router],
        hourly=[prune_unit_changes],
        measures=[open_tickets],
        **overrides,
    )
    if "event_handlers" not in overrides:
        app.state.event_handlers = handlers(app.state)
    return app
