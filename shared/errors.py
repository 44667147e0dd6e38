"""One error hierarchy for the suite, mapped to HTTP in one place.

Every error answers ``{"error": {"code", "message"}}``. Workflow refusals are
:class:`RuleViolation` (409) and carry the rule's name as their code. The message is in the
language ``Accept-Language`` asks for, Chinese unless English is preferred (``shared.i18n``).
"""

from __future__ import annotations

import json
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope, Send

from shared.i18n import Lang, message, negotiate, validation_problem

log = structlog.get_logger(__name__)


class DomainError(Exception):
    """Base of every error the suite answers on purpose."""

    status_code = 400
    code = "bad_request"
    headers: dict[str, str] | None = None  # e.g. Retry-After on a 503

    def __init__(self, message: str, *, code: str | None = None, zh: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.zh = zh  # the Chinese message, when the catalogue's for the code is not enough
        if code is not None:
            self.code = code


class BadInput(DomainError):
    """Input that is well-formed JSON but makes no sense (a date outside its year, …)."""

    status_code = 422
    code = "bad_input"


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    """The change would contradict what is stored (not a rule of the Measures)."""

    status_code = 409
    code = "conflict"


class RuleViolation(DomainError):
    """A rule of the Measures forbids the action; ``code`` names the rule."""

    status_code = 409

    def __init__(self, code: str, message: str, *, zh: str | None = None) -> None:
        super().__init__(message, code=code, zh=zh)


class TooManyRequests(DomainError):
    """A sender over its rate limit; Retry-After says when it may send again."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, zh: str, retry_after: int) -> None:
        super().__init__(message, zh=zh)
        self.headers = {"Retry-After": str(retry_after)}


class PeerUnavailable(DomainError):
    """Another service could not be reached or failed; the work is delayed, not lost."""

    status_code = 503
    code = "peer_unavailable"


class PeerFailed(PeerUnavailable):
    """Another service answered this request with a server error: the request, not the
    peer, is the likely problem (the relay retries that event alone)."""


class PeerRefused(DomainError):
    """Another service answered with a refusal; its code and status are passed on."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message, code=code)
        self.status_code = status_code


class ErrorDetail(BaseModel):
    code: str = Field(description="a stable identifier, e.g. return_window_closed")
    message: str


class ErrorBody(BaseModel):
    """The one error shape, as the OpenAPI documents declare it."""

    error: ErrorDetail


# Answers every guarded endpoint may give besides its own, declared in the OpenAPI documents.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        401: "no valid bearer token",
        403: "the caller's role or unit may not do this",
        404: "no such thing",
        409: "a rule of the Measures forbids it (the code names the rule), or a conflict",
        413: "request body too large",
        414: "path and query too long",
        422: "bad input (the message names the field)",
        503: "the database or a peer service is unavailable; retry after Retry-After",
    }.items()
}


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    """The one error shape of every service."""
    return {"error": {"code": code, "message": message}}


def request_lang(scope: Scope) -> Lang:
    """The language a request asks for (``Accept-Language``; Chinese by default)."""
    header = dict(scope.get("headers") or []).get(b"accept-language", b"")
    return negotiate(header.decode("latin-1"))


async def send_error(
    send: Send,
    scope: Scope,
    status: int,
    code: str,
    english: str,
    *,
    headers: dict[str, str] | None = None,
) -> None:
    """Answer with the one error shape from ASGI middleware, where no response class runs."""
    lang = request_lang(scope)
    raw = [(b"content-type", b"application/json"), (b"content-language", lang.value.encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    body = json.dumps(error_body(code, message(code, english, lang)), ensure_ascii=False)
    await send({"type": "http.response.body", "body": body.encode()})


def _validation_message(exc: RequestValidationError, lang: Lang) -> str:
    parts = [validation_problem(err, lang) for err in exc.errors()]
    return ("；" if lang is Lang.ZH else "; ").join(parts) or "invalid request"


def _answer(
    request: Request,
    status: int,
    code: str,
    english: str,
    *,
    zh: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    lang = request_lang(request.scope)
    return JSONResponse(
        error_body(code, message(code, english, lang, zh=zh)),
        status_code=status,
        headers={**(headers or {}), "Content-Language": lang.value},
    )


def refusal(request: Request, exc: DomainError) -> JSONResponse:
    """The answer to a refusal; an endpoint that returns it (instead of raising) keeps what
    its unit of work wrote (a failed sign-in counted)."""
    return _answer(request, exc.status_code, exc.code, exc.message, zh=exc.zh, headers=exc.headers)


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
}


def install_error_handlers(app: FastAPI) -> None:
    """Map the suite's errors to the one error shape (unexpected ones: ``shared.edge``)."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return refusal(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        lang = request_lang(request.scope)
        return JSONResponse(
            error_body("invalid_request", _validation_message(exc, lang)),
            status_code=422,
            headers={"Content-Language": lang.value},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        headers = getattr(exc, "headers", None)
        return _answer(request, exc.status_code, code, str(exc.detail), headers=headers)
