"""The sla service's app (served with `hotline serve sla`)."""

from typing import Any

from fastapi import FastAPI

from shared.db import session_scope
from shared.service import create_app, warm_up
from sla.assessment.router import router as assessment_router
from sla.calendar.router import router as calendar_router
from sla.calendar.service import CalendarCache
from sla.clocks.measures import clock_measures
from sla.clocks.router import router as clocks_router
from sla.clocks.tasks import handlers, run_scheduler
from sla.dashboard.router import router as dashboard_router
from sla.supervision.router import router as supervision_router
from sla.time_limits.router import router as time_limits_router


async def _build_calendar(app: FastAPI) -> None:
    async with session_scope(app.state.sessions) as session:
        await app.state.calendar_cache.get(session)


def _calendar_ready(app: FastAPI) -> str | None:
    return None if app.state.calendar_cache.ready else "working calendar loading"


def build_app(*, run_scan: bool = True, **overrides: Any) -> FastAPI:
    """The sla app; tests pass an engine or a clock through ``overrides``."""
    app = create_app(
        service="sla",
        routers=[
            calendar_router,
            time_limits_router,
            clocks_router,
            supervision_router,
            dashboard_router,
            assessment_router,
        ],
        background=[
            warm_up("working calendar", _build_calendar),
            *([run_scheduler] if run_scan else []),
        ],
        readiness=[_calendar_ready],
        measures=[clock_measures],
        **overrides,
    )
    app.state.calendar_cache = CalendarCache()
    if "event_handlers" not in overrides:
        app.state.event_handlers = handlers(app.state)
    return app
