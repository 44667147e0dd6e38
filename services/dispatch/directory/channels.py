"""Units' notification channels (/v1/units/{unit_id}/channels) and the notifications sent:
per unit, and per ticket (/v1/tickets/{ticket_id}/notifications)."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Annotated, Any

import phonenumbers
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import insert, select, update

from dispatch.directory import service as directory
from dispatch.tickets import service
from dispatch.tickets.actions import TicketReader, TicketRef
from shared import i18n
from shared.auth import Principal, Role, require
from shared.deps import ClockDep, SessionDep
from shared.errors import BadInput, Forbidden, NotFound
from shared.i18n import Lang
from shared.notify import NotificationsRead, Notifier
from shared.vocabulary import ChannelKind, NoticeKind

router = APIRouter(tags=["notifications"])
Manager = Annotated[Principal, Depends(require(Role.ADMIN, Role.UNIT))]
Watcher = Annotated[
    Principal, Depends(require(Role.ADMIN, Role.UNIT, Role.DISPATCHER, Role.SUPERVISOR))
]
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _check_target(kind: ChannelKind, target: str) -> str:
    """The target as stored (a mobile in E.164), or a refusal saying what fits the kind."""
    if kind is ChannelKind.WEBHOOK and not re.match(r"https?://[^\s/]+", target):
        raise _misfit("a webhook's target is its http(s) URL")
    if kind is ChannelKind.EMAIL and not EMAIL.fullmatch(target):
        raise _misfit("an e-mail channel's target is an e-mail address")
    if kind is ChannelKind.SMS:
        try:
            number = phonenumbers.parse(target, "CN")
        except phonenumbers.NumberParseException:
            number = None
        if number is None or phonenumbers.number_type(number) not in MOBILE:
            raise _misfit("an SMS channel's target is a mobile number")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return target


MOBILE = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _misfit(english: str) -> PydanticCustomError:
    return PydanticCustomError("channel_target_invalid", english)


class ChannelCreate(BaseModel):
    kind: ChannelKind
    name: str = Field(min_length=1, max_length=100, description="e.g. 区住建局政务微信")
    target: str = Field(min_length=1, max_length=500, description="URL, e-mail or mobile")
    kinds: list[NoticeKind] = Field(
        default_factory=list, description="the kinds it takes; empty: every kind"
    )

    @model_validator(mode="after")
    def _target_fits(self) -> ChannelCreate:
        self.target = _check_target(self.kind, self.target)
        return self


class ChannelUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    target: str | None = Field(default=None, min_length=1, max_length=500)
    kinds: list[NoticeKind] | None = None
    active: bool | None = None


class ChannelRead(BaseModel):
    id: str
    owner: str
    kind: ChannelKind
    name: str
    target: str
    kinds: list[NoticeKind]
    active: bool
    created_at: datetime
    updated_at: datetime
    # A webhook's signing secret: shown only when created or renewed.
    secret: str | None = None


class ChannelsRead(BaseModel):
    items: list[ChannelRead]


async def _notifier(request: Request) -> Notifier:
    return request.app.state.notifier


NotifierDep = Annotated[Notifier, Depends(_notifier)]


def _own_unit(principal: Principal, unit_id: str) -> None:
    if principal.role is Role.UNIT and principal.unit_id != unit_id:
        raise Forbidden("a unit manages only its own channels", zh="只能管理本单位的通知渠道")


def _read(row: Any, secret: str | None = None) -> ChannelRead:
    return ChannelRead(**{k: row[k] for k in ChannelRead.model_fields if k in row}, secret=secret)


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _seal(notifier: Notifier, secret: str | None) -> str | None:
    return notifier.box.encrypt(secret.encode()).decode() if secret else None


@router.get("/v1/units/{unit_id}/channels", response_model=ChannelsRead)
async def list_channels(
    unit_id: str, session: SessionDep, notifier: NotifierDep, principal: Watcher
) -> ChannelsRead:
    """The unit's notification channels (without their secrets)."""
    _own_unit(principal, unit_id)
    table = notifier.notifications.channels
    rows = await session.execute(
        select(table).where(table.c.owner == unit_id).order_by(table.c.created_at)
    )
    return ChannelsRead(items=[_read(row) for row in rows.mappings()])


@router.post("/v1/units/{unit_id}/channels", response_model=ChannelRead, status_code=201)
async def add_channel(
    unit_id: str,
    body: ChannelCreate,
    session: SessionDep,
    clock: ClockDep,
    notifier: NotifierDep,
    principal: Manager,
) -> ChannelRead:
    """Add a channel; a webhook's signing secret is in this answer only (keep it)."""
    _own_unit(principal, unit_id)
    await directory.get_unit(session, unit_id)
    secret = _new_secret() if body.kind is ChannelKind.WEBHOOK else None
    now = clock.now()
    table = notifier.notifications.channels
    row = (
        (
            await session.execute(
                insert(table)
                .values(
                    id=secrets.token_hex(8),
                    owner=unit_id,
                    kind=body.kind.value,
                    name=body.name,
                    target=body.target,
                    secret_sealed=_seal(notifier, secret),
                    kinds=[k.value for k in body.kinds],
                    created_at=now,
                    updated_at=now,
                )
                .returning(table)
            )
        )
        .mappings()
        .one()
    )
    return _read(row, secret)


async def _channel(session: SessionDep, notifier: Notifier, unit_id: str, channel_id: str) -> Any:
    table = notifier.notifications.channels
    row = (
        (
            await session.execute(
                select(table)
                .where(table.c.id == channel_id, table.c.owner == unit_id)
                .with_for_update()
            )
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        raise NotFound(f"no channel {channel_id!r} of {unit_id}", zh=f"没有通知渠道 {channel_id}")
    return row


async def _change(
    session: SessionDep, notifier: Notifier, channel_id: str, values: dict[str, Any]
) -> Any:
    table = notifier.notifications.channels
    result = await session.execute(
        update(table).where(table.c.id == channel_id).values(values).returning(table)
    )
    return result.mappings().one()


@router.patch("/v1/units/{unit_id}/channels/{channel_id}", response_model=ChannelRead)
async def update_channel(
    unit_id: str,
    channel_id: str,
    body: ChannelUpdate,
    session: SessionDep,
    clock: ClockDep,
    notifier: NotifierDep,
    principal: Manager,
) -> ChannelRead:
    """Rename a channel, change its target or the kinds it takes, or switch it off
    (``active: false``; what is queued for it is then skipped, not sent)."""
    _own_unit(principal, unit_id)
    row = await _channel(session, notifier, unit_id, channel_id)
    values: dict[str, Any] = body.model_dump(exclude_unset=True, exclude_none=True)
    if "target" in values:
        try:
            values["target"] = _check_target(ChannelKind(row["kind"]), values["target"])
        except PydanticCustomError as exc:
            problem = {"type": exc.type, "msg": exc.message(), "loc": ("target",)}
            raise BadInput(
                i18n.validation_problem(problem, Lang.EN),
                zh=i18n.validation_problem(problem, Lang.ZH),
            ) from None
    if "kinds" in values:
        values["kinds"] = [NoticeKind(k).value for k in values["kinds"]]
    values["updated_at"] = clock.now()
    return _read(await _change(session, notifier, channel_id, values))


@router.post("/v1/units/{unit_id}/channels/{channel_id}/secret", response_model=ChannelRead)
async def renew_secret(
    unit_id: str,
    channel_id: str,
    session: SessionDep,
    clock: ClockDep,
    notifier: NotifierDep,
    principal: Manager,
) -> ChannelRead:
    """A new signing secret for a webhook, in this answer only; the old one stops at once."""
    _own_unit(principal, unit_id)
    row = await _channel(session, notifier, unit_id, channel_id)
    if row["kind"] != ChannelKind.WEBHOOK:
        raise BadInput("only a webhook has a signing secret", zh="只有 Webhook 渠道有签名密钥")
    secret = _new_secret()
    values = {"secret_sealed": _seal(notifier, secret), "updated_at": clock.now()}
    return _read(await _change(session, notifier, channel_id, values), secret)


@router.get("/v1/units/{unit_id}/notifications", response_model=NotificationsRead)
async def unit_notifications(
    unit_id: str,
    session: SessionDep,
    notifier: NotifierDep,
    principal: Watcher,
    limit: int = Query(100, ge=1, le=500),
) -> NotificationsRead:
    """What the unit was sent, newest first, and how each delivery went."""
    _own_unit(principal, unit_id)
    return NotificationsRead.of(
        await notifier.notifications.listing(session, owner=unit_id, limit=limit)
    )


@router.get("/v1/tickets/{ticket_id}/notifications", response_model=NotificationsRead)
async def ticket_notifications(
    ticket_id: TicketRef,
    session: SessionDep,
    notifier: NotifierDep,
    principal: TicketReader,
) -> NotificationsRead:
    """The notifications a ticket's steps sent, newest first; a unit sees its own."""
    await service.get_ticket(session, ticket_id, principal=principal)
    own = principal.unit_id if principal.role in (Role.UNIT, Role.SUB_UNIT) else None
    rows = await notifier.notifications.listing(session, ticket_id=ticket_id, owner=own)
    return NotificationsRead.of(rows)
