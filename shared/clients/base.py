"""The one way a service calls another: timeouts, safe retries, the service token.

Transport failures and 502/503/504 become :class:`PeerUnavailable` (the peer cannot serve
now); another 5xx becomes :class:`PeerFailed` (the peer failed on this request); a 4xx
refusal becomes :class:`PeerRefused` carrying the peer's rule code. Inject ``transport`` (for
example an ``httpx.MockTransport``) to test a caller without a running peer, and ``sleep`` to
test retries without waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import structlog

from shared.auth import Role, mint_token
from shared.errors import PeerFailed, PeerRefused, PeerUnavailable
from shared.settings import Settings

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# Answers that say the peer (or its gateway) cannot serve now, whatever was asked.
UNAVAILABLE_STATUSES = frozenset({502, 503, 504})


class ServiceTokens:
    """A service's own bearer token, signed with its own key and renewed before expiry."""

    def __init__(self, settings: Settings, *, service: str) -> None:
        self._settings = settings
        self._service = service
        self._token = ""
        self._renew_at = 0.0

    def __call__(self) -> str:
        if time.monotonic() >= self._renew_at:
            self._token = mint_token(self._settings, role=Role.SERVICE, subject=self._service)
            self._renew_at = time.monotonic() + self._settings.jwt_ttl_seconds / 2
        return self._token


class ServiceClient:
    """Calls one peer service. Retries only what is safe to repeat."""

    def __init__(
        self,
        *,
        peer: str,
        base_url: str,
        token: Callable[[], str],
        timeout_seconds: float = 5.0,
        retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.peer = peer
        self._sleep = sleep
        self._token = token
        self._retries = retries
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, 2.0)),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send a request; retry idempotent ones (or those with an Idempotency-Key)."""
        headers = {**(headers or {}), "Authorization": f"Bearer {self._token()}"}
        # The peer logs this call under the id of the request that made it.
        traced = structlog.contextvars.get_contextvars().get("request_id")
        if traced:
            headers.setdefault("X-Request-ID", traced)
        repeatable = method.upper() in IDEMPOTENT_METHODS or "Idempotency-Key" in headers
        attempts = 1 + (self._retries if repeatable else 0)
        failure: PeerUnavailable = PeerUnavailable(f"{self.peer} unreachable")
        for attempt in range(attempts):
            if attempt:
                await self._sleep(min(0.2 * 2**attempt, 2.0))
            try:
                response = await self._http.request(
                    method, path, json=json, params=params, headers=headers
                )
            except httpx.TransportError as exc:
                failure = PeerUnavailable(f"{self.peer} unreachable: {type(exc).__name__}")
                continue
            if response.status_code in UNAVAILABLE_STATUSES:
                failure = PeerUnavailable(f"{self.peer} unavailable ({response.status_code})")
                continue
            if response.status_code >= 500:
                failure = PeerFailed(f"{self.peer} failed with {response.status_code}")
                continue
            if response.status_code >= 400:
                code, message = _error_of(response)
                raise PeerRefused(response.status_code, code, f"{self.peer}: {message}")
            return response
        raise failure


def _error_of(response: httpx.Response) -> tuple[str, str]:
    try:
        error = response.json()["error"]
        return str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return "http_error", f"HTTP {response.status_code}"
