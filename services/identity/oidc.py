"""Sign-in through the city's identity provider: OpenID Connect's authorization code flow
with PKCE (RFC 7636), the provider found by discovery, its ID token verified with its
published keys (docs/identity.md).

The workbench sends the browser to the provider and brings back its code; this module
keeps what the answer must match (state, nonce, verifier), exchanges the code, checks the
ID token, and maps its claims to a hotline role, unit and district.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from identity.models import OidcAttempt
from shared.errors import BadInput, NotFound, PeerUnavailable, Unauthorized
from shared.settings import Settings

ATTEMPT_TTL = timedelta(minutes=10)
# The provider's keys are fetched again when a token names one not seen, at most this often.
KEYS_REFRESH_SECONDS = 60.0


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]


def failed(why: str) -> Unauthorized:
    return Unauthorized(
        f"sign-in through the identity provider failed: {why}",
        code="oidc_failed",
        zh="统一身份认证登录未成功，请重试",
    )


class OidcClient:
    """The provider as this service knows it: discovered once, its keys kept."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self._provider: Provider | None = None
        self._keys: jwt.PyJWKSet | None = None
        self._keys_at = 0.0

    @property
    def enabled(self) -> bool:
        return bool(self.settings.oidc_issuer and self.settings.oidc_client_id)

    async def _get(self, url: str) -> dict[str, Any]:
        try:
            response = await self.http.get(url)
            response.raise_for_status()
            found: dict[str, Any] = response.json()
            return found
        except (httpx.HTTPError, ValueError) as exc:
            raise PeerUnavailable(f"identity provider: {type(exc).__name__}") from None

    async def provider(self) -> Provider:
        if not self.enabled:
            raise NotFound("no identity provider is configured", zh="未配置统一身份认证")
        if self._provider is None:
            issuer = str(self.settings.oidc_issuer).rstrip("/")
            found = await self._get(f"{issuer}/.well-known/openid-configuration")
            if found.get("issuer", "").rstrip("/") != issuer:
                raise PeerUnavailable("identity provider: its discovery names another issuer")
            self._provider = Provider(
                issuer=found["issuer"],
                authorization_endpoint=found["authorization_endpoint"],
                token_endpoint=found["token_endpoint"],
                jwks_uri=found["jwks_uri"],
                algorithms=tuple(found.get("id_token_signing_alg_values_supported", ["RS256"])),
            )
        return self._provider

    async def _key(self, key_id: str | None) -> Any:
        provider = await self.provider()
        stale = time.monotonic() - self._keys_at > KEYS_REFRESH_SECONDS
        for attempt in range(2):
            if self._keys is None or (attempt and stale):
                self._keys = jwt.PyJWKSet.from_dict(await self._get(provider.jwks_uri))
                self._keys_at = time.monotonic()
            for key in self._keys.keys:
                if key_id is None or key.key_id == key_id:
                    return key.key
        raise failed("the ID token is signed with a key the provider does not publish")

    async def authorize_url(self, attempt: OidcAttempt) -> str:
        provider = await self.provider()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(attempt.verifier.encode()).digest())
        query = {
            "response_type": "code",
            "client_id": self.settings.oidc_client_id,
            "redirect_uri": attempt.redirect_uri,
            "scope": "openid profile",
            "state": attempt.state,
            "nonce": attempt.nonce,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
        return f"{provider.authorization_endpoint}?{urlencode(query)}"

    async def claims(self, attempt: OidcAttempt, code: str) -> dict[str, Any]:
        """The ID token's claims for a code, once the token is proven the provider's, for
        this client, fresh, and for this attempt (its nonce)."""
        provider = await self.provider()
        secret = self.settings.oidc_client_secret
        try:
            response = await self.http.post(
                provider.token_endpoint,
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": attempt.redirect_uri,
                    "code_verifier": attempt.verifier,
                },
                auth=(self.settings.oidc_client_id, secret.get_secret_value() if secret else ""),
            )
        except httpx.HTTPError as exc:
            raise PeerUnavailable(f"identity provider: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise failed(f"the provider refused the code ({response.status_code})")
        id_token = response.json().get("id_token")
        if not isinstance(id_token, str):
            raise failed("no ID token")
        try:
            header = jwt.get_unverified_header(id_token)
            key = await self._key(header.get("kid"))
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key,
                algorithms=[a for a in provider.algorithms if a != "none"],
                audience=self.settings.oidc_client_id,
                issuer=provider.issuer,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.InvalidTokenError as exc:
            raise failed(f"the ID token is not valid ({type(exc).__name__})") from None
        if not secrets.compare_digest(str(claims.get("nonce", "")), attempt.nonce):
            raise failed("the ID token is not this sign-in's")
        return claims


async def start(
    session: AsyncSession, settings: Settings, client: OidcClient, now: datetime, redirect_uri: str
) -> str:
    """Where to send the browser: the provider's sign-in page for a new attempt."""
    await client.provider()  # not configured: 404; unreachable: 503
    if redirect_uri not in settings.oidc_redirect_uris:
        raise BadInput(
            "the redirect URI is not one this suite was registered with",
            zh="回调地址不在已登记的范围内",
        )
    await session.execute(delete(OidcAttempt).where(col(OidcAttempt.expires_at) < now))
    attempt = OidcAttempt(
        state=secrets.token_urlsafe(24),
        nonce=secrets.token_urlsafe(24),
        verifier=secrets.token_urlsafe(48),
        redirect_uri=redirect_uri,
        expires_at=now + ATTEMPT_TTL,
    )
    url = await client.authorize_url(attempt)
    session.add(attempt)
    await session.flush()
    return url


async def finish(
    session: AsyncSession, client: OidcClient, now: datetime, state: str, code: str
) -> dict[str, Any]:
    """The provider's claims for the person an attempt came back with; the attempt is
    used up whatever the outcome."""
    attempt = await session.get(OidcAttempt, state, with_for_update=True)
    if attempt is None or attempt.expires_at <= now:
        raise failed("the sign-in is unknown or took too long")
    await session.delete(attempt)
    await session.flush()
    return await client.claims(attempt, code)
