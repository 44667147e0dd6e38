"""The edge of every service (inside the request log): size limits, and the last word on
unexpected errors.

Pure ASGI, so that a request too large to serve is refused before anything reads or routes
it, and so that no exception ever reaches the server's own error log (whose text would carry
a database error's quoted values).
"""

from __future__ import annotations

import traceback

import structlog
from fastapi import HTTPException
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import send_error

log = structlog.get_logger(__name__)

MAX_TARGET_BYTES = 8 * 1024  # path and query string
MAX_HEADER_BYTES = 16 * 1024  # all headers together
RETRY_AFTER_SECONDS = 2


class BodyTooLarge(HTTPException):
    """Raised from ``receive``: an HTTPException, so that FastAPI's body parsing passes it on
    as a 413 instead of turning it into "error parsing the body"."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over {limit} bytes")


class EdgeMiddleware:
    """Refuses oversized requests (414, 431, 413) and answers any unexpected error itself:
    422 for a value the database refused, 503 with ``Retry-After`` when the database cannot
    be reached, else 500."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        target = len(scope.get("raw_path") or scope["path"].encode()) + len(scope["query_string"])
        if target > MAX_TARGET_BYTES:
            await send_error(
                send, scope, 414, "uri_too_long", f"path and query over {MAX_TARGET_BYTES} bytes"
            )
            return
        if sum(len(k) + len(v) for k, v in scope["headers"]) > MAX_HEADER_BYTES:
            await send_error(
                send, scope, 431, "headers_too_large", f"headers over {MAX_HEADER_BYTES} bytes"
            )
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            await send_error(send, scope, 413, "payload_too_large", self._too_large)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, self._bounded(receive), tracked)
        except BodyTooLarge:
            if not started:
                await send_error(send, scope, 413, "payload_too_large", self._too_large)
        except Exception as exc:
            if not started and refused_by_database(exc):
                # A value PostgreSQL cannot take (a NUL character, a number or date out of
                # range): the transaction rolled back, nothing changed; the input was bad.
                message = "a value cannot be stored: out of range, or text with a NUL character"
                await send_error(send, scope, 422, "invalid_value", message)
                return
            unavailable = database_unavailable(exc)
            # Where it failed, never the message: a database error quotes the statement's
            # values, and those can be a caller's address or words.
            log.error(
                "database_unavailable" if unavailable else "unhandled_error",
                error_type=type(exc).__name__,
                stack="".join(traceback.format_tb(exc.__traceback__))[-4000:],
            )
            if started:
                return  # the answer is half sent; the client sees the connection end
            if unavailable:
                await send_error(
                    send,
                    scope,
                    503,
                    "database_unavailable",
                    "the database cannot be reached; try again shortly",
                    headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                )
            else:
                await send_error(send, scope, 500, "internal", "internal error")

    @property
    def _too_large(self) -> str:
        return f"request body over {self.max_body_bytes} bytes"

    def _bounded(self, receive: Receive) -> Receive:
        read = 0

        async def bounded() -> Message:
            nonlocal read
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > self.max_body_bytes:
                    raise BodyTooLarge(self.max_body_bytes)
            return message

        return bounded


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(found) < 10:
        found.append(seen)
        seen = seen.__cause__ or seen.__context__
    return found


def refused_by_database(exc: BaseException) -> bool:
    """True when the database (or its driver) refused a value: SQLSTATE class 22."""
    for seen in _chain(exc):
        if str(getattr(seen, "sqlstate", "") or "").startswith("22"):
            return True
        if type(seen).__module__.startswith("asyncpg") and type(seen).__name__ == "DataError":
            return True  # refused by the driver before sending (an int past int64, …)
    return False


def database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) says the database cannot be reached now."""
    for seen in _chain(exc):
        if isinstance(seen, DisconnectionError | PoolTimeout | ConnectionError | TimeoutError):
            return True
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, OSError):  # connection refused, host unreachable, socket gone
            return True
        if type(seen).__module__.startswith("asyncpg") and type(seen).__name__ in {
            "CannotConnectNowError",
            "ConnectionDoesNotExistError",
            "InterfaceError",
            "TooManyConnectionsError",
            "AdminShutdownError",
            "CrashShutdownError",
        }:
            return True
    return False
