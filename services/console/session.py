"""Who is signed in: the one seam between the console and identity.

In development a sign-in page mints a token with the development secret; in production the
console takes the tokens the identity provider issues (a later issue) through the same two
functions. The token lives in an HttpOnly, SameSite cookie; every form that changes
something carries a CSRF token derived from it.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from shared.auth import Principal, Role, decode_token, mint_token
from shared.errors import Unauthorized
from shared.settings import Settings

COOKIE = "hotline_session"
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
