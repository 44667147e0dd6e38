"""Bearer tokens (JWT, EdDSA) carrying a role and, for units, the unit id; for a district
hotline agency's staff, the district (Art 5 ¶2).

Tokens are signed with Ed25519 keys and verified with public keys only (``docs/identity.md``):
the identity service signs people's tokens, each service its own service token, dispatch
also a caller's rating link. A key's id names its issuer, and what an issuer may sign is
fixed here, so a compromised service can mint nothing but its own identity.

Every endpoint declares the roles it admits with :func:`require`; anything else is
refused with 403 (or 401 without a valid token).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import Request

from shared.errors import BadInput, Forbidden, Unauthorized
from shared.settings import Settings

ALGORITHM = "EdDSA"
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
# People: the roles a user of the directory can hold.
PEOPLE_ROLES = frozenset(Role) - {Role.SERVICE, Role.CALLER}
# What each issuer's keys may sign. A service token's subject must be its issuer.
ISSUERS: dict[str, frozenset[Role]] = {
    "identity": PEOPLE_ROLES | {Role.SERVICE},
    "dispatch": frozenset({Role.SERVICE, Role.CALLER}),
    "intake": frozenset({Role.SERVICE}),
    "sla": frozenset({Role.SERVICE}),
}


def issuer_of(key_id: str) -> str:
    """A key id is its issuer's name, with a version after a dot when rotated
    (``identity.2027``): a new key is published before it signs."""
    return key_id.partition(".")[0]


def may_sign(key_id: str, role: Role, subject: str) -> bool:
    """Whether a token of ``role`` for ``subject`` signed by key ``key_id`` is believed."""
    issuer = issuer_of(key_id)
    return role in ISSUERS.get(issuer, frozenset()) and (
        role is not Role.SERVICE or subject == issuer
    )


def natural_issuer(role: Role, subject: str) -> str:
    """Who signs a token of ``role`` in production: a service itself, dispatch a caller's
    rating link, the identity service everyone else."""
    if role is Role.SERVICE:
        return subject
    return "dispatch" if role is Role.CALLER else "identity"


def dev_key(issuer: str) -> Ed25519PrivateKey:
    """An issuer's development key: derived from its name, known to everyone, refused in
    production."""
    seed = hashlib.sha256(f"hotline12345 development key {issuer}".encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


@dataclass(frozen=True, eq=False)
class Keys:
    """The public keys this process believes, by key id, and its own signing key if any."""

    public: Mapping[str, Ed25519PublicKey]
    signing: tuple[str, Ed25519PrivateKey] | None

    def jwks(self) -> dict[str, Any]:
        """The public keys as a JSON Web Key Set (RFC 7517, OKP keys of RFC 8037)."""
        return {"keys": [jwk(kid, key) for kid, key in sorted(self.public.items())]}


def jwk(key_id: str, key: Ed25519PublicKey) -> dict[str, Any]:
    """One public key as a JWK."""
    entry = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key))
    return {**entry, "kid": key_id, "alg": ALGORITHM, "use": "sig"}


def pem(key: Ed25519PrivateKey) -> str:
    """A private key as PEM (PKCS #8), the form HOTLINE_SIGNING_KEY takes."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def new_keys() -> tuple[dict[str, str], dict[str, Any]]:
    """A fresh key for every issuer (PEM by issuer) and the key set that publishes them."""
    keys = {issuer: Ed25519PrivateKey.generate() for issuer in ISSUERS}
    public = {"keys": [jwk(issuer, key.public_key()) for issuer, key in keys.items()]}
    return {issuer: pem(key) for issuer, key in keys.items()}, public


def _text(value: str) -> str:
    """A setting given inline or as the path of a file holding it (a mounted Secret)."""
    stripped = value.strip()
    if stripped.startswith(("-----BEGIN", "{")):
        return stripped
    return Path(stripped).read_text()


def token_keys(settings: Settings) -> Keys:
    """The keys of these settings (read once per distinct configuration)."""
    signing = settings.signing_key.get_secret_value() if settings.signing_key else None
    return _keys(signing, settings.signing_key_id, settings.public_keys, settings.is_production)


@lru_cache(maxsize=16)
def _keys(signing: str | None, signing_id: str, public: str | None, production: bool) -> Keys:
    believed: dict[str, Ed25519PublicKey] = {}
    if public:
        for entry in json.loads(_text(public))["keys"]:
            key = jwt.algorithms.OKPAlgorithm.from_jwk(entry)
            if not isinstance(key, Ed25519PublicKey) or not isinstance(entry.get("kid"), str):
                raise ValueError("HOTLINE_PUBLIC_KEYS: every key is an Ed25519 key with a kid")
            believed[entry["kid"]] = key
    elif not production:
        believed = {issuer: dev_key(issuer).public_key() for issuer in ISSUERS}
    own = None
    if signing:
        private = serialization.load_pem_private_key(_text(signing).encode(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError("HOTLINE_SIGNING_KEY must be an Ed25519 private key (PEM)")
        own = (signing_id, private)
    if production:
        dev = {_raw(dev_key(i).public_key()) for i in ISSUERS}
        if not believed or any(_raw(k) in dev for k in believed.values()):
            raise ValueError("HOTLINE_PUBLIC_KEYS must list the suite's own keys in production")
    return Keys(public=believed, signing=own)


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


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


def check_scope(role: Role, unit_id: str | None, district: str | None) -> None:
    """A unit's staff name their unit (Art 21's guidance departments too); only the
    agency's dispatchers and supervisors may belong to a district (Art 5 ¶2)."""
    if role in ROLES_WITH_UNIT and not unit_id:
        raise BadInput(f"a {role} needs a unit id", zh="请填写单位编码")
    if district and role not in DISTRICT_SCOPED_ROLES:
        raise BadInput(
            f"a {role} cannot be scoped to a district",
            zh="只有热线工作机构的派单员和督办人员可以属于某个区",
        )


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
    """Sign a token for a role with this process's key; unit roles must name their unit,
    only agency staff a district. Outside production, a process without a key of its own
    signs with the development key of the role's issuer."""
    role = Role(role)
    check_scope(role, unit_id, district)
    own = token_keys(settings).signing
    if own is not None and may_sign(own[0], role, subject):
        key_id, key = own
    elif not settings.is_production and natural_issuer(role, subject) in ISSUERS:
        key_id = natural_issuer(role, subject)
        key = dev_key(key_id)
    else:
        raise RuntimeError(f"this process's key may not sign a {role} token for {subject}")
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": subject,
        "role": role.value,
        "iat": int(issued.timestamp()),
        "exp": int((issued + (ttl or timedelta(seconds=settings.jwt_ttl_seconds))).timestamp()),
        "jti": secrets.token_hex(8),  # two tokens of one second are still two tokens
    }
    if unit_id:
        claims["unit_id"] = unit_id
    if district:
        claims["district"] = district
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": key_id})


def decode_token(
    settings: Settings,
    token: str,
    *,
    now: float | None = None,
    signed_out: Mapping[str, float] | None = None,
) -> Principal:
    """Verify a token's signature, issuer and expiry (at ``now``, a POSIX time; the real
    time by default) and return its principal. ``signed_out`` maps a person to the time
    before which their tokens no longer count (disabled, signed out everywhere)."""
    now = time.time() if now is None else now
    principal, issued_at, expires_at = _verified(token_keys(settings), token, int(now) // 60)
    if now >= expires_at:
        raise Unauthorized("token expired", zh="登录已过期，请重新登录")
    if (
        signed_out
        and principal.role in PEOPLE_ROLES
        and issued_at < signed_out.get(principal.subject, 0.0)
    ):
        raise Unauthorized("signed out", zh="登录已失效，请重新登录")
    return principal


# A client sends the same token with every request: verifying its signature each time was a
# tenth of a request's CPU. A token verified once stands until it expires, checked on every
# use, and is verified afresh each minute (the minute is part of the key), so that a key
# withdrawn takes effect within one. Refusals are never cached.
@lru_cache(maxsize=4096)
def _verified(keys: Keys, token: str, minute: int) -> tuple[Principal, float, float]:
    try:
        key_id = jwt.get_unverified_header(token).get("kid")
        key = keys.public.get(key_id) if isinstance(key_id, str) else None
        if key is None:
            raise jwt.InvalidTokenError("unknown key")
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "role", "iss"]},
        )
        role = Role(claims["role"])
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token expired", zh="登录已过期，请重新登录") from None
    except (jwt.InvalidTokenError, ValueError):
        raise Unauthorized("invalid token") from None
    subject = str(claims["sub"])
    if not may_sign(str(key_id), role, subject):
        raise Unauthorized("invalid token")
    unit_id = claims.get("unit_id")
    if role in ROLES_WITH_UNIT and not unit_id:
        raise Unauthorized("unit token without a unit id")
    district = claims.get("district")
    if district is not None and (
        role not in DISTRICT_SCOPED_ROLES or not isinstance(district, str)
    ):
        raise Unauthorized("invalid token")
    principal = Principal(subject=subject, role=role, unit_id=unit_id, district=district)
    return principal, float(claims["iat"]), float(claims["exp"])


def bearer_token(authorization: str) -> str | None:
    """The token of an ``Authorization: Bearer …`` header value, or None."""
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def principal_from_request(request: Request) -> Principal:
    """The caller of this request, from its ``Authorization: Bearer`` header."""
    token = bearer_token(request.headers.get("authorization", ""))
    if token is None:
        raise Unauthorized("missing bearer token", zh="请先登录（缺少令牌）")
    state = request.app.state
    return decode_token(state.settings, token, signed_out=getattr(state, "signed_out", None))


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
    dependency.admitted_services = admitted  # type: ignore[attr-defined]
    return dependency


# Any valid token: for reads that hold no personal data (the calendar, time limits).
authenticated = require(*Role)
