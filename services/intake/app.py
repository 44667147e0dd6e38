"""The intake service's app (served with `hotline serve intake`)."""

import hashlib
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from intake.citizens import open311
from intake.citizens import router as citizens
from intake.citizens import service as citizens_service
from intake.citizens.pages import public_pages
from intake.citizens.store import store_for
from intake.classify.router import router as classify_router
from intake.classify.service import ModelCache
from intake.clusters.router import router as clusters_router
from intake.conduct.router import router as conduct_router
from intake.kb.router import router as kb_router
from intake.privacy import vault_for
from intake.tickets import keeping
from intake.tickets.events import handlers
from intake.tickets.router import router as tickets_router
from intake.tickets.service import CALLER_SMS, caller_route
from shared.service import create_app, warm_up


async def _load_classifier(app: FastAPI) -> None:
    await app.state.model_cache.warm(app.state.sessions, now=app.state.clock.now())


def _classifier_ready(app: FastAPI) -> str | None:
    return None if app.state.model_cache.ready else "classifier warming up"


def _erase_expired(app: FastAPI) -> Any:
    """The hourly erasure of callers' personal data past the retention period (if one is set)."""

    async def erase(session: AsyncSession) -> int:
        days = app.state.settings.pii_retention_days
        if days is None:
            return 0
        now = app.state.clock.now()
        cutoff = now - timedelta(days=days)
        erased = await keeping.erase_expired(session, closed_before=cutoff, now=now)
        return erased + await keeping.erase_unreviewed(session, received_before=cutoff)

    return erase


def build_app(**overrides: Any) -> FastAPI:
    """The intake app; tests pass an engine or a clock through ``overrides``."""
    app = create_app(
        service="intake",
        routers=[
            tickets_router,
            kb_router,
            classify_router,
            conduct_router,
            clusters_router,
            citizens.public,
            citizens.router,
            open311.router,
        ],
        background=[warm_up("classifier", _load_classifier)],
        readiness=[_classifier_ready],
        **overrides,
    )
    # The public pages (我要反映, 办理进度): static, calling the public endpoints beside them.
    app.mount("/public", public_pages(), name="public")
    app.state.vault = vault_for(app.state.settings)
    app.state.store = store_for(app.state.settings)
    # Challenges are signed with a key of their own, derived from the personal-data key.
    pii_key = app.state.settings.pii_key.get_secret_value()
    app.state.challenge_key = hashlib.sha256(f"public-challenge|{pii_key}".encode()).digest()
    app.state.hourly.append(_erase_expired(app))
    app.state.hourly.append(
        lambda session: citizens_service.prune(session, now=app.state.clock.now())
    )
    notifier = app.state.notifier
    notifier.resolvers[CALLER_SMS] = caller_route(notifier, app.state.vault)
    app.state.model_cache = ModelCache()
    if "event_handlers" not in overrides:
        app.state.event_handlers = handlers(app.state)
    return app
