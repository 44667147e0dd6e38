"""Bearer tokens (JWT, HS256) carrying a role and, for units, the unit id; for a district
hotline agency's staff, the district (Art 5 ¶2).

Every endpoint declares the roles it admits with :func:`require`; anything else is
refused with 403 (or 401 without a valid token).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

import jwt
from fastapi import Request

from shared.errors import BadInput, Forbidden, Unauthorized
from shared.settings import Settings

ALGORITHM = "HS256"
ISSUER = "hotline12345"


class Role(StrEnum):
    AGENT = "agent"
    DISPATCHER = "dispatcher"
    UNIT = "unit"
    SUB_UNIT = "sub_unit"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    INSPECTOR = (
        "inspector"  # 督查: reads tickets, supervisions and KPIs; acts on nothing (Art 23 ¶2)
    )
    # 业务指导部门: a city department that sees and supervises the Art 21 matters it was
    # named for; its token carries its unit id.
    GUIDANCE = "guidance"
    # 诉求人: a token the agency sends the caller (SMS, WeChat) to rate one ticket (Art 20 ¶2);
    # its subject is the ticket's id.
    CALLER = "caller"
    SERVICE = "service"


UNIT_ROLES = frozenset({Role.UNIT, Role.SUB_UNIT})
# Roles whose token must name the unit (or department) they act for.
ROLES_WITH_UNIT = UNIT_ROLES | {Role.GUIDANCE}
# Art 5 ¶2: a district hotline agency's dispatchers and supervisors work their district only.
DISTRICT_SCOPED_ROLES = frozenset({Role.DISPATCHER, Role.SUPERVISOR})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the subject, the role, the unit for unit roles, and for a district
    agency's staff the district (None: the city agency, which sees every district)."""

    subject: str
    role: Role
    unit_id: str | None = None
    district: str | None = None

    def sees_district(self, district: str | None) -> bool:
        """Art 5: the city agency sees all; a district agency its own district."""
        return self.district is None or self.district == district

    def own_district(self, district: str | None) -> str | None:
        """The district a read covers: the one asked for, which for a district hotline
        agency must be its own (Art 5)."""
        if self.district is not None and district not in (None, self.district):
            raise Forbidden(
                "a district hotline agency sees its own district (Art 5)",
                zh="区热线工作机构只能查看本区的事项（《办法》第五条）",
            )
        return self.district or district


def mint_token(
    settings: Settings,
    *,
    role: Role | str,
    subject: str,
    unit_id: str | None = None,
    district: str | None = None,
    ttl: timedelta | None = None,
    now: datetime | None = None,
) -> str:
    """Sign a token for a role; unit roles must name their unit, only agency staff a district."""
    role = Role(role)
    if role in ROLES_WITH_UNIT and not unit_id:
        raise BadInput(f"a {role} token needs a unit id", zh="请填写单位编码")
    if district and role not in DISTRICT_SCOPED_ROLES:
        raise BadInput(
            f"a {role} token cannot be scoped to a district",
            zh="只有热线工作机构的派单员和督办人员可以属于某个区",
        )
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": subject,
        "role": role.value,
        "iat": int(issued.timestamp()),
        "exp": int((issued + (ttl or timedelta(seconds=settings.jwt_ttl_seconds))).timestamp()),
    }
    if unit_id:
        claims["unit_id"] = unit_id
    if district:
        claims["district"] = district
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=ALGORITHM)


def decode_token(settings: Settings, token: str, *, now: float | None = None) -> Principal:
    """Verify a token's signature, issuer and expiry (at ``now``, a POSIX time; the real
    time by default) and return its principal."""
    now = time.time() if now is None else now
    principal, expires_at = _verified(settings.jwt_secret.get_secret_value(), token, int(now) // 60)
    if now >= expires_at:
        raise Unauthorized("token expired", zh="登录已过期，请重新登录")
    return principal


# A client sends the same token with every request: verifying its signature each time was a
# tenth of a request's CPU. A token verified once stands until it expires, checked on every
# use, and is verified afresh each minute (the minute is part of the key), so that a secret
# rotated or a token revoked takes effect within one. Refusals are never cached.
@lru_cache(maxsize=4096)
def _verified(secret: str, token: str, minute: int) -> tuple[Principal, float]:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "sub", "role", "iss"]},
        )
        role = Role(claims["role"])
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token expired", zh="登录已过期，请重新登录") from None
    except (jwt.InvalidTokenError, ValueError):
        raise Unauthorized("invalid token") from None
    unit_id = claims.get("unit_id")
    if role in ROLES_WITH_UNIT and not unit_id:
        raise Unauthorized("unit token without a unit id")
    district = claims.get("district")
    if district is not None and (
        role not in DISTRICT_SCOPED_ROLES or not isinstance(district, str)
    ):
        raise Unauthorized("invalid token")
    principal = Principal(subject=str(claims["sub"]), role=role, unit_id=unit_id, district=district)
    return principal, float(claims["exp"])


def bearer_token(authorization: str) -> str | None:
    """The token of an ``Authorization: Bearer …`` header value, or None."""
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def principal_from_request(request: Request) -> Principal:
    """The caller of this request, from its ``Authorization: Bearer`` header."""
    token = bearer_token(request.headers.get("authorization", ""))
    if token is None:
        raise Unauthorized("missing bearer token", zh="请先登录（缺少令牌）")
    return decode_token(request.app.state.settings, token)


def require(*roles: Role) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
    """A dependency admitting only ``roles``; use as ``Annotated[Principal, Depends(...)]``."""
    admitted = frozenset(roles)
    names = ", ".join(sorted(r.value for r in admitted))

    async def dependency(request: Request) -> Principal:
        principal = principal_from_request(request)
        if principal.role not in admitted:
            raise Forbidden(
                f"role {principal.role.value} may not do this (admitted: {names})",
                zh="当前角色无权进行此操作",
            )
        return principal

    dependency.admitted_roles = admitted  # type: ignore[attr-defined]
    return dependency


def require_service(*services: str) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
    """A dependency admitting only the named services' identities (service-to-service calls)."""
    admitted = frozenset(services)
    check = require(Role.SERVICE)

    async def dependency(request: Request) -> Principal:
        principal = await check(request)
        if principal.subject not in admitted:
            raise Forbidden(f"service {principal.subject} may not do this")
        return principal

    dependency.admitted_roles = frozenset({Role.SERVICE})  # type: ignore[attr-defined]
    return dependency


# Any valid token: for reads that hold no personal data (the calendar, time limits).
authenticated = require(*Role)
