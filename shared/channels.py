"""The channels a notification travels by, behind one interface (:class:`Channel`): a signed
webhook, e-mail over SMTP, SMS through a provider's HTTP API, and a file for development.

A channel either delivers a message or raises :class:`ReceiverDown` (try again later: the
receiver could not be reached or asked for time) or :class:`Refused` (it was reached and
said no to this message). The signature scheme of webhooks is documented for receivers in
``docs/notifications.md``; the SMS provider is Tencent Cloud's ``SendSms`` (API 3.0,
version 2021-01-11, signed with TC3-HMAC-SHA256).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit
from uuid import UUID

import aiosmtplib
import httpx

from shared.vocabulary import NoticeKind

SIGNATURE_VERSION = "v1"
# Answers that ask the sender to come back later rather than refusing the message.
RETRY_STATUSES = frozenset({408, 425, 429})


class ReceiverDown(Exception):
    """The receiver could not take the message now; it is sent again later."""


class Refused(Exception):
    """The receiver was reached and refused this message (the reason says why)."""


@dataclass(frozen=True)
class Message:
    """One notification as a channel sends it. ``address`` (a URL, an e-mail address, a phone
    number) lives only in memory for this send; it is never logged or stored with it."""

    id: UUID
    kind: NoticeKind
    title: str
    text: str
    address: str
    body: dict[str, Any] = field(default_factory=dict)  # the JSON a receiver's system reads
    template_params: list[str] = field(default_factory=list)  # an SMS template's, in order


class Channel(Protocol):
    async def send(self, message: Message) -> None: ...


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """A webhook's signature header: HMAC-SHA256 with the channel's secret over the
    timestamp, a dot and the raw body, hex-encoded, after its version."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


class WebhookChannel:
    """POSTs the message's JSON body, signed, to the receiver's URL."""

    def __init__(self, http: httpx.AsyncClient, *, secret: str) -> None:
        self._http = http
        self._secret = secret

    async def send(self, message: Message) -> None:
        body = json.dumps(message.body, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Hotline-Delivery": str(message.id),
            "X-Hotline-Event": message.kind.value,
            "X-Hotline-Timestamp": str(timestamp),
            "X-Hotline-Signature": sign(self._secret, timestamp, body),
        }
        try:
            response = await self._http.post(message.address, content=body, headers=headers)
        except httpx.TransportError as exc:
            raise ReceiverDown(f"webhook unreachable: {type(exc).__name__}") from exc
        _judge_status(response.status_code, "webhook")


def _judge_status(status: int, what: str) -> None:
    if status < 300:
        return
    if status >= 500 or status in RETRY_STATUSES:
        raise ReceiverDown(f"{what} answered {status}")
    raise Refused(f"{what} answered {status}")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_seconds: float = 10.0


class EmailChannel:
    """Sends the message as a plain-text e-mail through the configured SMTP server."""

    def __init__(self, smtp: SmtpSettings) -> None:
        self._smtp = smtp

    async def send(self, message: Message) -> None:
        email = EmailMessage()
        email["From"] = self._smtp.sender
        email["To"] = message.address
        email["Subject"] = message.title
        email["Message-ID"] = f"<{message.id}@hotline12345>"  # receivers may de-duplicate on it
        email.set_content(message.text)
        smtp = self._smtp
        try:
            await aiosmtplib.send(
                email,
                hostname=smtp.host,
                port=smtp.port,
                username=smtp.username,
                password=smtp.password,
                start_tls=smtp.starttls,
                timeout=smtp.timeout_seconds,
            )
        except aiosmtplib.SMTPResponseException as exc:
            # 4xx: a transient refusal (greylisting, a full queue); 5xx: this message is refused.
            if 400 <= exc.code < 500:
                raise ReceiverDown(f"smtp answered {exc.code}") from exc
            raise Refused(f"smtp answered {exc.code}") from exc
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise Refused("smtp refused the recipient") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise ReceiverDown(f"smtp unreachable: {type(exc).__name__}") from exc


@dataclass(frozen=True)
class TencentSmsSettings:
    secret_id: str
    secret_key: str
    app_id: str  # SmsSdkAppId
    sign_name: str  # the approved signature, e.g. 广州12345
    templates: dict[str, str]  # NoticeKind → approved template id
    endpoint: str = "https://sms.tencentcloudapi.com"
    region: str = "ap-guangzhou"


TC3 = "TC3-HMAC-SHA256"
SMS_VERSION = "2021-01-11"


def tc3_authorization(
    *, secret_id: str, secret_key: str, host: str, body: bytes, timestamp: int, service: str
) -> str:
    """Tencent Cloud API 3.0's Authorization header for a JSON POST to ``/``."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:application/json; charset=utf-8\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"{TC3}\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"

    def mac(key: bytes, text: str) -> bytes:
        return hmac.new(key, text.encode(), hashlib.sha256).digest()

    signing = mac(mac(mac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    signature = hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"{TC3} Credential={secret_id}/{scope}, SignedHeaders=content-type;host, "
        f"Signature={signature}"
    )


class TencentSmsChannel:
    """Tencent Cloud SMS ``SendSms``: an approved template per kind, its parameters in order."""

    def __init__(self, http: httpx.AsyncClient, settings: TencentSmsSettings) -> None:
        self._http = http
        self._settings = settings

    async def send(self, message: Message) -> None:
        settings = self._settings
        template = settings.templates.get(message.kind.value)
        if template is None:
            raise Refused(f"no approved SMS template for {message.kind.value}")
        body = json.dumps(
            {
                "PhoneNumberSet": [message.address],
                "SmsSdkAppId": settings.app_id,
                "SignName": settings.sign_name,
                "TemplateId": template,
                "TemplateParamSet": message.template_params,
                "SessionContext": str(message.id),
            },
            ensure_ascii=False,
        ).encode()
        host = urlsplit(settings.endpoint).netloc
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Host": host,
            "X-TC-Action": "SendSms",
            "X-TC-Version": SMS_VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": settings.region,
            "Authorization": tc3_authorization(
                secret_id=settings.secret_id,
                secret_key=settings.secret_key,
                host=host,
                body=body,
                timestamp=timestamp,
                service="sms",
            ),
        }
        try:
            response = await self._http.post(settings.endpoint, content=body, headers=headers)
        except httpx.TransportError as exc:
            raise ReceiverDown(f"sms provider unreachable: {type(exc).__name__}") from exc
        _judge_status(response.status_code, "sms provider")
        answer = response.json().get("Response", {})
        if error := answer.get("Error"):
            code = str(error.get("Code", ""))
            # Limits and the provider's own faults pass; a bad request or number does not.
            if code.startswith(("RequestLimitExceeded", "InternalError", "LimitExceeded")):
                raise ReceiverDown(f"sms provider: {code}")
            raise Refused(f"sms provider: {code}")
        statuses = answer.get("SendStatusSet") or [{}]
        code = str(statuses[0].get("Code", ""))
        if code != "Ok":
            raise Refused(f"sms provider: {code or 'no status'}")


def mask_address(address: str) -> str:
    """What the development sink shows of an address: a phone's first three and last four
    digits, an e-mail's domain, a URL's host."""
    if "@" in address:
        return "***@" + address.rsplit("@", 1)[1]
    if "://" in address:
        return urlsplit(address).netloc
    return address[:3] + "****" + address[-4:] if len(address) > 7 else "****"


class SinkChannel:
    """Development: each message appended as a JSON line to a file (the workbench shows
    them); the address is masked as in the workbench."""

    def __init__(self, path: Path, *, channel: str) -> None:
        self._path = path
        self._channel = channel

    async def send(self, message: Message) -> None:
        line = json.dumps(
            {
                "at": datetime.now(UTC).isoformat(),
                "id": str(message.id),
                "channel": self._channel,
                "kind": message.kind.value,
                "to": mask_address(message.address),
                "title": message.title,
                "text": message.text,
            },
            ensure_ascii=False,
        )
        await asyncio.to_thread(self._append, line)

    def _append(self, line: str) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._path.open("a", encoding="utf-8") as sink:
            sink.write(line + "\n")
