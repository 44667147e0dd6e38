"""Builds a service's FastAPI app with everything the three have in common.

Health, readiness and metrics endpoints, error mapping, request ids and redacted request
logs, the clock, the database, peer clients, the event inbox and the outbox relay.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import datetime, timedelta
from functools import cache, partial
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

import httpx
import structlog
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.datastructures import State
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import i18n
from shared.auth import Principal, Role, authenticated, issuer_of, require, token_keys
from shared.catalogue import Category, catalogue, places
from shared.clients.base import ServiceClient, ServiceTokens
from shared.clock import Clock
from shared.db import SERVICES, asyncpg_dsn, make_engine, make_sessionmaker, session_scope
from shared.deps import ClockDep, SessionDep, SettingsDep
from shared.edge import EdgeMiddleware
from shared.errors import (
    ERROR_RESPONSES,
    BadInput,
    DomainError,
    Forbidden,
    error_body,
    install_error_handlers,
    request_lang,
)
from shared.events import (
    EventBatch,
    EventBatchResult,
    EventEnvelope,
    EventOutcome,
    EventResult,
    sender_of,
)
from shared.i18n import Lang
from shared.idempotency import IdempotencyMiddleware, forget_older_than
from shared.logging import configure_logging, redact_text
from shared.migrations import head_revisions
from shared.notify import PREFIX as NOTIFY_PREFIX
from shared.notify import Notifications, Notifier, read_sink
from shared.outbox import EventHandler, Outbox, Relay, RelayMetrics
from shared.settings import Settings, get_settings
from shared.vocabulary import NoticeState
from shared.workdays import LAST_YEAR

log = structlog.get_logger(__name__)

BackgroundTask = Callable[[FastAPI], Coroutine[Any, Any, None]]
AdminDep = Annotated[Principal, Depends(require(Role.ADMIN))]
ServiceDep = Annotated[Principal, Depends(require(Role.SERVICE))]


class ClockAdvance(BaseModel):
    # Strict: `false` is not zero seconds. Bounded: ten years at most, however it is said.
    model_config = ConfigDict(strict=True)

    days: float = Field(default=0, ge=0, le=3660)
    hours: float = Field(default=0, ge=0, le=24 * 3660)
    seconds: float = Field(default=0, ge=0, le=86400 * 3660)


class ClockRead(BaseModel):
    now: str
    offset_seconds: float


def warm_up(what: str, load: Callable[[FastAPI], Awaitable[None]]) -> BackgroundTask:
    """A background task that runs ``load`` until it succeeds, for a readiness check to wait
    on; a database that is not up yet only delays it."""

    async def task(app: FastAPI) -> None:
        while True:
            try:
                await load(app)
                return
            except Exception as exc:
                log.warning("warm_up_failed", what=what, error_type=type(exc).__name__)
                await asyncio.sleep(2)

    return task


async def _look_at_every_route(app: FastAPI) -> None:
    """FastAPI (0.165) builds a router's routes' validation state on the first request that
    looks at them: intake's first classification paid some 60 ms for it. A request matching
    no route looks at every one, before a caller's first request does; sent to the router
    itself, it passes no middleware, so it is neither logged nor counted."""
    transport = httpx.ASGITransport(app=app.router)
    async with httpx.AsyncClient(transport=transport, base_url="http://warm-up") as client:
        await client.get("/-/warm-up")


# Observability is Prometheus metrics and JSON logs (docs/operations.md). FastAPI's native
# OpenTelemetry asked for the global providers on every request to find none configured
# (4.9 µs a request; 0.1 µs when switched off).
WITHOUT_OPENTELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


# An hourly clean-up of a service's own: deletes what is past keeping, says how many rows.
HourlyCleanup = Callable[[AsyncSession], Awaitable[int]]
# What an operator alerts on, read from the database when /metrics is scraped: a factory
# registers its gauges and answers the function that sets them (docs/operations.md, Alerts).
Measure = Callable[[AsyncSession, datetime], Awaitable[None]]
Measures = Callable[[CollectorRegistry], Measure]


def create_app(
    *,
    service: str,
    routers: Sequence[APIRouter] = (),
    event_handlers: dict[str, EventHandler] | None = None,
    background: Sequence[BackgroundTask] = (),
    readiness: Sequence[Callable[[FastAPI], str | None]] = (),
    hourly: Sequence[HourlyCleanup] = (),
    measures: Sequence[Measures] = (),
    settings: Settings | None = None,
    clock: Clock | None = None,
    engine: AsyncEngine | None = None,
    run_relay: bool = True,
) -> FastAPI:
    """A service app; ``engine`` and ``clock`` may be injected by tests.

    ``background`` tasks run for the app's lifetime (a warm-up may simply return);
    ``readiness`` checks name what the app still waits for (``/readyz`` answers 503 until
    each returns None); ``hourly`` clean-ups run with the housekeeping, each in a transaction
    of its own, and say how many rows they deleted.
    """
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}")
    settings = settings or get_settings()
    if engine is None:
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set: start the stack with `make run`")
        engine = make_engine(settings.database_url, application_name=service)
    configure_logging(service=service, level=settings.log_level)
    own_key = token_keys(settings).signing
    if settings.is_production and (own_key is None or issuer_of(own_key[0]) != service):
        raise RuntimeError(f"HOTLINE_SIGNING_KEY must be {service}'s own key (docs/identity.md)")
    tasks: list[BackgroundTask] = [_look_at_every_route, *background, _follow_sign_outs]
    if run_relay:
        tasks.append(_run_relay)
        tasks.append(_housekeeping)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        running = [asyncio.create_task(task(app)) for task in tasks]
        log.info("service_started", env=settings.env.value)
        try:
            yield
        finally:
            for task in running:
                task.cancel()
            for task in running:
                with suppress(asyncio.CancelledError, Exception):
                    await task
            for client in app.state.clients.values():
                await client.aclose()
            await app.state.notify_http.aclose()
            await app.state.engine.dispose()

    app = FastAPI(
        title=f"12345 hotline — {service}",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served below from the project's own assets
        redoc_url=None,
        telemetry=WITHOUT_OPENTELEMETRY,
    )
    state = app.state
    state.service = service
    state.settings = settings
    state.clock = clock or Clock(movable=not settings.is_production)
    state.engine = engine
    state.sessions = make_sessionmaker(engine)
    # The same pool, without BEGIN and COMMIT: a single read answers in one round trip.
    state.autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    state.outbox = Outbox(service)
    state.notifications = Notifications(service)
    # Receivers outside the suite (webhooks, SMS): their own pool and a bounded wait.
    state.notify_http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
    state.notifier = Notifier(
        state.notifications, settings, http=state.notify_http, now=state.clock.now
    )
    state.event_handlers = event_handlers or {}
    # Whose tokens issued before a time no longer count (POSIX seconds), as the identity
    # service last said; it is asked again every signed_out_poll_seconds.
    state.signed_out = {}
    state.signed_out_source = partial(_signed_out_from_identity, state)
    state.heads = head_revisions(service)
    state.readiness = list(readiness)
    state.hourly = list(hourly)
    state.registry = CollectorRegistry()
    state.relay_metrics = RelayMetrics.register(state.registry)
    own: list[Measures] = [partial(_failed_notifications, service), *measures]
    state.measures = [make(state.registry) for make in own]
    tokens = ServiceTokens(settings, service=service)
    state.clients = {
        peer: ServiceClient(
            peer=peer,
            base_url=settings.service_url(peer),
            token=tokens,
            timeout_seconds=settings.http_timeout_seconds,
        )
        for peer in SERVICES
        if peer != service
    }

    install_error_handlers(app)
    # Inside the request log, so that a replayed answer is logged like any other.
    app.add_middleware(
        IdempotencyMiddleware,
        schema=service,
        settings=settings,
        sessions=lambda: state.sessions,
        autocommit=lambda: state.autocommit,
    )
    app.add_middleware(EdgeMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestLogMiddleware, registry=state.registry)  # outermost: logs all
    _declare_bearer(app)
    # A request is matched against the routes in this order, each tried in turn (a tenth of a
    # small request's CPU): the busiest first — events from peers, then the service's own.
    app.include_router(_inbox_router(), responses=ERROR_RESPONSES)
    for router in routers:
        app.include_router(router, responses=ERROR_RESPONSES)
    app.include_router(_ops_router())
    app.include_router(_labels_router(service), responses=ERROR_RESPONSES)
    if not settings.is_production:
        app.include_router(_dev_router(), responses=ERROR_RESPONSES)
    _serve_api_docs(app)
    return app


DOCS_ASSETS = Path(__file__).parent / "static" / "docs"


def _serve_api_docs(app: FastAPI) -> None:
    """/docs and /redoc with assets the service serves itself: a government network has no
    internet, and a page that fetches its script from a CDN stays blank there."""
    app.mount("/static/docs", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
    title = f"{app.title} — API"

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=title,
            swagger_js_url="/static/docs/swagger-ui-bundle.js",
            swagger_css_url="/static/docs/swagger-ui.css",
            swagger_favicon_url="/static/docs/favicon-32x32.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=title,
            redoc_js_url="/static/docs/redoc.standalone.js",
            redoc_favicon_url="/static/docs/favicon-32x32.png",
            with_google_fonts=False,
        )


def api_routes(routes: Any) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (kept as such by newer FastAPI)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)


def _declared(route: APIRoute, attribute: str) -> frozenset[Any] | None:
    """What the route's ``require(...)`` dependency declares under ``attribute``."""
    stack = list(route.dependant.dependencies)
    while stack:
        dependency = stack.pop()
        admitted = getattr(dependency.call, attribute, None)
        if admitted is not None:
            return frozenset(admitted)
        stack.extend(dependency.dependencies)
    return None


def admitted_roles(route: APIRoute) -> frozenset[Role] | None:
    """The roles the route's ``require(...)`` dependency admits (None: an open route)."""
    return _declared(route, "admitted_roles")


def admitted_services(route: APIRoute) -> frozenset[str] | None:
    """The services a ``require_service(...)`` route admits (None: any, or no service)."""
    return _declared(route, "admitted_services")


def _failed_notifications(service: str, registry: CollectorRegistry) -> Measure:
    gauge = Gauge(
        "hotline_notifications_failed",
        "Notifications given up in the last day (e-mail, SMS, webhooks), by kind",
        ["kind"],
        registry=registry,
    )
    records = Notifications(service).records

    async def measure(session: AsyncSession, now: datetime) -> None:
        rows = await session.execute(
            select(records.c.kind, func.count())
            .where(
                records.c.state == NoticeState.FAILED.value,
                records.c.created_at > now - timedelta(days=1),
            )
            .group_by(records.c.kind)
        )
        gauge.clear()
        for kind, count in rows:
            gauge.labels(kind).set(count)

    return measure


def _declare_bearer(app: FastAPI) -> None:
    """The OpenAPI document says which operations want a token and which roles they admit,
    so that /docs has an Authorize button and each operation its roles."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "A token from the identity service (docs/identity.md)",
            }
        }
        for route in api_routes(app.routes):
            admitted = admitted_roles(route)
            if admitted is None or route.path not in schema["paths"]:
                continue
            roles = ", ".join(sorted(r.value for r in admitted))
            for method in route.methods or ():
                operation = schema["paths"][route.path].get(method.lower())
                if operation is not None:
                    operation["security"] = [{"bearer": []}]
                    described = operation.get("description", "")
                    operation["description"] = f"{described}\n\nRoles: {roles}".strip()
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def own_labels(service: str) -> Path:
    """The labels file of what ``service`` owns (beside its package's app)."""
    return Path(import_module(service).__file__ or "").parent / "labels.json"


def _labels_router(service: str) -> APIRouter:
    router = APIRouter(tags=["labels"])

    @cache
    def body(lang: Lang) -> bytes:
        # The labels change only with the code: rendered once per language, not per request.
        found = i18n.labels(lang, own_labels(service))
        # The catalogue names categories in Chinese and English (the code where it has none).
        found["category"] = {
            c.code: c.name if lang is Lang.ZH else c.name_en or c.code
            for c in catalogue().categories.values()
        }
        found["rule"] = i18n.rule_labels(lang)
        return LabelsRead(lang=lang, labels=found).model_dump_json().encode()

    @router.get("/v1/labels", response_model=LabelsRead)
    async def labels(
        request: Request,
        _: Annotated[Principal, Depends(authenticated)],
        lang: Lang | None = None,
    ) -> Response:
        """Chinese (default) or English labels of every code this service answers with:
        the shared vocabularies and what it owns (``?lang=`` or ``Accept-Language``)."""
        return Response(body(lang or request_lang(request.scope)), media_type="application/json")

    @router.get("/v1/catalogues/categories", response_model=CategoriesRead)
    async def categories(_: Annotated[Principal, Depends(authenticated)]) -> CategoriesRead:
        """The two-level category catalogue, codes with their Chinese names."""
        return category_tree()

    @router.get("/v1/catalogues/places", response_model=PlacesRead)
    async def place_catalogue(_: Annotated[Principal, Depends(authenticated)]) -> PlacesRead:
        """The districts and their streets and towns (街道/镇), by their official names."""
        known = places()
        return PlacesRead(
            version=known.version,
            items=[DistrictRead(name=d, streets=list(s)) for d, s in known.streets.items()],
        )

    return router


class LabelsRead(BaseModel):
    lang: Lang
    labels: dict[str, dict[str, str]] = Field(description="vocabulary → code → label")


class CategoryRead(BaseModel):
    code: str
    name: str
    help: str = ""
    children: list[CategoryRead]


class CategoriesRead(BaseModel):
    version: str
    items: list[CategoryRead]


def category_tree(lang: Lang = Lang.ZH) -> CategoriesRead:
    """The catalogue as a tree of top levels and their leaves (with their plain-words help),
    named in Chinese, or in English where the catalogue has English."""

    def read(category: Category, children: list[CategoryRead]) -> CategoryRead:
        english = lang is Lang.EN and category.name_en
        return CategoryRead(
            code=category.code,
            name=category.name_en if english else category.name,
            help=category.help_en if english and category.help_en else category.help,
            children=children,
        )

    known = catalogue()
    leaves = [c for c in known.categories.values() if c.parent is not None]
    return CategoriesRead(
        version=known.version,
        items=[
            read(top, [read(c, []) for c in leaves if c.parent == top.code])
            for top in known.categories.values()
            if top.parent is None
        ],
    )


class DistrictRead(BaseModel):
    name: str
    streets: list[str]


class PlacesRead(BaseModel):
    version: str
    items: list[DistrictRead]


async def _signed_out_from_identity(state: State) -> dict[str, float]:
    response = await state.clients["identity"].request("GET", "/v1/signed-out")
    return {
        i["subject"]: datetime.fromisoformat(i["at"]).timestamp() for i in response.json()["items"]
    }


async def _follow_sign_outs(app: FastAPI) -> None:
    """Keep the list of people signed out (disabled, their role changed …) so that their
    tokens are refused within a minute; while the identity service cannot answer, the last
    list stands."""
    state = app.state
    while True:
        try:
            state.signed_out = await state.signed_out_source()
        except Exception as exc:
            log.warning("signed_out_unknown", error_type=type(exc).__name__)
        await asyncio.sleep(state.settings.signed_out_poll_seconds)


async def _housekeeping(app: FastAPI) -> None:
    """Hourly: idempotency keys, delivered events and inbox ids older than their retention
    are deleted (each table would otherwise grow for ever)."""
    settings: Settings = app.state.settings
    while True:
        try:
            retention = timedelta(hours=settings.idempotency_retention_hours)
            forgotten = await forget_older_than(app.state.sessions, app.state.service, retention)
            pruned = await prune_outbox(app.state)
            for cleanup in app.state.hourly:
                async with session_scope(app.state.sessions) as session:
                    pruned += await cleanup(session)
            if forgotten or pruned:
                log.info("housekeeping", idempotency_keys=forgotten, rows=pruned)
        except Exception as exc:  # the next hour tries again
            log.warning("housekeeping_failed", error_type=type(exc).__name__)
        await asyncio.sleep(3600)


async def prune_outbox(state: State) -> int:
    """Delete delivered events and inbox ids past their retention, a batch per transaction
    so that no lock is held long; how many rows went."""
    settings: Settings = state.settings
    total = 0
    while True:
        async with session_scope(state.sessions) as session:
            deleted = await state.outbox.prune(
                session,
                delivered_for=timedelta(days=settings.outbox_retention_days),
                received_for=timedelta(days=settings.inbox_retention_days),
            )
        total += deleted
        if not deleted:
            return total


async def _run_relay(app: FastAPI) -> None:
    """Deliver this app's outbox until the app stops."""
    settings: Settings = app.state.settings
    url = app.state.engine.url.render_as_string(hide_password=False)
    relay = Relay(
        outbox=app.state.outbox,
        sessions=app.state.sessions,
        clients=app.state.clients,
        couriers={NOTIFY_PREFIX: app.state.notifier.deliver},
        listen_dsn=asyncpg_dsn(url),
        metrics=app.state.relay_metrics,
        batch_size=settings.relay_batch_size,
        sweep_seconds=settings.relay_sweep_seconds,
        max_backoff_seconds=settings.relay_max_backoff_seconds,
    )
    await relay.run()


MAX_LOGGED_PATH = 300  # a longer path is an attack or a mistake; its start is enough


class RequestLogMiddleware:
    """Request ids, Prometheus counts and latency, and one redacted log line per request.

    Pure ASGI (not BaseHTTPMiddleware): the request's body and errors pass through untouched.
    """

    QUIET = frozenset({"/healthz", "/readyz", "/metrics"})

    def __init__(self, app: ASGIApp, *, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "http_requests", "HTTP requests", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=registry,
        )
        self.log = structlog.get_logger("access")
        # Unique across processes without a random draw per request (uuid4 was measured at
        # 8 % of a small request's CPU under load).
        self.prefix = uuid.uuid4().hex[:16]
        self.numbers = itertools.count()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = (given or f"{self.prefix}{next(self.numbers):08x}")[:64]
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            self.requests.labels(method, route, str(status)).inc()
            self.latency.labels(method, route).observe(elapsed)
            if route not in self.QUIET:
                # Parameter names only: values can be a caller's words (a KB question, a
                # search) and no pattern recognises every kind of personal data in them.
                query = parse_qs(scope["query_string"].decode("latin-1"), keep_blank_values=True)
                self.log.info(
                    "request",
                    method=method,
                    path=redact_text(scope["path"][:MAX_LOGGED_PATH]),
                    query=sorted(query)[:20],
                    status=status,
                    ms=round(elapsed * 1000, 1),
                )
            structlog.contextvars.unbind_contextvars("request_id")


def _ops_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request, response: Response) -> dict[str, Any]:
        """The database answers and this service's schema is migrated to head."""
        state = request.app.state
        try:
            async with state.engine.connect() as connection:
                rows = await connection.execute(
                    text(f'SELECT version_num FROM "{state.service}".alembic_version')
                )
                current = frozenset(r[0] for r in rows)
        except Exception as exc:
            response.status_code = 503
            return {"status": "unavailable", "reason": f"database: {type(exc).__name__}"}
        if current != state.heads:
            response.status_code = 503
            return {
                "status": "unavailable",
                "reason": "migrations not at head",
                "current": sorted(current),
                "head": sorted(state.heads),
            }
        waiting = [reason for check in state.readiness if (reason := check(request.app))]
        if waiting:
            response.status_code = 503
            return {"status": "unavailable", "reason": "; ".join(waiting)}
        return {"status": "ready", "migrations": sorted(current)}

    @router.get("/metrics")
    async def metrics(request: Request) -> Response:
        """Prometheus metrics: this process's requests and relay, and what the service's
        data says an operator should watch (the same from every replica)."""
        state = request.app.state
        try:
            async with session_scope(state.sessions) as session:
                for measure in state.measures:
                    await measure(session, state.clock.now())
        except Exception as exc:  # the process's own metrics are still worth answering
            log.warning("metrics_unmeasured", error_type=type(exc).__name__)
        return Response(generate_latest(state.registry), media_type=CONTENT_TYPE_LATEST)

    return router


def _inbox_router() -> APIRouter:
    router = APIRouter(tags=["events"])

    @router.post("/v1/events")
    async def receive_event(
        envelope: EventEnvelope,
        request: Request,
        session: SessionDep,
        caller: ServiceDep,
    ) -> dict[str, str]:
        """Inbox of one event from another service; a redelivered event changes nothing."""
        _check_sender(envelope, caller)
        state = request.app.state
        applied = await state.outbox.receive(session, envelope, state.event_handlers)
        return {"status": "applied" if applied else "duplicate", "id": str(envelope.id)}

    @router.post("/v1/events/batch")
    async def receive_events(
        batch: EventBatch,
        request: Request,
        session: SessionDep,
        caller: ServiceDep,
    ) -> EventBatchResult:
        """Many events in one request and one transaction (what the relay sends), applied in
        order. Should one fail, the transaction is rolled back and each is applied again under
        a savepoint of its own, so that it is refused alone and the others stand; the results
        say which. A redelivered event changes nothing."""
        state = request.app.state
        if all(_may_send(envelope, caller) for envelope in batch.events):
            try:
                applied = await state.outbox.receive_all(
                    session, batch.events, state.event_handlers
                )
            except Exception:  # which one failed is found one by one below
                await session.rollback()
            else:
                return EventBatchResult(
                    results=[
                        EventResult(id=envelope.id, status=_outcome(first_time))
                        for envelope, first_time in zip(batch.events, applied, strict=True)
                    ]
                )
        results = []
        for envelope in batch.events:
            try:
                _check_sender(envelope, caller)
                async with session.begin_nested():
                    first_time = await state.outbox.receive(session, envelope, state.event_handlers)
            except DomainError as exc:  # this event only: the sender keeps it and retries
                result = _refused(envelope, f"{exc.code}: {exc.message}")
            except Exception as exc:  # a handler failed on this event alone
                log.error("event_failed", event_type=envelope.type, error=type(exc).__name__)
                result = _refused(envelope, f"failed: {type(exc).__name__}")
            else:
                result = EventResult(id=envelope.id, status=_outcome(first_time))
            results.append(result)
        return EventBatchResult(results=results)

    return router


def _refused(envelope: EventEnvelope, reason: str) -> EventResult:
    return EventResult(id=envelope.id, status=EventOutcome.REFUSED, error=reason)


def _outcome(first_time: bool) -> EventOutcome:
    return EventOutcome.APPLIED if first_time else EventOutcome.DUPLICATE


def _may_send(envelope: EventEnvelope, caller: Principal) -> bool:
    """A service may post only the events it sends, under its own name: a leaked or misused
    service identity cannot forge another service's news (a status change, a breach)."""
    sender = sender_of(envelope.type)
    return envelope.source == caller.subject and sender in (None, caller.subject)


def _check_sender(envelope: EventEnvelope, caller: Principal) -> None:
    if not _may_send(envelope, caller):
        raise Forbidden(f"{caller.subject} may not send {envelope.type} as {envelope.source}")


def _dev_router() -> APIRouter:
    router = APIRouter(prefix="/v1/dev", tags=["development"])

    @router.get("/clock", response_model=ClockRead)
    async def read_clock(clock: ClockDep, _: AdminDep) -> ClockRead:
        """This process's time (development and test stacks only)."""
        return ClockRead(now=clock.now().isoformat(), offset_seconds=clock.offset.total_seconds())

    @router.post("/clock/advance", response_model=ClockRead)
    async def advance_clock(body: ClockAdvance, clock: ClockDep, _: AdminDep) -> ClockRead:
        """Move this process's time forward, so a scenario can cross working days."""
        delta = timedelta(days=body.days, hours=body.hours, seconds=body.seconds)
        if (clock.now() + delta).year > LAST_YEAR:
            raise BadInput(
                f"the working-day calendar ends with {LAST_YEAR}",
                zh=f"工作日历只到 {LAST_YEAR} 年",
            )
        clock.advance(delta)
        log.info("clock_advanced", offset_seconds=clock.offset.total_seconds())
        return ClockRead(now=clock.now().isoformat(), offset_seconds=clock.offset.total_seconds())

    @router.get("/notifications")
    async def sink(
        settings: SettingsDep, _: AdminDep, limit: int = Query(50, ge=1, le=500)
    ) -> dict[str, list[dict[str, Any]]]:
        """What the development sink received (e-mail and SMS without a server or a
        provider), newest first; addresses are masked there."""
        return {"items": await asyncio.to_thread(read_sink, settings, limit=limit)}

    return router


__all__ = ["create_app", "error_body"]
