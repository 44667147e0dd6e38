"""Notifications: recorded with the step that causes them, delivered through the outbox.

A notice to a unit (or to supervisors) becomes one notification per channel of that owner
that takes its kind; each is a row here, in the caller's transaction, and an outbox row for
the destination ``notify:<channel id>``. The service's relay hands those rows to the
:class:`Notifier`, which renders the template, sends it by the channel's adapter and keeps
the notification's state (queued, sent, failed with the reason, skipped). A receiver that
is down holds back only its own channel's notifications, retried with back-off; each is
sent at most once per successful attempt, and carries its id so that a receiver can ignore
a repeat (delivery after a crash between sending and recording is the one repeat possible).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as day_time
from functools import cache
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID, uuid4

import httpx
from cryptography.fernet import Fernet
from pydantic import BaseModel
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    Table,
    Text,
    Uuid,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from shared.channels import (
    Channel,
    EmailChannel,
    Message,
    ReceiverDown,
    Refused,
    SinkChannel,
    SmtpSettings,
    TencentSmsChannel,
    TencentSmsSettings,
    WebhookChannel,
)
from shared.clock import SHANGHAI
from shared.db import schema_metadata
from shared.events import Event
from shared.outbox import Outbox, Outcome
from shared.settings import Settings
from shared.vocabulary import ChannelKind, NoticeKind, NoticeState

PREFIX = "notify:"
TEMPLATES = Path(__file__).parent / "notice_templates.json"


class NoticeQueued(Event):
    """The outbox row of a notification: its destination is a channel, not a service."""

    type_name: ClassVar[str] = "notice.queued.v1"
    sender: ClassVar[str] = ""  # never posted to a service's inbox
    notification_id: UUID
    kind: NoticeKind


@dataclass(frozen=True)
class Notice:
    """What to tell, and whom: ``owner`` is the unit (or ``supervisors``) whose channels
    that take ``kind`` receive it. Parameters name no caller."""

    kind: NoticeKind
    owner: str
    params: Mapping[str, str] = field(default_factory=dict)
    ticket_id: str | None = None
    urgent: bool = False


def due_text(at: datetime | None) -> str:
    """A due time as the Measures count it: 24:00 of the due working day, Beijing time."""
    if at is None:
        return "待定"
    local = at.astimezone(SHANGHAI)
    if local.time() == day_time(0):
        return (local - timedelta(days=1)).strftime("%Y年%m月%d日 24:00")
    return local.strftime("%Y年%m月%d日 %H:%M")


@cache
def templates() -> dict[str, Any]:
    return {k: v for k, v in json.loads(TEMPLATES.read_text("utf-8")).items() if k[0] != "_"}


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def render(kind: NoticeKind, params: Mapping[str, str], lang: str = "zh") -> tuple[str, str]:
    """The title and text of a notice (an absent parameter renders empty)."""
    template = templates()[kind.value][lang]
    values = _Blank(params)
    return template["title"].format_map(values), template["text"].format_map(values).strip()


def sms_params(kind: NoticeKind, params: Mapping[str, str]) -> list[str]:
    return [str(params.get(name, "")) for name in templates()[kind.value]["sms_params"]]


def quiet_until(now: datetime, *, start: day_time, end: day_time) -> datetime | None:
    """The end of the quiet hours (Beijing time) ``now`` falls in, or None outside them."""
    local = now.astimezone(SHANGHAI)
    t = local.time()
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside:
        return None
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=SHANGHAI)


def sink_path(settings: Settings) -> Path:
    """The development sink's file (e-mail without a server, SMS without a provider)."""
    return Path(settings.data_dir) / "notifications.jsonl"


def read_sink(settings: Settings, *, limit: int) -> list[dict[str, Any]]:
    """The sink's newest ``limit`` messages, newest first."""
    path = sink_path(settings)
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()[-limit:]
    return [json.loads(line) for line in reversed(lines)]


def secret_box(pii_key: str) -> Fernet:
    """Seals channel secrets at rest (a key of their own, derived from the service's key)."""
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"channel|" + pii_key.encode()).digest()))


class Notifications:
    """A service's notification records and its owners' channels (created by its
    migrations, ``create_notify_v1``)."""

    def __init__(self, schema: str) -> None:
        metadata = schema_metadata(schema)
        self.channels = Table(
            "notification_channel",
            metadata,
            Column("id", Text, primary_key=True),
            Column("owner", Text, nullable=False),
            Column("kind", Text, nullable=False),
            Column("name", Text, nullable=False),
            Column("target", Text, nullable=False),
            Column("secret_sealed", Text),
            Column("kinds", ARRAY(Text), nullable=False, server_default="{}"),
            Column("active", Boolean, nullable=False, server_default="true"),
            Column("created_at", DateTime(timezone=True), nullable=False),
            Column("updated_at", DateTime(timezone=True), nullable=False),
            Index("ix_notification_channel_owner", "owner"),
        )
        self.records = Table(
            "notification",
            metadata,
            Column("id", Uuid, primary_key=True),
            Column("channel_id", Text, nullable=False),
            Column("owner", Text, nullable=False),
            Column("kind", Text, nullable=False),
            Column("ticket_id", Text),
            Column("params", JSONB, nullable=False),
            Column("urgent", Boolean, nullable=False),
            Column("state", Text, nullable=False),
            Column("attempts", Integer, nullable=False, server_default="0"),
            Column("last_error", Text),
            Column("created_at", DateTime(timezone=True), nullable=False),
            Column("sent_at", DateTime(timezone=True)),
            Index("ix_notification_ticket_id", "ticket_id"),
            Index("ix_notification_owner_created_at", "owner", "created_at"),
        )

    async def queue(
        self,
        session: AsyncSession,
        outbox: Outbox,
        notices: Sequence[Notice],
        *,
        now: datetime,
        channel_ids: Callable[[Notice], Sequence[str]] | None = None,
    ) -> int:
        """Record each notice for every active channel of its owner that takes its kind
        (or for the channels ``channel_ids`` names), in the caller's transaction; how many
        notifications were queued."""
        if not notices:
            return 0
        if channel_ids is None:
            subscribed = await self._subscribed(session, {n.owner for n in notices})
            channel_ids = lambda n: subscribed.get((n.owner, n.kind), [])  # noqa: E731
        records = []
        by_channel: dict[str, list[tuple[Event, str | None]]] = {}
        for notice in notices:
            for channel_id in channel_ids(notice):
                queued = NoticeQueued(notification_id=uuid4(), kind=notice.kind)
                by_channel.setdefault(channel_id, []).append((queued, notice.ticket_id))
                records.append(
                    {
                        "id": queued.notification_id,
                        "channel_id": channel_id,
                        "owner": notice.owner,
                        "kind": notice.kind.value,
                        "ticket_id": notice.ticket_id,
                        "params": dict(notice.params),
                        "urgent": notice.urgent,
                        "state": NoticeState.QUEUED.value,
                        "created_at": now,
                    }
                )
        for channel_id, queued_here in by_channel.items():  # one statement a channel
            await outbox.add_many(session, queued_here, to=PREFIX + channel_id, now=now)
        if records:
            await session.execute(insert(self.records), records)
        return len(records)

    async def _subscribed(
        self, session: AsyncSession, owners: set[str]
    ) -> dict[tuple[str, NoticeKind], list[str]]:
        table = self.channels
        rows = await session.execute(
            select(table.c.id, table.c.owner, table.c.kinds).where(
                table.c.owner.in_(owners), table.c.active
            )
        )
        found: dict[tuple[str, NoticeKind], list[str]] = {}
        for channel_id, owner, kinds in rows:
            for kind in NoticeKind:
                if not kinds or kind.value in kinds:
                    found.setdefault((owner, kind), []).append(channel_id)
        return found

    async def listing(
        self,
        session: AsyncSession,
        *,
        ticket_id: str | None = None,
        owner: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Notifications of a ticket or an owner, newest first, with their channel's kind."""
        records, channels = self.records, self.channels
        query = (
            select(records, channels.c.kind.label("channel_kind"), channels.c.name)
            .outerjoin(channels, channels.c.id == records.c.channel_id)
            .order_by(records.c.created_at.desc(), records.c.id)
            .limit(limit)
        )
        if ticket_id is not None:
            query = query.where(records.c.ticket_id == ticket_id)
        if owner is not None:
            query = query.where(records.c.owner == owner)
        return [dict(row) for row in (await session.execute(query)).mappings()]


@dataclass(frozen=True)
class Route:
    """Where a channel's notifications go: its adapter, its kind, and how a
    notification's address is found (a unit's channel has one; a caller's is looked up
    when sending, never stored with the notification)."""

    channel: Channel
    kind: ChannelKind
    address: Callable[[AsyncSession, Mapping[str, Any]], Awaitable[str | None]]
    kinds: frozenset[str] = frozenset()
    active: bool = True


RouteResolver = Callable[[AsyncSession, str], Awaitable[Route | None]]
SENT = Outcome(done=True)  # what the notifier answers for each notification it sent


@dataclass
class _Bucket:
    tokens: float
    at: float


class Notifier:
    """Sends the notifications the relay hands it, one channel's at a time."""

    def __init__(
        self,
        notifications: Notifications,
        settings: Settings,
        *,
        http: httpx.AsyncClient,
        now: Callable[[], datetime],
        resolvers: Mapping[str, RouteResolver] | None = None,
    ) -> None:
        self.notifications = notifications
        self.settings = settings
        self.http = http
        self.now = now  # the service's clock: quiet hours and giving up follow it
        self.box = secret_box(settings.pii_key.get_secret_value())
        # Channel ids served by something other than the channel table (intake's callers).
        self.resolvers = dict(resolvers or {})
        self._buckets: dict[str, _Bucket] = {}

    def adapter(self, kind: ChannelKind, *, secret: str | None = None, name: str = "") -> Channel:
        settings = self.settings
        sink = sink_path(settings)
        if kind is ChannelKind.WEBHOOK:
            return WebhookChannel(self.http, secret=secret or "")
        if kind is ChannelKind.EMAIL and settings.smtp_host:
            return EmailChannel(
                SmtpSettings(
                    host=settings.smtp_host,
                    port=settings.smtp_port,
                    sender=settings.smtp_sender,
                    username=settings.smtp_username,
                    password=settings.smtp_password.get_secret_value()
                    if settings.smtp_password
                    else None,
                    starttls=settings.smtp_starttls,
                )
            )
        if kind is ChannelKind.SMS and settings.sms_provider == "tencent":
            return TencentSmsChannel(
                self.http,
                TencentSmsSettings(
                    secret_id=settings.tencent_secret_id,
                    secret_key=settings.tencent_secret_key.get_secret_value(),
                    app_id=settings.tencent_sms_app_id,
                    sign_name=settings.tencent_sms_sign_name,
                    templates=settings.sms_templates,
                    endpoint=settings.tencent_sms_endpoint,
                    region=settings.tencent_sms_region,
                ),
            )
        # Development: e-mail without a server and SMS without a provider land in the sink.
        return SinkChannel(sink, channel=name or kind.value)

    async def route(self, session: AsyncSession, channel_id: str) -> Route | None:
        if channel_id in self.resolvers:
            return await self.resolvers[channel_id](session, channel_id)
        table = self.notifications.channels
        row = (
            (await session.execute(select(table).where(table.c.id == channel_id)))
            .mappings()
            .one_or_none()
        )
        if row is None:
            return None
        kind = ChannelKind(row["kind"])
        secret = (
            self.box.decrypt(row["secret_sealed"].encode()).decode()
            if row["secret_sealed"]
            else None
        )
        target = row["target"]

        async def address(_: AsyncSession, __: Mapping[str, Any]) -> str:
            return target

        return Route(
            channel=self.adapter(kind, secret=secret, name=row["name"]),
            kind=kind,
            address=address,
            kinds=frozenset(row["kinds"]),
            active=row["active"],
        )

    async def deliver(
        self, session: AsyncSession, destination: str, rows: Sequence[Mapping[str, Any]]
    ) -> list[Outcome]:
        """Send one channel's due notifications; an outcome per outbox row, in order."""
        records = self.notifications.records
        ids = [UUID(row["payload"]["notification_id"]) for row in rows]
        found: dict[UUID, Mapping[str, Any]] = {
            r["id"]: dict(r)
            for r in (await session.execute(select(records).where(records.c.id.in_(ids))))
            .mappings()
            .all()
        }
        route = await self.route(session, destination.removeprefix(PREFIX))
        now = self.now()
        outcomes, sent = [], []
        for row in rows:
            record = found.get(UUID(row["payload"]["notification_id"]))
            if record is None or record["state"] != NoticeState.QUEUED:
                outcomes.append(Outcome(done=True))  # nothing (more) to send
                continue
            outcome = await self._send(session, record, route, destination, now)
            if outcome is SENT:
                sent.append({"sent_id": record["id"], "at": self.now()})
            outcomes.append(outcome)
        if sent:  # one statement for the batch, each with the time it went
            table = self.notifications.records
            await session.execute(
                update(table)
                .where(table.c.id == bindparam("sent_id"))
                .values(
                    state=NoticeState.SENT.value,
                    attempts=table.c.attempts + 1,
                    sent_at=bindparam("at"),
                ),
                sent,
            )
        return outcomes

    async def _send(
        self,
        session: AsyncSession,
        record: Mapping[str, Any],
        route: Route | None,
        destination: str,
        now: datetime,
    ) -> Outcome:
        kind = NoticeKind(record["kind"])
        if route is None or not route.active or (route.kinds and kind.value not in route.kinds):
            return await self._finish(session, record, NoticeState.SKIPPED, "channel off")
        give_up = record["created_at"] + timedelta(hours=self.settings.notify_give_up_hours)
        if now >= give_up:
            reason = (
                f"gave up after {self.settings.notify_give_up_hours:g} h: {record['last_error']}"
            )
            return await self._finish(session, record, NoticeState.FAILED, reason)
        if route.kind is ChannelKind.SMS and not record["urgent"]:
            settings = self.settings
            later = quiet_until(now, start=settings.sms_quiet_start, end=settings.sms_quiet_end)
            if later is not None:
                return Outcome(done=False, retry_at=later)
        wait = self._take_token(destination)
        if wait:
            return Outcome(done=False, retry_at=now + timedelta(seconds=wait))
        address = await route.address(session, record)
        if not address:
            return await self._finish(session, record, NoticeState.SKIPPED, "no address or consent")
        title, text = render(kind, record["params"])
        message = Message(
            id=record["id"],
            kind=kind,
            title=title,
            text=text,
            address=address,
            body={
                "id": str(record["id"]),
                "kind": kind.value,
                "ticket_id": record["ticket_id"],
                "owner": record["owner"],
                "created_at": record["created_at"].isoformat(),
                "title": title,
                "text": text,
                "params": record["params"],
            },
            template_params=sms_params(kind, record["params"]),
        )
        try:
            await route.channel.send(message)
        except (ReceiverDown, Refused) as exc:
            await session.execute(
                update(self.notifications.records)
                .where(self.notifications.records.c.id == record["id"])
                .values(attempts=record["attempts"] + 1, last_error=str(exc)[:1000])
            )
            return Outcome(done=False, error=str(exc))
        return SENT

    async def _finish(
        self, session: AsyncSession, record: Mapping[str, Any], state: NoticeState, reason: str
    ) -> Outcome:
        """A notification ends unsent (skipped or failed), the reason kept."""
        await session.execute(
            update(self.notifications.records)
            .where(self.notifications.records.c.id == record["id"])
            .values(state=state.value, last_error=reason)
        )
        return Outcome(done=True, error=reason)

    def _take_token(self, destination: str) -> float:
        """Seconds to wait before this receiver may get another message (0: go now): a
        bucket per receiver and process, refilled at the configured rate per minute."""
        rate = self.settings.notify_rate_per_minute / 60.0
        burst = float(self.settings.notify_rate_per_minute)
        clock = time.monotonic()
        bucket = self._buckets.setdefault(destination, _Bucket(tokens=burst, at=clock))
        bucket.tokens = min(burst, bucket.tokens + (clock - bucket.at) * rate)
        bucket.at = clock
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return math.ceil((1 - bucket.tokens) / rate)


class NotificationRead(BaseModel):
    """A notification and how its delivery went (no address: that is the channel's)."""

    id: UUID
    kind: NoticeKind
    owner: str
    ticket_id: str | None
    channel_id: str
    channel_kind: ChannelKind | None
    channel_name: str | None
    state: NoticeState
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class NotificationsRead(BaseModel):
    items: list[NotificationRead]

    @classmethod
    def of(cls, rows: list[dict[str, Any]]) -> NotificationsRead:
        return cls(items=[NotificationRead(**row, channel_name=row["name"]) for row in rows])
