"""Who is signed in: the one seam between the console and identity.

People sign in with their username and password (and code) at the identity service; its
access token lives in an HttpOnly, SameSite cookie and its refresh token in another, which
renews the access token when it lapses. Outside production a second form signs in as any
role with the development key. Every form that changes something carries a CSRF token
derived from the session's token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from contextlib import suppress
from typing import Any
from urllib.parse import parse_qs, urlparse

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from hotline_client.api import AsyncClient, Calls, Endpoints
from hotline_client.errors import HotlineError
from hotline_client.models import Tokens

from shared.auth import Principal, Role, decode_token, mint_token
from shared.errors import Unauthorized
from shared.settings import Settings

COOKIE = "hotline_session"
REFRESH_COOKIE = "hotline_refresh"
# A sign-in under way at the identity provider: its state and where to go after, bound to
# this browser (a code brought back by another browser is refused).
OIDC_COOKIE = "hotline_oidc"
CSRF_FIELD = "csrf_token"
SIGN_IN_ROLES = (
    Role.AGENT,
    Role.UNIT,
    Role.SUB_UNIT,
    Role.DISPATCHER,
    Role.SUPERVISOR,
    Role.ADMIN,
)


def sign_in_token(
    settings: Settings, *, role: Role, unit_id: str | None, district: str | None, name: str
) -> str:
    """Development sign-in: a token for the chosen role, unit or district agency (Art 5);
    refused in production."""
    if settings.is_production:
        raise Unauthorized("sign in through the identity provider", zh="请通过统一身份认证登录")
    return mint_token(settings, role=role, subject=name, unit_id=unit_id, district=district)


def signed_in(request: Request) -> tuple[str, Principal]:
    """The session's token and who it names; 401 without one or when it has expired."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise Unauthorized("not signed in", zh="请先登录")
    return token, decode_token(request.app.state.settings, token)


def csrf_token(settings: Settings, token: str) -> str:
    """The form token of a session: only a page the console rendered for it can post."""
    key = settings.session_secret.get_secret_value().encode()
    return hmac.new(key, f"csrf:{token}".encode(), hashlib.sha256).hexdigest()[:40]


def csrf_ok(settings: Settings, token: str, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(csrf_token(settings, token), sent)


def _identity(request: Request) -> AsyncClient:
    settings: Settings = request.app.state.settings
    endpoints = Endpoints(identity=settings.service_url("identity"))
    return AsyncClient(endpoints=endpoints, language="zh-CN", http=request.app.state.http)


async def password_sign_in(
    request: Request, username: str, password: str, totp: str | None
) -> Tokens:
    """Tokens from the identity service; its refusal (a HotlineError) in its own words."""
    answer = await _identity(request).run(Calls.sign_in(username, password, totp))
    assert answer.value is not None
    return answer.value


async def renewed(request: Request) -> Tokens | None:
    """New tokens for the session's refresh token; None when it cannot renew (none, used,
    expired, or the person was signed out or disabled)."""
    refresh = request.cookies.get(REFRESH_COOKIE)
    if not refresh:
        return None
    try:
        return (await _identity(request).run(Calls.renew(refresh))).value
    except HotlineError:
        return None


async def end(request: Request, response: Response) -> None:
    """Sign out: the refresh token stops renewing and both cookies go."""
    refresh = request.cookies.get(REFRESH_COOKIE)
    if refresh:
        # The cookies go all the same; the access token lapses within minutes.
        with suppress(HotlineError):
            await _identity(request).run(Calls.sign_out(refresh))
    response.delete_cookie(COOKIE)
    response.delete_cookie(REFRESH_COOKIE)


def keep(response: Response, settings: Settings, token: str, tokens: Tokens | None) -> None:
    """Set the session's cookies: the access token, and with tokens from the identity
    service its refresh token (sent back only to this console, never to scripts)."""
    secure = settings.is_production
    ttl = settings.access_ttl_seconds if tokens else settings.jwt_ttl_seconds
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=secure, max_age=ttl)
    if tokens is not None:
        response.set_cookie(
            REFRESH_COOKIE,
            tokens.refresh_token,
            httponly=True,
            samesite="strict",
            secure=secure,
            max_age=int(settings.refresh_ttl_hours * 3600),
        )


def enter(
    request: Request, token: str, tokens: Tokens | None, target: str, kept: list[tuple[str, str]]
) -> Response:
    """Into the console with a new session: on to ``target``, or, when a form was being
    sent as the old session lapsed, that form shown again to be sent on."""
    settings: Settings = request.app.state.settings
    response: Response
    if kept:
        response = request.app.state.templates.TemplateResponse(
            request,
            "resume.html",
            {
                "user": decode_token(settings, token),
                "action": target,
                "kept": kept,
                "csrf": csrf_token(settings, token),
                "csrf_field": CSRF_FIELD,
            },
        )
    else:
        response = RedirectResponse(target, status_code=303)
    keep(response, settings, token, tokens)
    return response


async def oidc_offered(request: Request) -> str | None:
    """The identity provider's name when signing in through it is offered (asked once per
    process, again after a failure)."""
    offered: Any = request.app.state.oidc_offered
    if offered is None:
        try:
            offered = (await _identity(request).run(Calls.oidc_offered())).value
        except HotlineError:
            return None
        request.app.state.oidc_offered = offered
    return offered.display_name if offered and offered.enabled else None


async def oidc_away(request: Request, next: str) -> Response:
    """To the identity provider, remembering in this browser what must come back."""
    settings: Settings = request.app.state.settings
    callback = settings.console_url.rstrip("/") + "/signin/oidc/callback"
    answer = await _identity(request).run(Calls.oidc_start(callback))
    assert answer.value is not None
    url = answer.value.authorize_url
    state = parse_qs(urlparse(url).query)["state"][0]
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        OIDC_COOKIE,
        json.dumps({"state": state, "next": next}),
        max_age=600,
        httponly=True,
        samesite="lax",  # the provider sends the browser back with a top-level GET
        secure=settings.is_production,
    )
    return response


async def oidc_back(request: Request, state: str, code: str) -> tuple[Tokens, str]:
    """The tokens for what the provider sent back, and where to go; a HotlineError when
    the identity service refuses, ValueError when this browser did not start it."""
    try:
        remembered = json.loads(request.cookies.get(OIDC_COOKIE, ""))
    except ValueError:
        raise ValueError("no sign-in under way in this browser") from None
    if not isinstance(remembered, dict) or not state:
        raise ValueError("no sign-in under way in this browser")
    if not hmac.compare_digest(str(remembered.get("state", "")), state):
        raise ValueError("not this browser's sign-in")
    answer = await _identity(request).run(Calls.oidc_finish(state, code))
    assert answer.value is not None
    return answer.value, str(remembered.get("next") or "/")
