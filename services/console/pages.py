"""The console's pages: sign-in, a unit's tickets, a ticket with the actions its user may
take, the agency's desks. Each action posts a form with the session's CSRF token and calls
the API as the user; a refusal is shown on the page in the API's Chinese words."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from hotline_client.api import Call
from hotline_client.errors import HotlineError
from starlette.datastructures import UploadFile

from console.app import client_for, labels, time_left
from console.session import (
    CSRF_FIELD,
    OIDC_COOKIE,
    SIGN_IN_ROLES,
    csrf_ok,
    csrf_token,
    end,
    enter,
    oidc_away,
    oidc_back,
    oidc_offered,
    password_sign_in,
    sign_in_token,
    signed_in,
)
from shared.auth import Principal, Role
from shared.errors import Forbidden

router = APIRouter()
UNIT_TABS: dict[str, tuple[str, dict[str, Any]]] = {
    "pending": ("待签收", {"status": "dispatched"}),
    "handling": ("办理中", {"status": "handling"}),
    "with_sub_unit": ("经办单位办理中", {"status": "sub_unit_handling"}),
    "sub_unit_review": ("待承办单位审核", {"status": "sub_unit_review"}),
    "due_soon": ("即将超期", {}),  # sla's working days: due today or by the next working day
    "overdue": ("已超期", {"overdue": True}),
    "returning": ("退回中", {"status": "return_requested"}),
    "review": ("反馈审核中", {"status": "feedback_review"}),
    "closed": ("已办结", {"status": "closed"}),
}
# A sub-unit (经办单位) sees what its unit designated it for (Art 6), until the unit reviews it.
SUB_UNIT_TABS: dict[str, tuple[str, dict[str, Any]]] = {
    "pending": ("待办理", {"status": "sub_unit_handling"}),
    "reported": ("待承办单位审核", {"status": "sub_unit_review"}),
}
DESKS = {
    "awaiting_dispatch": "待派单",
    "return_applications": "退回待审核",
    "feedback_review": "反馈待审核",
    "awaiting_evaluation": "待回访评价",
    "difficult": "疑难件（退回3次以上）",
    "new_situations": "新情况",
    "unsatisfied": "不满意待处理",
}
DUE_SOON_SHOWN = 100  # ticket ids in one query string stay well inside the 8 KiB edge limit
UNIT_PAGE = 50
AGENCY_ROLES = (Role.DISPATCHER, Role.ADMIN, Role.SUPERVISOR)


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    token, user = signed_in(request)
    settings = request.app.state.settings
    return request.app.state.templates.TemplateResponse(
        request,
        template,
        {"user": user, "csrf": csrf_token(settings, token), "csrf_field": CSRF_FIELD, **context},
        status_code=status,
    )


# ---- signing in ----------------------------------------------------------------------------


async def sign_in_form(
    request: Request,
    *,
    next: str = "/",
    kept: list[tuple[str, str]] | None = None,
    status: int = 200,
    **shown: Any,
) -> Response:
    """The sign-in page: the city's identity provider where it is offered, username and
    password (and code); outside production also the development sign-in as any role.
    ``shown``: expired, error, username, ask_totp."""
    settings = request.app.state.settings
    return request.app.state.templates.TemplateResponse(
        request,
        "signin.html",
        {
            "next": next,
            "kept": kept or [],
            "roles": SIGN_IN_ROLES,
            "dev": not settings.is_production,
            "oidc": await oidc_offered(request),
            "user": None,
            **shown,
        },
        status_code=status,
    )


def _target(next: str) -> str:
    # Only a path of this console: never send a user elsewhere after signing in.
    return next if next.startswith("/") and not next.startswith("//") else "/"


async def _kept(request: Request) -> list[tuple[str, str]]:
    form = await request.form()
    return [(k[5:], str(v)) for k, v in form.multi_items() if k.startswith("kept:")]


@router.get("/signin", response_class=HTMLResponse)
async def sign_in_page(request: Request, next: str = "/") -> Response:
    return await sign_in_form(request, next=next)


@router.post("/signin")
async def sign_in(
    request: Request,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    totp: Annotated[str, Form(max_length=6)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Sign in at the identity service; a refusal shows its words on the same page."""
    kept = await _kept(request)
    try:
        tokens = await password_sign_in(request, username.strip(), password, totp.strip() or None)
    except HotlineError as refused:
        if refused.status not in (401, 422, 429):
            raise
        return await sign_in_form(
            request,
            next=next,
            kept=kept,
            status=refused.status or 401,
            error=refused.said,
            username=username,
            ask_totp=refused.code in ("totp_required", "totp_invalid"),
        )
    return enter(request, tokens.access_token, tokens, _target(next), kept)


@router.get("/signin/oidc")
async def oidc_sign_in(request: Request, next: str = "/") -> Response:
    """Sign in through the city's identity provider: to its page and back."""
    return await oidc_away(request, _target(next))


@router.get("/signin/oidc/callback")
async def oidc_callback(
    request: Request, state: str = "", code: str = "", error: str = ""
) -> Response:
    """Back from the identity provider with a code (or its refusal)."""
    refused = "统一身份认证登录未成功，请重试"
    if not error:
        try:
            tokens, next = await oidc_back(request, state, code)
        except ValueError:
            pass
        except HotlineError as answer:
            if answer.status not in (401, 403, 404, 422):
                raise
            refused = answer.said or refused
        else:
            response = enter(request, tokens.access_token, tokens, _target(next), [])
            response.delete_cookie(OIDC_COOKIE)
            return response
    return await sign_in_form(request, error=refused, status=401)


@router.post("/signin/dev")
async def dev_sign_in(
    request: Request,
    role: Annotated[Role, Form()],
    name: Annotated[str, Form(min_length=1, max_length=50)],
    unit_id: Annotated[str, Form(max_length=100)] = "",
    district: Annotated[str, Form(max_length=20)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Development sign-in as any role, unit or district agency (refused in production)."""
    settings = request.app.state.settings
    if role not in SIGN_IN_ROLES:
        raise Forbidden(f"no sign-in as {role}", zh="工作台不提供此角色登录")
    token = sign_in_token(
        settings,
        role=role,
        unit_id=unit_id.strip() or None,
        district=district.strip() or None,
        name=name,
    )
    return enter(request, token, None, _target(next), await _kept(request))


@router.post("/signout")
async def sign_out(request: Request) -> Response:
    response = RedirectResponse("/signin", status_code=303)
    await end(request, response)
    return response


@router.get("/")
async def home(request: Request) -> Response:
    _, user = signed_in(request)
    if user.role is Role.AGENT:
        target = "/intake"
    elif user.role in (Role.UNIT, Role.SUB_UNIT):
        target = "/unit"
    elif user.role is Role.SUPERVISOR:
        target = "/supervisor"
    elif user.role is Role.ADMIN:
        target = "/admin"
    else:
        target = "/agency"
    return RedirectResponse(target, status_code=303)


# ---- a unit's tickets ----------------------------------------------------------------------


@router.get("/unit", response_class=HTMLResponse)
async def unit_tickets(request: Request, tab: str = "pending", cursor: str = "") -> Response:
    """我的工单, by tab, least time left first and paged; the table refreshes itself (htmx)
    so new work shows up unasked."""
    return await _unit_page(request, tab, cursor, "unit.html")


@router.get("/unit/rows", response_class=HTMLResponse)
async def unit_rows(request: Request, tab: str = "pending", cursor: str = "") -> Response:
    return await _unit_page(request, tab, cursor, "unit_rows.html")


def _soonest(tickets: list[Any]) -> list[Any]:
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(tickets, key=lambda t: t.handling_due_at or t.dispatch_due_at or far)


async def _unit_page(request: Request, tab: str, cursor: str, template: str) -> Response:
    token, user = signed_in(request)
    if user.role not in (Role.UNIT, Role.SUB_UNIT) or not user.unit_id:
        raise Forbidden("units only", zh="此页面供承办单位使用")
    tabs = SUB_UNIT_TABS if user.role is Role.SUB_UNIT else UNIT_TABS
    chosen = tab if tab in tabs else "pending"
    client = client_for(request, token)
    next_cursor = None
    if chosen == "due_soon":
        # sla's working days decide what is due soon; the soonest, as many as one look-up
        # by ids carries.
        soon = (
            await client.run(client.due_soon("unit", unit=user.unit_id, limit=DUE_SOON_SHOWN))
        ).value
        found = dict.fromkeys(i.ticket_id for i in soon.items) if soon else {}
        page = (await client.run(client.search(ids=",".join(found) or "-", limit=500))).value
        tickets, count = _soonest(page.items if page else []), soon.total if soon else 0
    elif user.role is Role.SUB_UNIT:  # its few designated tickets, in one poll
        page = (await client.run(client.unit_tickets(user.unit_id, **tabs[chosen][1]))).value
        tickets = _soonest(page.items if page else [])
        count = len(tickets)
    else:
        order = "received" if chosen == "closed" else "due"
        call = client.search(
            unit=user.unit_id,
            order=order,
            limit=UNIT_PAGE,
            cursor=cursor or None,
            **tabs[chosen][1],
        )
        page = (await client.run(call)).value
        tickets = page.items if page else []
        count, next_cursor = (page.count or 0, page.next_cursor) if page else (0, None)
    dues = [t.handling_due_at for t in tickets if t.handling_due_at]
    return render(
        request,
        template,
        {
            "tabs": tabs,
            "tab": chosen,
            "tickets": tickets,
            "count": count,
            "cursor": cursor,
            "next_cursor": next_cursor,
            "left": await time_left(request, token, dues),
            "labels": await labels(request, token),
            "refresh_seconds": request.app.state.settings.console_refresh_seconds,
        },
    )


# ---- one ticket ----------------------------------------------------------------------------


async def then_back(
    client: Any, call: Call[Any], back: str, done: str, *, name_the_ticket: bool = False
) -> Response:
    """Make the call as the user, then back to the page with what happened: the notice, or
    the service's own words of refusal (an expired session goes to sign in)."""
    joiner = "&" if "?" in back else "?"
    try:
        value = (await client.run(call)).value
    except HotlineError as refused:
        if refused.status == 401:
            raise
        return RedirectResponse(f"{back}{joiner}error={quote(refused.said)}", status_code=303)
    number = getattr(value, "number", None) if name_the_ticket else None
    notice = f"{number} {done}" if number else done
    return RedirectResponse(f"{back}{joiner}notice={quote(notice)}", status_code=303)


async def posted_form(request: Request, token: str) -> Any:
    """A form the console rendered for this session (its CSRF token), or 403."""
    form = await request.form()
    if not csrf_ok(request.app.state.settings, token, str(form.get(CSRF_FIELD) or "") or None):
        raise Forbidden("the form is stale: reload the page", zh="表单已失效，请刷新页面后重试")
    return form


@router.get("/tickets/{ticket_ref}", response_class=HTMLResponse)
async def ticket_page(
    request: Request, ticket_ref: str, error: str = "", notice: str = ""
) -> Response:
    return await _ticket(request, ticket_ref, error=error, notice=notice)


async def _ticket(
    request: Request, ticket_ref: str, *, error: str = "", notice: str = "", contact: Any = None
) -> Response:
    token, user = signed_in(request)
    client = client_for(request, token)
    ticket = (await client.run(client.ticket(ticket_ref))).value
    assert ticket is not None
    history = (await client.run(client.history(ticket.id))).value
    calls = [client.notifications(ticket.id)]
    if user.role in AGENCY_ROLES:  # the caller's SMS are intake's to show, to the agency
        calls.append(client.caller_notifications(ticket.id))
    notifications = []
    for call in calls:
        sent = (await client.run(call)).value
        notifications += sent.items if sent else []
    notifications.sort(key=lambda n: n.created_at, reverse=True)
    due = ticket.handling_due_at
    left = (await time_left(request, token, [due])).get(due) if due else None
    allowed: dict[str, Any] = {}
    if user.role in (Role.UNIT, Role.SUB_UNIT, Role.DISPATCHER, Role.ADMIN):
        found = (await client.run(client.actions(ticket.id))).value
        allowed = {a.action: a for a in found.items} if found else {}
    attachments: list[Any] = []
    if user.role is not Role.SUB_UNIT:  # intake shows them to the ticket's readers and unit
        with suppress(HotlineError):
            listed_files = (await client.run(client.ticket_attachments(ticket.id))).value
            attachments = listed_files.root if listed_files else []
    sub_units: list[Any] = []
    if user.role is Role.UNIT and allowed.get("designate") and allowed["designate"].allowed:
        listed = (await client.run(client.units(kind="sub_unit"))).value  # active ones
        sub_units = [u for u in (listed.items if listed else []) if u.parent_id == user.unit_id]
    return render(
        request,
        "ticket.html",
        {
            "ticket": ticket,
            "history": history.items if history else [],
            "notifications": notifications,
            "labels": await labels(request, token),
            "actions": allowed,
            "left": left,
            "is_unit": user.role is Role.UNIT,
            "is_sub_unit": user.role is Role.SUB_UNIT,
            "sub_units": sub_units,
            # The agency, or a sub-centre on its own line's ticket (Art 7): the API says which.
            "is_agency": user.role in AGENCY_ROLES or "review" in allowed,
            "contact": contact,
            "attachments": attachments,
            "error": error,
            "notice": notice,
        },
    )


@router.post("/tickets/{ticket_ref}/attachments")
async def attach(request: Request, ticket_ref: str) -> Response:
    """A photo or PDF on the ticket (a unit's evidence for its feedback), sent as the user."""
    token, _ = signed_in(request)
    form = await posted_form(request, token)
    upload = form.get("file")
    back = f"/tickets/{quote(ticket_ref)}"
    if not isinstance(upload, UploadFile) or not upload.filename:
        return RedirectResponse(
            f"{back}?error={quote('请选择要上传的照片或文件')}", status_code=303
        )
    client = client_for(request, token)
    kind = upload.content_type or "application/octet-stream"
    call = client.add_attachment(ticket_ref, upload.filename, await upload.read(), kind)
    return await then_back(client, call, back, "已上传附件")


@router.post("/tickets/{ticket_ref}/contact", response_class=HTMLResponse)
async def reveal_contact(request: Request, ticket_ref: str) -> Response:
    """The caller's contact in full for the unit that must call back; intake records the read,
    and the page says so. Posted (with the CSRF token), never a link a crawler could follow."""
    token, _ = signed_in(request)
    await posted_form(request, token)
    client = client_for(request, token)
    ticket = (await client.run(client.ticket(ticket_ref))).value
    assert ticket is not None
    contact = (await client.run(client.contact(ticket.id))).value
    return await _ticket(request, ticket_ref, contact=contact)


ACTIONS = {
    "legal_procedure": "已登记等待法定程序，办理时限中止",
    "progress": "已反馈阶段性工作情况",
    "revisit": "已记录回访",
    "accept": "已签收",
    "contacted": "已记录联系诉求人",
    "extend": "已延期",
    "return": "已提交退回申请",
    "feedback": "已提交办理反馈",
    "designate": "已指派经办单位",
    "sub_unit_result": "已向承办单位报送办理结果",
    "review_sub_unit": "已审核经办单位办理结果",
    "dispatch": "已派单",
    "review": "已审核",
    "evaluate": "已记录评价",
}


@router.post("/tickets/{ticket_ref}/{action}")
async def act(request: Request, ticket_ref: str, action: str) -> Response:
    """One of the ticket page's forms: checked against the session's CSRF token, then sent to
    the API as the user; the page comes back with the result or the rule's explanation."""
    token, _ = signed_in(request)
    form = await posted_form(request, token)
    if action not in ACTIONS:
        raise Forbidden(f"no action {action!r}", zh="没有这项操作")
    client = client_for(request, token)
    values = {k: str(v).strip() for k, v in form.items() if k != CSRF_FIELD}
    call = _call(client, action, ticket_ref, values)
    return await then_back(client, call, f"/tickets/{quote(ticket_ref)}", ACTIONS[action])


def _call(client: Any, action: str, ticket: str, values: dict[str, str]) -> Call[Any]:
    if action == "accept":
        return client.accept(ticket)
    if action == "contacted":
        return client.record_contact(ticket, values.get("method", ""))
    if action == "extend":
        told = values.get("caller_told") == "yes"  # the API refuses an untold caller (Art 18)
        return client.extend(
            ticket, values.get("reason", ""), values.get("told") or None, caller_notified=told
        )
    if action == "legal_procedure":
        return client.await_legal_procedure(
            ticket,
            values.get("procedure", ""),
            values.get("reference", ""),
            values.get("guidance_department", ""),
        )
    if action == "progress":
        return client.report_progress(ticket, values.get("text", ""))
    if action == "revisit":
        reached = values.get("reached") == "yes"
        return client.revisit(ticket, values.get("channel", "phone"), reached, values.get("note"))
    if action == "return":
        return client.apply_to_return(ticket, values.get("reason", ""), values.get("basis", ""))
    if action in ("feedback", "sub_unit_result"):
        fields = ("handling_time", "process", "result", "caller_reply")
        body = {f: values.get(f, "") for f in fields}
        if action == "feedback":
            return client.feedback(ticket, body)
        return client.sub_unit_result(ticket, body)
    if action == "designate":
        return client.designate(ticket, values.get("sub_unit_id", ""))
    if action == "review_sub_unit":
        approved = values.get("approved") == "yes"
        return client.review_sub_unit_result(ticket, approved, values.get("reason") or None)
    if action == "dispatch":
        return client.dispatch(ticket, values.get("unit_id") or None, None)
    if action == "review":
        approved = values.get("approved") == "yes"
        return client.review_feedback(
            ticket,
            approved,
            values.get("reason") or None,
            resolution_judged=values.get("resolution_judged") or None,
        )
    return client.evaluate(
        ticket, values.get("rating", ""), resolution=values.get("resolution") or "no_answer"
    )


# ---- the agency's desks --------------------------------------------------------------------


@router.get("/agency", response_class=HTMLResponse)
async def agency(
    request: Request,
    desk: str = "awaiting_dispatch",
    cursor: str = "",
    error: str = "",
    notice: str = "",
) -> Response:
    """待办台: the agency's queues; the open one refreshes itself (htmx) so a new call or
    return application shows up unasked."""
    return await _agency_page(request, desk, cursor, "agency.html", error=error, notice=notice)


@router.get("/agency/desk", response_class=HTMLResponse)
async def agency_desk(
    request: Request, desk: str = "awaiting_dispatch", cursor: str = ""
) -> Response:
    return await _agency_page(request, desk, cursor, "agency_desk.html")


async def _agency_page(
    request: Request, desk: str, cursor: str, template: str, **shown: str
) -> Response:
    token, _ = agency_user(request)
    client = client_for(request, token)
    counts = (await client.run(client.desks())).value
    chosen = desk if desk in DESKS else "awaiting_dispatch"
    page = (await client.run(client.desk(chosen, cursor or None, 50))).value
    return render(
        request,
        template,
        {
            "desks": DESKS,
            "counts": {d.queue: d.count for d in counts.items} if counts else {},
            "desk": chosen,
            "cursor": cursor,
            "page": page,
            "labels": await labels(request, token),
            "refresh_seconds": request.app.state.settings.console_refresh_seconds,
            **shown,
        },
    )


@router.post("/returns/{return_id}/decision")
async def decide_return(request: Request, return_id: int) -> Response:
    """Art 15: the agency approves or rejects a return application from its desk."""
    token, _ = agency_user(request)
    form = await posted_form(request, token)
    decision = str(form.get("decision") or "")
    client = client_for(request, token)
    call = client.decide_return(return_id, decision, str(form.get("reason") or "").strip())
    done = {"approve": "已同意退回", "reject": "已不同意退回"}.get(decision, "已审核")
    back = "/agency?desk=return_applications"
    return await then_back(client, call, back, done, name_the_ticket=True)


def agency_user(request: Request) -> tuple[str, Principal]:
    token, user = signed_in(request)
    if user.role not in AGENCY_ROLES:
        raise Forbidden("the agency only", zh="此页面供热线工作机构使用")
    return token, user


# ---- supervision ---------------------------------------------------------------------------


@router.get("/supervisor", response_class=HTMLResponse)
async def supervisor(
    request: Request, district: str = "", unit: str = "", error: str = "", notice: str = ""
) -> Response:
    """Overdue by district, then by unit, then the tickets; supervisions awaiting an answer."""
    token, _ = agency_user(request)
    client = client_for(request, token)
    filters = {k: v for k, v in {"district": district, "unit": unit}.items() if v}
    group_by = "unit" if district else "district"
    overdue = (await client.run(client.overdue(group_by, limit=200, **filters))).value
    due_soon = (await client.run(client.due_soon(group_by, **filters))).value
    still_open = (await client.run(client.supervisions(open_only=True))).value
    supervisions = still_open.items if still_open else []
    return render(
        request,
        "supervisor.html",
        {
            "district": district,
            "unit": unit,
            "overdue": overdue,
            "due_soon": due_soon,
            "waiting": [r for r in supervisions if r.responded_at is None],
            "answered": [r for r in supervisions if r.responded_at is not None],
            "labels": await labels(request, token),
            "error": error,
            "notice": notice,
        },
    )


@router.get("/search", response_class=HTMLResponse)
async def search(
    request: Request,
    number: str = "",
    phone: str = "",
    q: str = "",
    unit: str = "",
    district: str = "",
    status: str = "",
    date_from: str = "",
    date_to: str = "",
) -> Response:
    """Find tickets by number, the caller's phone (intake's keyed look-up), words, unit,
    district, status and the days received."""
    token, _ = agency_user(request)
    client = client_for(request, token)
    asked = any((number, phone, q, unit, district, status, date_from, date_to))
    page = None
    if asked:
        ids = None
        if phone:
            found = (await client.run(client.caller_tickets(phone))).value
            ids = ",".join(t.id for t in found.items) if found and found.items else "-"
        filters = {
            "number": number,
            "q": q,
            "unit": unit,
            "district": district,
            "status": status,
            "from": date_from,
            "to": date_to,
            "ids": ids,
        }
        page = (await client.run(client.search(**{k: v for k, v in filters.items() if v}))).value
    return render(
        request,
        "search.html",
        {
            "asked": asked,
            "page": page,
            "form": {
                "number": number,
                "phone": phone,
                "q": q,
                "unit": unit,
                "district": district,
                "status": status,
                "date_from": date_from,
                "date_to": date_to,
            },
            "labels": await labels(request, token),
        },
    )


@router.get("/unit/supervisions", response_class=HTMLResponse)
async def unit_supervisions(request: Request, error: str = "", notice: str = "") -> Response:
    """督办: the supervisions addressed to this unit, those awaiting its answer first."""
    token, user = signed_in(request)
    if user.role is not Role.UNIT:
        raise Forbidden("units only", zh="此页面供承办单位使用")
    client = client_for(request, token)
    found = (await client.run(client.supervisions(unit=user.unit_id))).value
    items = sorted(found.items if found else [], key=lambda r: r.responded_at is not None)
    return render(
        request,
        "unit_supervisions.html",
        {
            "items": items,
            "labels": await labels(request, token),
            "error": error,
            "notice": notice,
        },
    )


@router.post("/supervisions/{supervision_id}/{step}")
async def supervision_step(request: Request, supervision_id: int, step: str) -> Response:
    """The unit answers a supervision; the agency closes it with its outcome (Art 23)."""
    token, user = signed_in(request)
    form = await posted_form(request, token)
    text = str(form.get("text") or "").strip()
    client = client_for(request, token)
    if step == "answer" and user.role is Role.UNIT:
        call, back, done = (
            client.answer_supervision(supervision_id, text),
            "/unit/supervisions",
            "已回复督办",
        )
    elif step == "close" and user.role in AGENCY_ROLES:
        call, back, done = (
            client.close_supervision(supervision_id, text),
            "/supervisor",
            "督办已办结",
        )
    else:
        raise Forbidden("not yours to do", zh="无权进行此操作")
    return await then_back(client, call, back, done)
