"""Structured JSON logs with request ids, and redaction of callers' personal data (Art 25).

Redaction happens in the logging pipeline itself, so no log line — ours, uvicorn's or a
library's — can carry a caller's name, phone number or address, whatever the call site did.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

REDACTED = "[redacted]"

# Keys whose values are personal data wherever they appear in an event.
PERSONAL_KEYS = frozenset(
    {
        "name",
        "caller_name",
        "phone",
        "caller_phone",
        "mobile",
        "telephone",
        "address",
        "caller_address",
        "contact",
        "id_card",
        "id_number",
        "email",
    }
)

_PATTERNS = [
    # Mainland mobile numbers, optionally with +86 and separators.
    re.compile(r"(?<!\d)(?:\+?86[-\s]?)?1[3-9]\d[-\s]?\d{4}[-\s]?\d{4}(?!\d)"),
    # Landlines such as 020-12345678 or (020)12345678.
    re.compile(r"(?<!\d)\(?0\d{2,3}\)?[-\s]?\d{7,8}(?!\d)"),
    # Resident identity card numbers.
    re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"),
    # E-mail addresses. The lookbehind lets a match start only where a run of address
    # characters starts, which keeps the scan linear (without it a long run of letters with
    # no "@" is retried from every position: quadratic, seconds of CPU per request line).
    re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.-]+"),
]
# Longer strings in a log record are cut before redaction: a log line never needs more, and
# the cost of logging stays bounded whatever a caller sends.
MAX_LOGGED_CHARS = 4000
# Query-string parameters that name a person or a place of residence.
_QUERY_PARAM = re.compile(
    r"((?:^|[?&])(?:" + "|".join(sorted(PERSONAL_KEYS)) + r")=)[^&\s]*", re.IGNORECASE
)


# Every pattern above needs a digit, an "@" or an "=": a string with none of them (most of a
# log line's values) is passed by one search instead of five substitutions.
_MAY_HOLD_PERSONAL = re.compile(r"[\d@=＠＝]")
# Full-width digits and signs (１３８…, as an input method may type them) read as ASCII.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９＋－＠＝", "0123456789+-@=")


def redact_text(text: str) -> str:
    """Mask phone numbers, identity numbers, e-mail addresses and personal query parameters."""
    if not _MAY_HOLD_PERSONAL.search(text):
        return text
    text = text.translate(_FULL_WIDTH)
    text = _QUERY_PARAM.sub(lambda m: m.group(1) + REDACTED, text)
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def redact(value: Any, key: str | None = None) -> Any:
    """Redact a log value recursively: personal keys wholesale, strings by pattern."""
    if key is not None and key.lower() in PERSONAL_KEYS and value not in (None, ""):
        return REDACTED
    if isinstance(value, str):
        if len(value) > MAX_LOGGED_CHARS:
            cut = len(value) - MAX_LOGGED_CHARS
            value = f"{value[:MAX_LOGGED_CHARS]}…[{cut} more characters]"
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def _redaction_processor(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
    # The timestamp is the pipeline's own (TimeStamper runs before): it cannot hold anyone's
    # data, and its digits would send every line through the patterns.
    return {k: v if k == "timestamp" else redact(v, k) for k, v in event_dict.items()}


def configure_logging(*, service: str, level: str = "INFO") -> None:
    """Send every log record, structlog's and the standard library's, out as redacted JSON."""

    def add_service(
        _: Any, __: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        event_dict.setdefault("service", service)
        event_dict.pop("color_message", None)  # uvicorn's duplicate of the message
        return event_dict

    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        add_service,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _redaction_processor,
    ]
    structlog.configure(
        processors=[*shared_processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared_processors],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    # The logging manual's own economies: a JSON line names no source line, thread or
    # process, so no record looks them up (the caller's frame alone was ~10 µs a line).
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per run is noise
    # httpx says every request a service makes at INFO; the service receiving it logs it with
    # the same request id, so those lines only doubled the log (polls, relays).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # uvicorn's access log prints raw query strings; our middleware logs a redacted line.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
