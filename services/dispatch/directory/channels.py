"""Notification channels and what was sent: a unit's (/v1/units/{unit_id}/channels, managed by
the unit or an administrator), the supervisors' for their daily digest
(/v1/supervisors/channels), and per ticket (/v1/tickets/{ticket_id}/notifications)."""

import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

import phonenumbers
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.directory import service as directory
from dispatch.tickets import service
from dispatch.tickets.actions import TicketReader, TicketRef
from dispatch.tickets.events import SUPERVISORS
from shared import i18n
from shared.auth import Principal, Role, require
from shared.deps import ClockDep, SessionDep
from shared.errors import BadInput, Forbidden, NotFound
from shared.i18n import Lang
from shared.notify import NotificationsRead, Notifier
from shared.vocabulary import ChannelKind, NoticeKind

router = APIRouter(tags=["notifications"])
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
    def _target_fits(self) -> "ChannelCreate":
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


async def _unit_managed(
    unit_id: str,
    principal: Annotated[Principal, Depends(require(Role.ADMIN, Role.UNIT, Role.SUB_UNIT))],
) -> str:
    _own_unit(principal, unit_id)
    return unit_id


async def _unit_watched(
    unit_id: str,
    principal: Annotated[
        Principal,
        Depends(require(Role.ADMIN, Role.UNIT, Role.SUB_UNIT, Role.DISPATCHER, Role.SUPERVISOR)),
    ],
) -> str:
    _own_unit(principal, unit_id)
    return unit_id


async def _supervisors(
    _: Annotated[Principal, Depends(require(Role.ADMIN, Role.SUPERVISOR))],
) -> str:
    return SUPERVISORS


def _own_unit(principal: Principal, unit_id: str) -> None:
    if principal.role in (Role.UNIT, Role.SUB_UNIT) and principal.unit_id != unit_id:
        raise Forbidden("a unit manages only its own channels", zh="只能管理本单位的通知渠道")


def _read(row: Any, secret: str | None = None) -> ChannelRead:
    return ChannelRead(**{k: row[k] for k in ChannelRead.model_fields if k in row}, secret=secret)


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _seal(notifier: Notifier, secret: str | None) -> str | None:
    return notifier.box.encrypt(secret.encode()).decode() if secret else None


async def _channel(session: AsyncSession, notifier: Notifier, owner: str, channel_id: str) -> Any:
    table = notifier.notifications.channels
    row = (
        (
            await session.execute(
                select(table)
                .where(table.c.id == channel_id, table.c.owner == owner)
                .with_for_update()
            )
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        raise NotFound(f"no channel {channel_id!r} of {owner}", zh=f"没有通知渠道 {channel_id}")
    return row


async def _change(
    session: AsyncSession, notifier: Notifier, channel_id: str, values: dict[str, Any]
) -> Any:
    table = notifier.notifications.channels
    result = await session.execute(
        update(table).where(table.c.id == channel_id).values(values).returning(table)
    )
    return result.mappings().one()


def _channel_routes(
    prefix: str,
    managed: Callable[..., Awaitable[str]],
    watched: Callable[..., Awaitable[str]],
    whose: str,
) -> None:
    """The channel endpoints of one kind of owner under ``prefix``; ``managed`` and
    ``watched`` check who may change and who may read them and answer the owner."""
    Managed = Annotated[str, Depends(managed)]
    Watched = Annotated[str, Depends(watched)]

    @router.get(f"{prefix}/channels", response_model=ChannelsRead, name=f"{whose}_channels")
    async def list_channels(
        owner: Watched, session: SessionDep, notifier: NotifierDep
    ) -> ChannelsRead:
        table = notifier.notifications.channels
        rows = await session.execute(
            select(table).where(table.c.owner == owner).order_by(table.c.created_at)
        )
        return ChannelsRead(items=[_read(row) for row in rows.mappings()])

    list_channels.__doc__ = f"The {whose}' notification channels (without their secrets)."

    @router.post(
        f"{prefix}/channels",
        response_model=ChannelRead,
        status_code=201,
        name=f"add_{whose}_channel",
    )
    async def add_channel(
        owner: Managed,
        body: ChannelCreate,
        session: SessionDep,
        clock: ClockDep,
        notifier: NotifierDep,
    ) -> ChannelRead:
        """Add a channel; a webhook's signing secret is in this answer only (keep it)."""
        if owner != SUPERVISORS:
            await directory.get_unit(session, owner)
        secret = _new_secret() if body.kind is ChannelKind.WEBHOOK else None
        now = clock.now()
        table = notifier.notifications.channels
        values = {
            "id": secrets.token_hex(8),
            "owner": owner,
            "kind": body.kind.value,
            "name": body.name,
            "target": body.target,
            "secret_sealed": _seal(notifier, secret),
            "kinds": [k.value for k in body.kinds],
            "created_at": now,
            "updated_at": now,
        }
        row = (await session.execute(insert(table).values(values).returning(table))).mappings()
        return _read(row.one(), secret)

    @router.patch(
        f"{prefix}/channels/{{channel_id}}",
        response_model=ChannelRead,
        name=f"update_{whose}_channel",
    )
    async def update_channel(
        owner: Managed,
        channel_id: str,
        body: ChannelUpdate,
        session: SessionDep,
        clock: ClockDep,
        notifier: NotifierDep,
    ) -> ChannelRead:
        """Rename a channel, change its target or the kinds it takes, or switch it off
        (``active: false``; what is queued for it is then skipped, not sent)."""
        row = await _channel(session, notifier, owner, channel_id)
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

    @router.post(
        f"{prefix}/channels/{{channel_id}}/secret",
        response_model=ChannelRead,
        name=f"renew_{whose}_channel_secret",
    )
    async def renew_secret(
        owner: Managed,
        channel_id: str,
        session: SessionDep,
        clock: ClockDep,
        notifier: NotifierDep,
    ) -> ChannelRead:
        """A new signing secret for a webhook, in this answer only; the old one stops at once."""
        row = await _channel(session, notifier, owner, channel_id)
        if row["kind"] != ChannelKind.WEBHOOK:
            raise BadInput("only a webhook has a signing secret", zh="只有 Webhook 渠道有签名密钥")
        secret = _new_secret()
        values = {"secret_sealed": _seal(notifier, secret), "updated_at": clock.now()}
        return _read(await _change(session, notifier, channel_id, values), secret)

    @router.get(
        f"{prefix}/notifications", response_model=NotificationsRead, name=f"{whose}_notifications"
    )
    async def owner_notifications(
        owner: Watched,
        session: SessionDep,
        notifier: NotifierDep,
        limit: int = Query(100, ge=1, le=500),
    ) -> NotificationsRead:
        """What was sent, newest first, and how each delivery went."""
        return NotificationsRead.of(
            await notifier.notifications.listing(session, owner=owner, limit=limit)
        )


_channel_routes("/v1/units/{unit_id}", _unit_managed, _unit_watched, "units")
_channel_routes("/v1/supervisors", _supervisors, _supervisors, "supervisors")


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
