"""系统管理: the administrator's pages — the calendar's years, the directory of units, routing
rules with a "test a call" box, time limits, and the knowledge-base entries awaiting review.
Every change goes through the owning service's API (audited there) as the administrator."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from hotline_client.errors import HotlineError

from console.app import SHANGHAI, catalogues, client_for, labels, sla_now
from console.pages import posted_form, render, then_back
from console.session import signed_in
from shared.auth import Role
from shared.errors import Forbidden

router = APIRouter()
SECTIONS = {
    "calendar": "工作日历与派单测试",
    "units": "承办单位",
    "rules": "派单规则",
    "limits": "办理时限",
    "kb": "知识库审核",
}


def schedule_warning(today: date, known_years: set[int]) -> str | None:
    """The calendar needs next year's official schedule before it starts: from December on,
    a missing year is said (deadlines into it are provisional until it is loaded)."""
    missing = [y for y in (today.year, today.year + 1) if y not in known_years]
    if today.month < 12:
        missing = [y for y in missing if y == today.year]
    if not missing:
        return None
    years = "、".join(f"{y}年" for y in missing)
    return (
        f"{years}的节假日安排尚未载入：跨入该年的期限按周一至周五计算并标为“期限待定”，请尽快载入。"
    )


def _admin(request: Request) -> str:
    token, user = signed_in(request)
    if user.role is not Role.ADMIN:
        raise Forbidden("administrators only", zh="此页面供系统管理员使用")
    return token


@router.get("/admin", response_class=HTMLResponse)
async def administration(
    request: Request,
    section: str = "calendar",
    category: str = "",
    district: str = "",
    error: str = "",
    notice: str = "",
) -> Response:
    token = _admin(request)
    client = client_for(request, token)
    chosen = section if section in SECTIONS else "calendar"
    years = (await client.run(client.calendar_years())).value
    known = set(years.package_years) | {y["year"] for y in years.loaded} if years else set()
    today = (await sla_now(request, token)).astimezone(SHANGHAI).date()
    context: dict[str, Any] = {
        "sections": SECTIONS,
        "section": chosen,
        "years": years,
        "warning": schedule_warning(today, known),
        "labels": await labels(request, token),
        "error": error,
        "notice": notice,
    }
    if chosen == "calendar":
        context |= {"category": category, "district": district, "route": None}
        if category or district:
            try:
                answer = await client.run(client.test_route(category or None, district or None))
                context["route"] = answer.value
            except HotlineError as refused:
                if refused.status == 401:
                    raise
                context["route"] = {"error": refused.said}
    else:
        listing: Any = {
            "units": client.units(district=district or None, inactive=True),
            "rules": client.routing_rules(),
            "limits": client.time_limits(),
            "kb": client.kb_entries("draft"),
        }[chosen]
        found = (await client.run(listing)).value
        context |= {"items": found.items if found else [], "district": district}
    if chosen in ("units", "rules", "limits"):
        categories, places = await catalogues(request, token)
        context |= {
            "categories": categories.items if categories else [],
            "districts": places.items if places else [],
        }
    return render(request, "admin.html", context)


NUMBERS = {"priority", "working_days", "hours", "max_extensions"}


def _given(form: Any, *fields: str) -> dict[str, Any]:
    """The form's non-empty fields as the API takes them: an empty field is not set, a number
    is a number (anything else goes as typed, for the API to refuse in its own words), and a
    day is its start in Beijing time."""
    given: dict[str, Any] = {}
    for field in fields:
        value = str(form.get(field) or "").strip()
        if not value:
            continue
        if field in NUMBERS and value.isdigit():
            given[field] = int(value)
        elif field == "effective_from" and len(value) == 10:
            given[field] = f"{value}T00:00:00+08:00"
        else:
            given[field] = value
    return given


@router.post("/admin/{section}")
async def change(request: Request, section: str) -> Response:
    """A change in one section of the administration, by its form: a unit added, renamed,
    moved, deactivated or reactivated; a routing rule added or removed; a time limit set;
    a knowledge-base entry approved or retired."""
    token = _admin(request)
    form = await posted_form(request, token)
    client = client_for(request, token)
    back = f"/admin?section={section}"
    if section == "units" and form.get("unit_id"):
        changes = _given(form, "name", "parent_id", "district", "street")
        if form.get("active") in ("yes", "no"):
            changes["active"] = form.get("active") == "yes"
        call: Any = client.update_unit(str(form.get("unit_id")), changes)
        done = "已修改承办单位"
    elif section == "units":
        unit = _given(form, "id", "name", "kind", "district", "street", "parent_id")
        call, done = client.add_unit(unit), "已新增承办单位"
    elif section == "rules" and form.get("rule_id"):
        rule_id = str(form.get("rule_id"))
        if not rule_id.isdigit():
            raise Forbidden("no such rule", zh="没有该派单规则")
        call, done = client.delete_routing_rule(int(rule_id)), "已删除派单规则"
    elif section == "rules":
        rule = _given(form, "category", "district", "unit_id", "priority", "note")
        call, done = client.add_routing_rule(rule), "已新增派单规则"
    elif section == "limits":
        limit = _given(
            form,
            "clock_kind",
            "ticket_type",
            "category",
            "working_days",
            "hours",
            "max_extensions",
            "effective_from",
            "reason",
        )
        call, done = client.add_time_limit(limit), "已设定办理时限"
    elif section == "kb":
        entry, status = str(form.get("entry_id") or ""), str(form.get("status") or "")
        call = client.review_kb_entry(entry, status)
        done = {"approved": "已审核通过，可供检索", "retired": "已停用该条目"}.get(status, "已审核")
    else:
        raise Forbidden("no such section", zh="没有这项管理功能")
    return await then_back(client, call, back, done)
