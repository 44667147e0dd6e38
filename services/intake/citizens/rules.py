"""The rules of citizens' own channels, as pure functions: the proof of work that makes a
flood of submissions expensive, the rate windows, and what a progress answer may show."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from intake.tickets.rules import Disposition, Outcome
from shared.errors import Forbidden, TooManyRequests
from shared.i18n import Lang, labels
from shared.service import own_labels
from shared.vocabulary import TicketStatus


class SubmissionSource(StrEnum):
    WEB = "web"  # the public form (我要反映)
    OPEN311 = "open311"  # an application speaking Open311 GeoReport v2


class AttachmentKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"


# --- proof of work -----------------------------------------------------------------------
# A challenge is signed, not stored: "id.expires.bits.signature". The browser finds a nonce
# whose SHA-256 with the challenge starts with `bits` zero bits (about 2**bits hashes, a
# second on a phone at 16); the server checks it with one hash and spends the id once. It
# needs no third party and works offline, which a CAPTCHA service would not.


def _signature(key: bytes, body: str) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:32]


def issue_challenge(key: bytes, *, now: datetime, bits: int, ttl: timedelta) -> str:
    body = f"{secrets.token_hex(8)}.{int((now + ttl).timestamp())}.{bits}"
    return f"{body}.{_signature(key, body)}"


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte:
            return bits + 8 - byte.bit_length()
        bits += 8
    return bits


def solves(challenge: str, nonce: str) -> bool:
    bits = int(challenge.split(".")[2])
    return leading_zero_bits(hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()) >= bits


def checked_challenge(
    key: bytes, challenge: str, nonce: str, *, now: datetime, min_bits: int
) -> tuple[str, datetime]:
    """The challenge's id and expiry if ``nonce`` solves a challenge this server issued and
    that is still fresh; refused otherwise (the id must then be spent once by the caller)."""
    parts = challenge.split(".")
    refused = Forbidden(
        "the anti-abuse check failed or expired; reload the page and send again",
        code="challenge_failed",
        zh="防刷验证未通过或已过期，请刷新页面后重新提交",
    )
    if len(parts) != 4 or not parts[1].isdigit() or not parts[2].isdigit():
        raise refused
    body = ".".join(parts[:3])
    if not hmac.compare_digest(_signature(key, body), parts[3]):
        raise refused
    expires = datetime.fromtimestamp(int(parts[1]), tz=now.tzinfo)
    if expires < now or int(parts[2]) < min_bits or len(nonce) > 32 or not solves(challenge, nonce):
        raise refused
    return parts[0], expires


# --- rate windows ------------------------------------------------------------------------


def window_start(now: datetime, seconds: int) -> datetime:
    """The fixed window ``now`` falls in (windows of one length all start on its multiples)."""
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


def check_rate(hits: int, *, limit: int, window_ends: datetime, now: datetime, what: str) -> None:
    """Refuse the request that makes ``hits`` exceed ``limit`` in its window (429)."""
    if hits <= limit:
        return
    wait = max(1, math.ceil((window_ends - now).total_seconds()))
    raise TooManyRequests(
        f"too many requests from this {what}; try again in {wait} s",
        zh=f"操作过于频繁，请 {wait} 秒后再试",
        retry_after=wait,
    )


# --- progress ----------------------------------------------------------------------------


class PublicStage(StrEnum):
    """Where a matter stands, in the words a citizen is told (never the workflow's own)."""

    AWAITING_REVIEW = "awaiting_review"  # the form arrived; an agent has not yet taken it
    DISPATCHING = "dispatching"  # taken; the agency is sending it to a unit
    HANDLING = "handling"  # a unit handles it
    ANSWERED = "answered"  # the hotline answered (feedback approved, or answered at intake)
    CLOSED = "closed"


_STAGES = {
    TicketStatus.AWAITING_DISPATCH: PublicStage.DISPATCHING,
    TicketStatus.DISPATCHED: PublicStage.DISPATCHING,
    TicketStatus.RETURN_REQUESTED: PublicStage.DISPATCHING,
    TicketStatus.AWAITING_EVALUATION: PublicStage.ANSWERED,
    TicketStatus.CLOSED: PublicStage.CLOSED,
    "submitted": PublicStage.DISPATCHING,  # intake's status until dispatch reports one
    "answered": PublicStage.ANSWERED,  # answered from the knowledge base (Art 13)
    "closed_at_intake": PublicStage.CLOSED,  # Art 11
}


def public_stage(status: str | None) -> PublicStage:
    """A ticket's status as the citizen is told it (None: a submission not yet reviewed);
    every other workflow status (handling, sub-units, review, re-handling…) is 办理中."""
    if status is None:
        return PublicStage.AWAITING_REVIEW
    return _STAGES.get(status, PublicStage.HANDLING)


def is_closed(stage: PublicStage) -> bool:
    """Open311's two states: answered or closed is "closed", anything else "open"."""
    return stage in (PublicStage.ANSWERED, PublicStage.CLOSED)


def phone_tail_matches(phone: str | None, tail: str) -> bool:
    """The last four digits the caller gave match the phone they left (compared in constant
    time; no phone, no match)."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    return len(tail) == 4 and len(digits) >= 4 and hmac.compare_digest(digits[-4:], tail)


# Dispositions whose words may be published (Art 11(5): secrets and privacy never; the other
# Art 11 cases are not matters for a unit, so nothing of them is a public request).
PUBLISHED = frozenset({Disposition.NORMAL, Disposition.REPEAT})


def publishable(outcome: str, disposition: str) -> bool:
    """A request's words and place are public once an agent has reviewed it as an ordinary
    matter for a unit (Open311's lists); before that, or under Art 11, only its status."""
    return outcome == Outcome.SUBMITTED and disposition in PUBLISHED


def stage_words(lang: Lang) -> dict[str, str]:
    """Each stage as a citizen is told it, in ``lang``."""
    return labels(lang, own_labels("intake"))["public_stage"]
