"""通知: a unit's channels (or, for supervisors, their digest's), what was sent and how each
delivery went; in development, the sink's messages. Everything through dispatch's API as
the signed-in user."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from hotline_client.errors import HotlineError

from console.app import client_for, labels
from console.pages import posted_form, render, then_back
from console.session import signed_in
from shared.auth import Principal, Role
from shared.errors import Forbidden

router = APIRouter()
CHANNEL_KINDS = ("webhook", "email", "sms")  # the sink is for development stacks
UNIT_KINDS = (
    "ticket_assigned",
    "due_soon",
    "overdue",
    "supervision_opened",
    "return_decided",
    "feedback_sent_back",
)
# A sub-unit is designated tickets, sent its results back, and held to the unit's limits.
SUB_UNIT_KINDS = ("ticket_assigned", "due_soon", "overdue", "feedback_sent_back")


def _owner(user: Principal) -> tuple[str, tuple[str, ...]]:
    """Whose channels this user keeps, and the kinds they can take."""
    if user.role is Role.UNIT:
        return f"units/{user.unit_id}", UNIT_KINDS
    if user.role is Role.SUB_UNIT:
        return f"units/{user.unit_id}", SUB_UNIT_KINDS
    if user.role in (Role.SUPERVISOR, Role.ADMIN):
        return "supervisors", ("overdue_digest",)
    raise Forbidden(
        "units, supervisors and administrators keep channels",
        zh="通知渠道由承办单位、督办人员或系统管理员设置",
    )


async def _page(
    request: Request, *, error: str = "", notice: str = "", secret: str = ""
) -> Response:
    token, user = signed_in(request)
    owner, kinds = _owner(user)
    client = client_for(request, token)
    channels = (await client.run(client.channels(owner))).value
    sent = (await client.run(client.sent(owner))).value
    return render(
        request,
        "channels.html",
        {
            "channels": channels.items if channels else [],
            "sent": sent.items if sent else [],
            "channel_kinds": CHANNEL_KINDS,
            "kinds": kinds,
            "labels": await labels(request, token),
            "for_supervisors": owner == "supervisors",
            "show_sink": user.role is Role.ADMIN and not request.app.state.settings.is_production,
            "secret": secret,
            "error": error,
            "notice": notice,
        },
    )


@router.get("/channels", response_class=HTMLResponse)
async def channels_page(request: Request, error: str = "", notice: str = "") -> Response:
    return await _page(request, error=error, notice=notice)


@router.post("/channels", response_class=HTMLResponse)
async def add_channel(request: Request) -> Response:
    """Add a channel; a webhook's secret is shown on the answering page, once, never put in
    a URL."""
    token, user = signed_in(request)
    owner, kinds = _owner(user)
    form = await posted_form(request, token)
    client = client_for(request, token)
    chosen = [k for k in form.getlist("kinds") if k in kinds]
    call = client.add_channel(
        owner,
        kind=str(form.get("kind") or ""),
        name=str(form.get("name") or "").strip(),
        target=str(form.get("target") or "").strip(),
        kinds=chosen,
    )
    try:
        added = (await client.run(call)).value
    except HotlineError as refused:
        if refused.status == 401:
            raise
        return await _page(request, error=refused.said)
    assert added is not None
    return await _page(request, notice=f"已添加通知渠道“{added.name}”", secret=added.secret or "")


@router.post("/channels/{channel_id}/switch")
async def switch_channel(request: Request, channel_id: str) -> Response:
    token, user = signed_in(request)
    owner, _ = _owner(user)
    form = await posted_form(request, token)
    active = form.get("active") == "true"
    client = client_for(request, token)
    call = client.update_channel(owner, channel_id, active=active)
    return await then_back(client, call, "/channels", "已启用" if active else "已停用")


@router.get("/notifications/sink", response_class=HTMLResponse)
async def sink_page(request: Request) -> Response:
    """Development: the messages e-mail and SMS would have carried (addresses masked)."""
    token, user = signed_in(request)
    if user.role is not Role.ADMIN or request.app.state.settings.is_production:
        raise Forbidden(
            "development stacks, administrators only", zh="仅开发环境的系统管理员可查看"
        )
    client = client_for(request, token)
    seen: dict[str, Any] = {}
    for service in ("dispatch", "intake"):  # they may share one sink file: once each
        found = (await client.run(client.sink(service))).value
        for message in found.items if found else []:
            seen.setdefault(message.id, message)
    messages = sorted(seen.values(), key=lambda m: m.at, reverse=True)
    return render(
        request, "sink.html", {"messages": messages, "labels": await labels(request, token)}
    )
