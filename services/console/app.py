"""The console's app (served with `hotline serve console`, port 8000).

Every page is rendered on the server from the services' public APIs, called with the
signed-in user's own token through the client library: what a page shows or does is what
the API allows that user, and a refusal comes back in the API's Chinese words.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from hotline_client.api import AsyncClient, Endpoints
from hotline_client.errors import HotlineError

from console.session import CSRF_FIELD, enter, renewed, signed_in
from shared.errors import DomainError, Unauthorized
from shared.logging import configure_logging
from shared.settings import Settings, get_settings

HERE = Path(__file__).parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
REFUSALS = (403, 404, 409, 422)  # a service's answer in its own words; anything else: unavailable
# A service that could not answer speaks no Chinese of its own: the console says it.
UNAVAILABLE = "相关服务暂不可用，工作不会丢失，请稍后重试"


def shown(at: datetime | str | None) -> str:
    """Every time in Beijing time with the year, whatever the server's zone."""
    if not at:
        return ""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return at.astimezone(SHANGHAI).strftime("%Y年%m月%d日 %H:%M")


def client_for(request: Request, token: str) -> AsyncClient:
    settings: Settings = request.app.state.settings
    endpoints = Endpoints(
        intake=settings.service_url("intake"),
        dispatch=settings.service_url("dispatch"),
        sla=settings.service_url("sla"),
    )
    return AsyncClient(
        token=token, endpoints=endpoints, language="zh-CN", http=request.app.state.http
    )


def told(left: Any) -> str:
    """What is left, as people here say it: 剩余 3 个工作日, 今日到期，剩余 5 小时, or
    已超期 2 个工作日."""
    if left.working_days_late:
        return f"已超期 {left.working_days_late} 个工作日"
    if left.hours_left is not None:
        return f"今日到期，剩余 {left.hours_left:g} 小时"
    return f"剩余 {left.working_days_left} 个工作日"


def urgency(left: Any) -> str:
    """The row's colour: red once late, amber on its last day."""
    if left is None:
        return ""
    if left.working_days_late:
        return "overdue"
    return "due-today" if left.hours_left is not None else ""


async def time_left(request: Request, token: str, dues: list[datetime]) -> dict[datetime, Any]:
    """Each due time's remaining time, judged on sla's clock and calendar."""
    if not dues:
        return {}
    client = client_for(request, token)
    call = client.time_left([d.isoformat() for d in dict.fromkeys(dues)])
    answer = (await client.run(call)).value
    return {item.due_at: item for item in answer.items} if answer else {}


async def sla_now(request: Request, token: str) -> datetime:
    """Now on sla's clock (a moved clock in tests and drills moves every page's "today")."""
    client = client_for(request, token)
    answer = (await client.run(client.time_left([]))).value
    return answer.now if answer else datetime.now(SHANGHAI)


async def labels(request: Request, token: str) -> dict[str, dict[str, str]]:
    """dispatch's and intake's Chinese labels, fetched once per process."""
    cached: dict[str, dict[str, str]] | None = request.app.state.labels
    if cached is None:
        client = client_for(request, token)
        found: dict[str, dict[str, str]] = {}
        for service in ("intake", "dispatch", "sla"):
            answer = (await client.run(client.labels(service))).value
            if answer is not None:
                found.update(answer.labels)
        request.app.state.labels = cached = found
    return cached


async def catalogues(request: Request, token: str) -> tuple[Any, Any]:
    """intake's category and place catalogues, fetched once per process."""
    cached: tuple[Any, Any] | None = request.app.state.catalogues
    if cached is None:
        client = client_for(request, token)
        categories = (await client.run(client.categories())).value
        places = (await client.run(client.places())).value
        request.app.state.catalogues = cached = (categories, places)
    return cached


def build_app(*, settings: Settings | None = None) -> FastAPI:
    """The console (tests may hand in settings)."""
    from console import admin, calls, notices, pages, reports
    from console.pages import sign_in_form

    settings = settings or get_settings()
    configure_logging(service="console", level=settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One pool of connections to the services for every page and every user: each
        # request carries its user's own token, the connections are shared.
        async with httpx.AsyncClient() as http:
            app.state.http = http
            yield

    app = FastAPI(
        title="12345 热线工作台",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False},  # as shared.service
    )
    app.state.settings = settings
    app.state.labels = None
    app.state.catalogues = None
    app.state.oidc_offered = None  # the identity service's answer, once it has given one
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["shown"] = shown
    templates.env.filters["told"] = lambda left: told(left) if left else ""
    templates.env.filters["urgency"] = urgency
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    async def sign_in_again(request: Request) -> Response:
        """The session lapsed: renewed with its refresh token if it can be (the page asked
        for again), else back to sign-in. Either way a form that was being sent is kept
        (what was typed, not its stale CSRF token), to be sent on with the new session."""
        kept: list[tuple[str, str]] = []
        if request.method == "POST":
            form = await request.form()
            kept = [(k, str(v)) for k, v in form.multi_items() if k != CSRF_FIELD]
        tokens = await renewed(request)
        if tokens is not None:
            again = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return enter(request, tokens.access_token, tokens, again, kept)
        if request.method != "POST":
            return RedirectResponse(f"/signin?next={quote(request.url.path)}", status_code=303)
        return await sign_in_form(
            request, next=request.url.path, kept=kept, expired=True, status=401
        )

    @app.exception_handler(Unauthorized)
    async def _sign_in_again(request: Request, exc: Unauthorized) -> Response:
        return await sign_in_again(request)

    @app.exception_handler(DomainError)
    async def _refused_here(request: Request, exc: DomainError) -> Response:
        return templates.TemplateResponse(
            request,
            "error.html",
            {"message": exc.zh or exc.message, "code": exc.code, "user": _user_or_none(request)},
            status_code=exc.status_code,
        )

    @app.exception_handler(HotlineError)
    async def _refused_reading(request: Request, exc: HotlineError) -> Response:
        if exc.status == 401:
            return await sign_in_again(request)
        refused = exc.status in REFUSALS
        message = exc.said if refused else UNAVAILABLE
        return templates.TemplateResponse(
            request,
            "error.html",
            {"message": message, "code": exc.code, "user": _user_or_none(request)},
            status_code=exc.status if refused and exc.status else 502,
        )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    app.include_router(pages.router)
    app.include_router(calls.router)
    app.include_router(admin.router)
    app.include_router(reports.router)
    app.include_router(notices.router)
    return app


def _user_or_none(request: Request) -> Any:
    try:
        return signed_in(request)[1]
    except Exception:
        return None
