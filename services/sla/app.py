"""The sla service's app (served with `hotline serve sla`)."""

from typing import Any

from fastapi import FastAPI

from shared.service import create_app
from sla.calendar.router import router as calendar_router
from sla.calendar.service import CalendarCache
from sla.time_limits.router import router as time_limits_router


def build_app(**overrides: Any) -> FastAPI:
    """The sla app; tests pass an engine or a clock through ``overrides``."""
    app = create_app(service="sla", routers=[calendar_router, time_limits_router], **overrides)
    app.state.calendar_cache = CalendarCache()
    return app
