"""The identity service's app (served with `hotline serve identity`)."""

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from identity import service
from identity.oidc import OidcClient
from identity.router import router
from shared.db import session_scope
from shared.service import create_app


def build_app(**overrides: Any) -> FastAPI:
    """The identity app; tests pass an engine or a clock through ``overrides``."""
    app = create_app(service="identity", routers=[router], **overrides)

    async def prune(session: AsyncSession) -> int:
        return await service.prune(session, app.state.clock.now())

    async def signed_out() -> dict[str, float]:
        # The directory itself: no request to itself.
        async with session_scope(app.state.sessions) as session:
            found = await service.signed_out(session, app.state.settings)
        return {s.subject: s.at.timestamp() for s in found.items}

    app.state.hourly.append(prune)
    app.state.signed_out_source = signed_out
    settings = app.state.settings
    app.state.oidc = OidcClient(
        settings, httpx.AsyncClient(timeout=httpx.Timeout(settings.http_timeout_seconds * 2))
    )
    return app
