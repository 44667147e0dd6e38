"""`hotline`: the command line of agents, units, the agency, supervisors and administrators.

Chinese by default (``--lang en`` or ``HOTLINE_LANG=en`` for English); every time is shown
in Asia/Shanghai with the year. Exit codes: 0 done, 2 usage, 3 bad input, 4 refused by a
rule (409), 5 service unreachable. Every read takes ``--json`` for scripts.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any, NoReturn
from zoneinfo import ZoneInfo

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Column, Table

from hotline_client import choices, credentials
from hotline_client.api import Call, Calls, Client
from hotline_client.errors import HotlineError
from hotline_client.i18n import ACCEPT_LANGUAGE, T

console = Console()
app = typer.Typer(
    help=T("12345 政务服务便民热线工单系统", "12345 hotline"),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
agent = typer.Typer(
    help=T(
        "话务员：来电分类与受理、告知进度、知识库",
        "call-centre agents: classify and take calls, progress, knowledge",
    )
)
unit = typer.Typer(
    help=T(
        "承办单位：本单位工单、签收、退回、延期、反馈",
        "handling units: my tickets, accept, return, extend, feed back",
    )
)
agency = typer.Typer(
    help=T(
        "热线工作机构：待办台、派单、退回审核、反馈审核、回访评价",
        "the hotline agency: desks, dispatch, returns, review, evaluation",
    )
)
supervisor = typer.Typer(
    help=T(
        "督办：超期与即将超期、考核指标、督办记录",
        "supervisors: overdue and due-soon dashboards, KPIs, supervision",
    )
)
admin = typer.Typer(
    help=T(
        "系统管理：工作日历、派单规则、知识库文件、用户",
        "administrators: calendar, routing rules, knowledge documents, users",
    )
)
users = typer.Typer(
    help=T(
        "用户管理：账号、角色、停用、重置密码、强制下线",
        "users: accounts, roles, disabling, passwords, signing out",
    )
)
admin.add_typer(users, name="users")
guidance = typer.Typer(
    help=T(
        "业务指导部门：指导监督的第二十一条事项",
        "business guidance departments: the Art 21 matters they oversee",
    )
)
for group, name in (
    (agent, "agent"),
    (unit, "unit"),
    (agency, "agency"),
    (supervisor, "supervisor"),
    (admin, "admin"),
    (guidance, "guidance"),
):
    app.add_typer(group, name=name)

STATE: dict[str, Any] = {"token": None}
JsonOption = Annotated[bool, typer.Option("--json", help=T("输出 JSON", "print JSON"))]
WeekOption = Annotated[
    str | None, typer.Option(help=T("该周的星期一（默认上一整周）", "its Monday"))
]
UnitOption = Annotated[
    str, typer.Option("--unit", envvar="HOTLINE_UNIT", help=T("本单位编码", "your unit id"))
]
Ticket = Annotated[
    str, typer.Argument(help=T("热线事项编号（GZ…）或 id", "ticket number (GZ…) or id"))
]


@app.callback()
def main_options(
    token: Annotated[
        str | None, typer.Option(envvar="HOTLINE_TOKEN", help=T("登录令牌", "bearer token"))
    ] = None,
    lang: Annotated[
        str, typer.Option("--lang", envvar="HOTLINE_LANG", help=T("界面语言：zh 或 en", "zh or en"))
    ] = "zh",
) -> None:
    # The language itself is read before the help is built (hotline_client.i18n).
    STATE["token"] = token


def _client() -> Client:
    if STATE["token"] is None:
        # Signed in with `hotline login` (renewed when it has lapsed), unless a token is given.
        STATE["token"] = credentials.access_token(Client(language=ACCEPT_LANGUAGE)) or ""
    return Client(token=STATE["token"] or None, language=ACCEPT_LANGUAGE)


def _run(call: Call[Any]) -> Any:
    try:
        return _client().run(call)
    except HotlineError as error:
        _fail(error)


def _fail(error: HotlineError) -> NoReturn:
    code = f" [{error.code}]" if error.code else ""
    typer.echo(f"{T('错误', 'error')}{code}: {error.message}", err=True)
    raise typer.Exit(error.exit_code) from None


@cache
def _labels(service: str) -> dict[str, dict[str, str]]:
    """The service's labels in the CLI's language; codes are shown if it cannot say."""
    try:
        found = _client().run(Calls.labels(service)).value
    except (HotlineError, ValueError):  # an older service, or none: show the codes
        return {}
    return found.labels if found else {}


def _label(vocabulary: str, code: str | None, service: str = "dispatch") -> str:
    if not code:
        return ""
    return _labels(service).get(vocabulary, {}).get(code, code)


def _show(
    value: BaseModel | None,
    as_json: bool,
    table: Callable[[Any], Table] | None = None,
    line: Callable[[Any], str] | None = None,
) -> None:
    if value is None:
        return
    if as_json or (table is None and line is None):
        typer.echo(value.model_dump_json(indent=2))
    elif table is not None:
        console.print(table(value))
    elif line is not None:
        console.print(line(value), markup=False)


SHANGHAI = ZoneInfo("Asia/Shanghai")


def _shown(at: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A time as people here read it: Asia/Shanghai, with the year, whatever the desktop's zone."""
    return at.astimezone(SHANGHAI).strftime(pattern) if at else ""


def _tickets_table(page: Any) -> Table:
    table = Table(
        T("编号", "number"),
        T("事项", "matter"),
        T("状态", "status"),
        T("承办单位", "unit"),
        T("分类", "category"),
        T("行政区", "district"),
        T("期限", "due"),
        title=T("热线事项", "tickets"),
    )
    for t in page.items:
        due = t.handling_due_at or t.dispatch_due_at
        table.add_row(
            t.number,
            t.summary_line,
            _label("ticket_status", t.status),
            t.lead_unit or t.suggested_unit or "",
            _label("category", t.category),
            t.district or "",
            _shown(due) + (T("（期限待定）", " (provisional)") if t.due_provisional else ""),
            style="red" if t.overdue else None,
        )
    return table


def _ticket_line(t: Any) -> str:
    return (
        f"{t.number} {_label('ticket_status', t.status)} "
        f"{T('承办单位', 'unit')}={t.lead_unit or '-'} "
        f"{T('期限', 'due')}={_shown(t.handling_due_at) or '-'}"
    )


# ---- agent ---------------------------------------------------------------------------------


@agent.command(
    "classify",
    help=T(
        "来电建议：事项类型、第十一条情形、分类、行政区、知识库答复",
        "Suggestions for a call: type, Art 11 case, category, district, answers.",
    ),
)
def classify(
    text: str, address: str | None = None, phone: str | None = None, as_json: JsonOption = False
) -> None:
    answer = _run(Calls.classify(text, address=address, caller_phone=phone)).value

    def line(a: Any) -> str:
        emergency = a.disposition.emergency_number
        return (
            f"{T('类型', 'type')} {_label('ticket_type', a.type.value)} ({a.type.confidence})  "
            f"{T('分类', 'category')} {_label('category', a.category.value)} "
            f"{a.category.value} ({a.category.confidence})  "
            f"{T('行政区', 'district')} {a.district.get('value') or '-'}  "
            f"{T('情形', 'disposition')} {_label('disposition', a.disposition.value, 'intake')}"
            + (f" → {T('转', 'call')} {emergency}" if emergency else "")
        )

    _show(answer, as_json, line=line)


def _percent(confidence: float) -> str:
    return f"{confidence * 100:.0f}%"


def _offered(vocabulary: str, guess: Any) -> str:
    """A suggestion with its confidence and the alternatives, as the workbench shows them."""
    unsure = T("，把握不大，请核实", ", low confidence: check") if guess.low_confidence else ""
    others = "、".join(
        f"{_label(vocabulary, code, 'intake')} {_percent(p)}" for code, p in guess.alternatives
    )
    words = f"  {T('依据', 'because of')}：{'、'.join(guess.words)}" if guess.words else ""
    return (
        f"{_label(vocabulary, guess.value, 'intake')}（{_percent(guess.confidence)}{unsure}）"
        + (f"；{T('其他可能', 'or')}：{others}" if others else "")
        + words
    )


def _print_suggestions(s: Any) -> None:
    """What intake suggests for a call, before the agent confirms each part."""
    case = s.disposition
    if case.value == "emergency":
        console.print(
            f"[bold red]{T('紧急事项：请立即转接', 'emergency: transfer to')} "
            f"{case.emergency_number}[/]  {T('触发词', 'words')}：{'、'.join(case.words) or '-'}"
            f"（{_percent(case.confidence)}）"
        )
    elif case.value != "normal":
        ticket = f"  {T('相关工单', 'ticket')} {case.related_ticket}" if case.related_ticket else ""
        console.print(
            f"[yellow]{_label('disposition', case.value, 'intake')}[/]"
            f"（{_percent(case.confidence)}）{T('依据', 'because of')}：{'、'.join(case.words)}"
            + ticket
        )
    console.print(f"{T('事项类型', 'type')}：{_offered('ticket_type', s.type)}")
    console.print(f"{T('事项分类', 'category')}：{_offered('category', s.category)}")
    for t in s.related_tickets:
        console.print(
            f"{T('该来电人的相关工单', 'caller’s ticket')}：{t['number']} "
            f"{_label('ticket_status', t['status'], 'intake')}（{t['relation']}）"
        )
    for answer in s.kb_matches[:1]:
        console.print(
            f"{T('知识库答复', 'answer')}：{answer.get('sentence') or ''}"
            f"（{answer.get('source', '')} {answer.get('section') or ''}）"
        )


def _taken(ticket: Any) -> str:
    """A ticket just taken: its number, id and how it ended."""
    outcome = _label("outcome", ticket.outcome, "intake")
    return f"{T('热线事项', 'ticket')} {ticket.number} ({ticket.id}) {outcome}（{ticket.outcome}）"


@agent.command(
    "take",
    help=T(
        "受理来电：按选项登记，或 -i 逐项确认系统建议",
        "Take a call: from options, or interactively with the suggestions to confirm.",
    ),
)
def take(
    text: Annotated[
        str | None, typer.Option(help=T("诉求人所述事项", "the matter in the caller's words"))
    ] = None,
    ticket_type: Annotated[choices.TicketType | None, typer.Option("--type")] = None,
    category: Annotated[str | None, typer.Option(help=T("事项分类编码", "category code"))] = None,
    district: Annotated[str | None, typer.Option(help=T("行政区，如 天河区", "district"))] = None,
    street: Annotated[str | None, typer.Option(help=T("街道（镇）", "street or town"))] = None,
    name: Annotated[str | None, typer.Option(help=T("诉求人姓名", "caller's name"))] = None,
    phone: Annotated[str | None, typer.Option(help=T("联系电话", "caller's phone"))] = None,
    address: Annotated[str | None, typer.Option(help=T("联系地址", "caller's address"))] = None,
    channel: choices.Channel = choices.Channel.PHONE,
    outcome: choices.Outcome = choices.Outcome.SUBMITTED,
    disposition: choices.Disposition = choices.Disposition.NORMAL,
    told: Annotated[
        str | None, typer.Option(help=T("告知诉求人的内容", "what the caller was told"))
    ] = None,
    emergency_number: str | None = None,
    related: Annotated[
        str | None, typer.Option(help=T("关联的热线事项", "the related ticket"))
    ] = None,
    kb_entry: str | None = None,
    transfer_to: Annotated[
        str | None,
        typer.Option(help=T("转接到其他热线，如 12333（第七条）", "transfer to a line (Art 7)")),
    ] = None,
    interactive: Annotated[bool, typer.Option("--interactive", "-i")] = False,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help=T("只输出编号", "print the ticket number only")),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    chosen_type = ticket_type.value if ticket_type else None
    chosen_disposition = disposition.value
    chosen_outcome = outcome.value
    if interactive:
        text = text or typer.prompt(T("诉求内容", "matter"))
        phone = (
            phone
            or typer.prompt(T("联系电话", "caller phone"), default="", show_default=False)
            or None
        )
        suggestion = _run(Calls.classify(text, address=address, caller_phone=phone)).value
        _print_suggestions(suggestion)
        chosen_type = typer.prompt(
            T("事项类型", "type"), default=chosen_type or suggestion.type.value
        )
        category = typer.prompt(
            T("事项分类", "category"), default=category or suggestion.category.value
        )
        district = typer.prompt(
            T("行政区", "district"), default=district or suggestion.district.get("value") or ""
        )
        chosen_disposition = typer.prompt(
            T("处理情形", "disposition"), default=suggestion.disposition.value
        )
        if chosen_disposition != "normal":
            chosen_outcome = "closed_at_intake"
            emergency_number = suggestion.disposition.emergency_number
            told = told or typer.prompt(T("告知诉求人的内容", "what the caller was told"))
    if not text or not chosen_type:
        raise typer.BadParameter(
            T("需要 --text 和 --type（或使用 -i）", "--text and --type are needed (or -i)")
        )
    call = {
        "channel": channel.value,
        "text": text,
        "ticket_type": chosen_type,
        "category": category,
        "district": district or None,
        "street": street,
        "outcome": chosen_outcome,
        "disposition": chosen_disposition,
        "told_caller": told,
        "emergency_number": emergency_number,
        "related_ticket_id": related,
        "kb_entry_id": kb_entry,
        "transfer_to": transfer_to,
        "caller": {"name": name, "phone": phone, "address": address},
    }
    ticket = _run(Calls.take_call(call)).value
    if quiet:
        typer.echo(ticket.number)
        return
    _show(ticket, as_json, line=_taken)


@agent.command(
    "submissions",
    help=T("群众来件：网站和第三方应用提交、待审核受理的事项", "Citizens' submissions to review."),
)
def submissions(
    limit: int = 50,
    phone: Annotated[
        str | None, typer.Option(help=T("只看该号码提交的", "only those sent from this phone"))
    ] = None,
    as_json: JsonOption = False,
) -> None:
    def table(page: Any) -> Table:
        rows = Table(
            Column(T("编号", "number"), no_wrap=True),
            T("来源", "source"),
            T("提交时间", "received"),
            T("分类", "category"),
            Column(T("内容", "matter"), overflow="fold"),
            T("附件", "files"),
            title=T(f"待审核来件 {page.total} 件", f"{page.total} awaiting review"),
        )
        for item in page.items:
            rows.add_row(
                item.number,
                _label("submission_source", item.source, "intake"),
                _shown(item.received_at),
                item.category or "",
                item.text,
                str(len(item.attachments)),
            )
        return rows

    _show(_run(Calls.submissions(limit=limit, caller_phone=phone)).value, as_json, table=table)


@agent.command(
    "review",
    help=T(
        "审核受理群众来件：按来电的分类与处理情形（第十一、十三条），保留其编号",
        "Take a citizen's submission as a ticket (Art 11, 13), keeping its number.",
    ),
)
def review_submission(
    submission: Annotated[str, typer.Argument(help=T("来件编号（GZ…）", "submission number"))],
    ticket_type: Annotated[choices.TicketType, typer.Option("--type")],
    category: Annotated[str | None, typer.Option(help=T("事项分类编码", "category code"))] = None,
    district: Annotated[str | None, typer.Option(help=T("行政区，如 天河区", "district"))] = None,
    street: Annotated[str | None, typer.Option(help=T("街道（镇）", "street or town"))] = None,
    outcome: choices.Outcome = choices.Outcome.SUBMITTED,
    disposition: choices.Disposition = choices.Disposition.NORMAL,
    told: Annotated[
        str | None, typer.Option(help=T("告知诉求人的内容", "what the citizen is told"))
    ] = None,
    related: Annotated[
        str | None, typer.Option(help=T("关联的热线事项", "the related ticket"))
    ] = None,
    kb_entry: str | None = None,
    as_json: JsonOption = False,
) -> None:
    review = {
        "ticket_type": ticket_type.value,
        "category": category,
        "district": district,
        "street": street,
        "outcome": outcome.value,
        "disposition": disposition.value,
        "told_caller": told,
        "related_ticket_id": related,
        "kb_entry_id": kb_entry,
    }
    ticket = _run(Calls.review_submission(submission, review)).value
    _show(ticket, as_json, line=_taken)


@agent.command(
    "attachments",
    help=T("热线事项的附件（照片、文件）", "A ticket's attachments (photos, documents)."),
)
def attachments(
    ticket_id: Ticket,
    save_to: Annotated[
        Path | None, typer.Option(help=T("下载到此目录", "download them into this folder"))
    ] = None,
    as_json: JsonOption = False,
) -> None:
    found = _run(Calls.ticket_attachments(ticket_id)).value

    def table(listed: Any) -> Table:
        rows = Table("ID", T("类型", "kind"), T("大小", "size"), T("上传", "added"))
        for a in listed.root:
            rows.add_row(
                a.id, _label("attachment_kind", a.kind, "intake"), f"{a.size:,}", a.added_by
            )
        return rows

    _show(found, as_json, table=table)
    if save_to is None:
        return
    for item in found.root:
        suffix = {"image/jpeg": ".jpg", "image/png": ".png"}.get(item.content_type, ".pdf")
        target = save_to / f"{item.id}{suffix}"
        target.write_bytes(_run(Calls.attachment(item.id)).value)
        typer.echo(str(target))


@agent.command(
    "attach",
    help=T(
        "上传附件：照片（去除位置等信息后保存）或 PDF",
        "Attach a photo (stored without its metadata) or a PDF.",
    ),
)
def attach(ticket_id: Ticket, file: Path, as_json: JsonOption = False) -> None:
    kind = "application/pdf" if file.suffix.lower() == ".pdf" else "image/jpeg"
    added = _run(Calls.add_attachment(ticket_id, file.name, file.read_bytes(), kind)).value
    _show(added, as_json, line=lambda a: f"{T('已上传附件', 'attached')} {a.id}")


@agent.command(
    "lookup",
    help=T(
        "诉求人的热线事项及状态（第十一条：告知办理进度）",
        "A caller's tickets and their status (Art 11(4): tell the progress).",
    ),
)
def lookup(phone: str, as_json: JsonOption = False) -> None:
    tickets = _run(Calls.caller_tickets(phone)).value

    def table(page: Any) -> Table:
        result = Table(
            T("编号", "number"),
            T("状态", "status"),
            T("类型", "type"),
            T("分类", "category"),
            T("受理时间", "received"),
            title=T("诉求人的热线事项", "caller's tickets"),
        )
        for t in page.items:
            result.add_row(
                t.number,
                _label("ticket_status", t.status),
                _label("ticket_type", t.ticket_type),
                _label("category", t.category),
                _shown(t.received_at),
            )
        return result

    _show(tickets, as_json, table=table)


@agent.command("kb", help=T("检索热线知识库", "Search the knowledge base."))
def kb(query: str, limit: int = 5, as_json: JsonOption = False) -> None:
    found = _run(Calls.kb_search(query, limit)).value

    def table(result: Any) -> Table:
        rows = Table(
            T("相关度", "score"),
            T("来源", "source"),
            T("章节", "section"),
            Column(T("答复的句子", "the answering sentence"), overflow="fold"),
            title=query,
        )
        for hit in result.items:
            mark = "" if hit.relevant else T("（可能不相关）", " (may not answer)")
            rows.add_row(f"{hit.score:.2f}", hit.source, hit.section or "", hit.sentence + mark)
        return rows

    _show(found, as_json, table=table)
    if found is not None and not found.answered and not as_json:
        console.print(
            T("知识库中没有合适的答复，请转派承办单位。", "No good answer in the knowledge base.")
        )


@agent.command(
    "record",
    help=T(
        "告知进度：办理期限、延期（理由与新期限）、期限调整、新情况及告知诉求人的内容",
        "What to tell a caller asking about progress (Art 11(4), 17, 18).",
    ),
)
def caller_record(ticket_id: Ticket, as_json: JsonOption = False) -> None:
    found = _run(Calls.caller_record(ticket_id)).value

    def table(r: Any) -> Table:
        due = _shown(r.handling_due_at) or "-"
        rows = Table(
            T("时间", "at"),
            T("事项", "action"),
            T("理由", "reason"),
            T("期限", "due"),
            T("告知诉求人", "told the caller"),
            title=f"{r.number} {_label('ticket_status', r.status)} {T('期限', 'due')} {due}",
        )
        for e in r.entries:
            rows.add_row(
                _shown(e.at),
                _label("step_action", e.action),
                e.reason or "",
                _shown(e.due_at),
                e.told_caller or "",
            )
        return rows

    _show(found, as_json, table=table)


@agent.command(
    "note",
    help=T("诉求人反映的新情况，转告承办单位（第十七条）", "The caller's new situation (Art 17)."),
)
def note(ticket_id: Ticket, text: str) -> None:
    _run(Calls.add_note(ticket_id, text))
    typer.echo(T("已转告承办单位", "forwarded"))


@agent.command(
    "warn",
    help=T(
        "记录已提醒诉求人遵守热线使用规范（第十二条）",
        "Record that the caller was warned of the rules of the line (Art 12 ¶2).",
    ),
)
def warn(
    ticket_id: Ticket,
    note: Annotated[str, typer.Option(help=T("告知诉求人的内容", "what the caller was told"))],
) -> None:
    record = _run(Calls.warn(ticket_id, note)).value
    typer.echo(f"{T('已记录提醒', 'warning recorded')} {record.id}: {record.ticket_id}")


# ---- unit ----------------------------------------------------------------------------------


@unit.command(
    "tickets",
    help=T(
        "本单位的热线事项（超期的标红）；--watch 持续刷新，Ctrl-C 退出",
        "My unit's tickets (overdue in red); --watch polls until Ctrl-C.",
    ),
)
def unit_tickets(
    unit_id: UnitOption,
    overdue: bool | None = None,
    status: str | None = None,
    watch: bool = False,
    interval: float = 10.0,
    as_json: JsonOption = False,
) -> None:
    etag = None
    while True:
        answer = _run(Calls.unit_tickets(unit_id, overdue=overdue, status=status, etag=etag))
        if not answer.not_modified:
            _show(answer.value, as_json, table=_tickets_table)
        etag = answer.etag
        if not watch:
            return
        time.sleep(interval)


@unit.command(
    "show",
    help=T(
        "一件热线事项：诉求内容、办理记录；--contact 查看诉求人联系方式（留痕）",
        "A ticket's matter and history; --contact shows the caller's contact (logged).",
    ),
)
def show(
    ticket_id: Ticket,
    contact: Annotated[
        bool, typer.Option(help=T("查看诉求人联系方式（留痕）", "the caller's contact (logged)"))
    ] = False,
    as_json: JsonOption = False,
) -> None:
    ticket = _run(Calls.ticket(ticket_id)).value
    if as_json:
        _show(ticket, True)
        return
    console.print(_ticket_line(ticket))
    console.print(ticket.summary)
    if contact:
        caller = _run(Calls.contact(ticket.id)).value
        console.print(
            f"{T('诉求人', 'caller')}: {caller.name or '-'}  {caller.phone or '-'}  "
            f"{caller.address or '-'}"
        )
    history(ticket_id, as_json=False)


@unit.command("accept", help=T("签收（第十四条）", "Accept the ticket (Art 14)."))
def accept(ticket_id: Ticket, as_json: JsonOption = False) -> None:
    _show(_run(Calls.accept(ticket_id)).value, as_json, line=_ticket_line)


@unit.command(
    "return",
    help=T(
        "在2个工作日核查期限内申请退回，写明理由和依据（第十四条）",
        "Apply to return inside the 2-working-day window (Art 14).",
    ),
)
def return_ticket(
    ticket_id: Ticket,
    reason: Annotated[str, typer.Option(help=T("退回理由", "reason"))],
    basis: Annotated[str, typer.Option(help=T("依据", "basis"))],
) -> None:
    application = _run(Calls.apply_to_return(ticket_id, reason, basis)).value
    typer.echo(f"{T('已提交退回申请', 'return application')} {application.id}")


@unit.command(
    "extend",
    help=T(
        "在办理期限届满前申请延期，以2次为限，并已告知诉求人（第十八条）",
        "Extend before the due time, at most twice; the caller has been told (Art 18).",
    ),
)
def extend(
    ticket_id: Ticket,
    reason: Annotated[str, typer.Option(help=T("延期理由", "reason"))],
    told: Annotated[
        str | None,
        typer.Option(help=T("告知诉求人的内容", "what the caller was told")),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    _show(_run(Calls.extend(ticket_id, reason, told)).value, as_json, line=_ticket_line)


@unit.command(
    "contact",
    help=T(
        "记录已联系诉求人（响应）：方式和时间（默认现在）",
        "Record that the caller was contacted: how, and when (default now).",
    ),
)
def contact(
    ticket_id: Ticket,
    method: Annotated[
        str, typer.Option(help=T("phone、sms、visit 或 online", "phone, sms, visit, online"))
    ] = "phone",
    at: Annotated[
        str | None, typer.Option(help=T("联系时间，如 2026-11-24T10:00+08:00", "ISO time"))
    ] = None,
    note: str | None = None,
    as_json: JsonOption = False,
) -> None:
    _show(_run(Calls.record_contact(ticket_id, method, at, note)).value, as_json, line=_ticket_line)


@unit.command("designate", help=T("指派经办单位（第六条）", "Designate a sub-unit (Art 6)."))
def designate(ticket_id: Ticket, sub_unit: str) -> None:
    _show(_run(Calls.designate(ticket_id, sub_unit)).value, False, line=_ticket_line)


@unit.command(
    "feedback",
    help=T(
        "办理反馈：办理时间、办理经过、办理结果、回复诉求人情况（第十九条）",
        "Feed back: handling time, process, result, how the caller was answered (Art 19).",
    ),
)
def feedback(
    ticket_id: Ticket,
    handling_time: Annotated[str, typer.Option("--time", help=T("办理时间", "handling time"))],
    process: Annotated[str, typer.Option(help=T("办理经过", "process"))],
    result: Annotated[str, typer.Option(help=T("办理结果", "result"))],
    reply: Annotated[str, typer.Option(help=T("回复诉求人情况", "how the caller was answered"))],
) -> None:
    body = {
        "handling_time": handling_time,
        "process": process,
        "result": result,
        "caller_reply": reply,
    }
    _show(_run(Calls.feedback(ticket_id, body)).value, False, line=_ticket_line)


@unit.command(
    "legal-procedure",
    help=T(
        "事项需按法定程序推进：办理时限中止，定期反馈阶段性情况（第二十一条）",
        "The matter waits on a legal procedure: handling pauses, reports fall due (Art 21).",
    ),
)
def legal_procedure(
    ticket_id: Ticket,
    procedure: Annotated[choices.LegalProcedure, typer.Option()],
    reference: Annotated[
        str, typer.Option(help=T("案号、受理机关、待决事项", "case number, body, what is awaited"))
    ],
    guidance_department: Annotated[
        str, typer.Option(help=T("业务指导部门（市级部门编码）", "the overseeing city department"))
    ],
) -> None:
    call = Calls.await_legal_procedure(ticket_id, procedure.value, reference, guidance_department)
    _show(_run(call).value, False, line=_ticket_line)


@unit.command("progress", help=T("反馈阶段性工作情况（第二十一条）", "Report progress (Art 21)."))
def progress(ticket_id: Ticket, text: Annotated[str, typer.Option("--text")]) -> None:
    _show(_run(Calls.report_progress(ticket_id, text)).value, False, line=_ticket_line)


@unit.command(
    "procedure-ended",
    help=T(
        "法定程序已终结：3个工作日内反馈最终情况（第二十一条）",
        "The legal procedure ended: final feedback within 3 working days (Art 21).",
    ),
)
def procedure_ended(ticket_id: Ticket, reason: str = typer.Option(...)) -> None:
    _show(_run(Calls.legal_procedure_ended(ticket_id, reason)).value, False, line=_ticket_line)


# ---- agency --------------------------------------------------------------------------------


@agency.command(
    "queue",
    help=T("待派单事项，派单期限最近的在前", "Tickets awaiting dispatch, soonest due first."),
)
def queue(as_json: JsonOption = False) -> None:
    _show(_run(Calls.queue()).value, as_json, table=_tickets_table)


@agency.command(
    "desks",
    help=T(
        "待办台：各类待办事项的数量；给出台名则按剩余时间列出",
        "The agency's desks and their counts; name one to list it by time left.",
    ),
)
def desks(
    desk: Annotated[choices.Queue | None, typer.Argument()] = None,
    cursor: str | None = None,
    limit: int = 50,
    as_json: JsonOption = False,
) -> None:
    if desk is None:

        def counts(found: Any) -> Table:
            rows = Table(T("待办台", "desk"), T("件数", "count"), title=T("待办台", "desks"))
            for d in found.items:
                rows.add_row(f"{_desk_name(d.queue)}（{d.queue}）", str(d.count))
            return rows

        _show(_run(Calls.desks()).value, as_json, table=counts)
        return

    def listed(page: Any) -> Table:
        rows = Table(
            T("编号", "number"),
            T("事项", "matter"),
            T("承办单位", "unit"),
            T("期限", "due"),
            T("最近变动", "last change"),
            T("退回理由", "return reason"),
            title=f"{_desk_name(page.queue)}：{page.count}",
        )
        for item in page.items:
            t = item.ticket
            reason = (item.return_request or {}).get("reason", "")
            rows.add_row(
                t.number,
                t.summary_line,
                t.lead_unit or t.suggested_unit or "",
                _shown(item.due_at),
                _shown(item.last_change),
                reason,
            )
        if page.next_cursor:
            rows.caption = f"{T('下一页', 'next page')}: --cursor {page.next_cursor}"
        return rows

    _show(_run(Calls.desk(desk.value, cursor, limit)).value, as_json, table=listed)


@agency.command(
    "search",
    help=T(
        "查找热线事项：编号、来电号码、诉求内容、承办单位、行政区、分类、状态、受理日期",
        "Find tickets by number, phone, words, unit, district, category, status, days.",
    ),
)
def search(
    words: Annotated[str | None, typer.Argument(help=T("诉求内容中的词", "words"))] = None,
    number: str | None = None,
    phone: Annotated[str | None, typer.Option(help=T("来电号码", "caller's phone"))] = None,
    unit_id: Annotated[str | None, typer.Option("--unit")] = None,
    district: str | None = None,
    category: str | None = None,
    status: str | None = None,
    date_from: Annotated[str | None, typer.Option("--from")] = None,
    date_to: Annotated[str | None, typer.Option("--to")] = None,
    cursor: str | None = None,
    as_json: JsonOption = False,
) -> None:
    ids = None
    if phone:  # the phone is known to intake only, by its keyed hash
        ids = ",".join(t.id for t in _run(Calls.caller_tickets(phone)).value.items) or "-"
    filters = {
        "q": words,
        "number": number,
        "unit": unit_id,
        "district": district,
        "category": category,
        "status": status,
        "from": date_from,
        "to": date_to,
        "ids": ids,
        "cursor": cursor,
    }
    _show(_run(Calls.search(**filters)).value, as_json, table=_tickets_table)


DESK_NAMES = {
    "awaiting_dispatch": ("待派单", "Awaiting dispatch"),
    "difficult": ("疑难事项待认定", "Difficult, awaiting determination"),
    "return_applications": ("退回申请待审核", "Return applications"),
    "new_situations": ("新情况待研判", "New situations"),
    "feedback_review": ("反馈待审核", "Feedback to review"),
    "awaiting_evaluation": ("待回访评价", "Awaiting evaluation"),
    "unsatisfied": ("不满意待处理", "Unsatisfied"),
}


def _desk_name(queue: str) -> str:
    zh, en = DESK_NAMES.get(queue, (queue, queue))
    return T(zh, en)


@agency.command(
    "dispatch",
    help=T("派单：派给推荐的或指定的承办单位", "Dispatch to the suggested unit, or the one named."),
)
def dispatch(
    ticket_id: Ticket,
    unit_id: Annotated[str | None, typer.Option("--unit")] = None,
    co: list[str] | None = None,
    as_json: JsonOption = False,
) -> None:
    _show(_run(Calls.dispatch(ticket_id, unit_id, co)).value, as_json, line=_ticket_line)


@agency.command(
    "decide",
    help=T(
        "审核退回申请：同意、不同意、多部门办理（第十五条）",
        "Decide a return: approve, reject or several_units (Art 15).",
    ),
)
def decide(
    return_id: int,
    decision: choices.ReturnDecision,
    reason: str = typer.Option(...),
    co: list[str] | None = None,
) -> None:
    call = Calls.decide_return(return_id, decision.value, reason, co)
    _show(_run(call).value, False, line=_ticket_line)


@agency.command(
    "determine", help=T("认定疑难事项的承办单位（第十六条）", "Settle a difficult ticket (Art 16).")
)
def determine(
    ticket_id: Ticket,
    dispute: Annotated[choices.DisputeKind, typer.Option()],
    consulted: Annotated[choices.ConsultedBody, typer.Option()],
    unit_id: str = typer.Option(..., "--unit"),
    principle: str | None = None,
    record_rule: bool = False,
) -> None:
    body = {
        "dispute_kind": dispute.value,
        "consulted_body": consulted.value,
        "unit_id": unit_id,
        "principle": principle,
        "record_as_routing_rule": record_rule,
    }
    _show(_run(Calls.determine(ticket_id, body)).value, False, line=_ticket_line)


@agency.command(
    "principles",
    help=T(
        "认定记录及其处理原则（第十六条）；--status proposed 为待审定",
        "Determinations and their principles (Art 16 ¶3).",
    ),
)
def principles(
    status: Annotated[choices.PrincipleStatus | None, typer.Option()] = None,
    as_json: JsonOption = False,
) -> None:
    def table(page: Any) -> Table:
        rows = Table(
            "id",
            T("热线事项", "ticket"),
            T("承办单位", "unit"),
            T("状态", "status"),
            T("处理原则", "principle"),
            title=T("认定记录", "determinations"),
        )
        for d in page.items:
            rows.add_row(
                str(d.id),
                d.ticket_id,
                d.unit_id,
                _label("principle_status", d.principle_status),
                d.principle or "",
            )
        return rows

    found = _run(Calls.determinations(status.value if status else None)).value
    _show(found, as_json, table=table)


@agency.command(
    "review",
    help=T(
        "审核办理反馈：通过，或退回承办单位继续办理（第十九条）",
        "Review feedback (Art 19): compliant, or back to the unit.",
    ),
)
def review(
    ticket_id: Ticket,
    approve: Annotated[bool, typer.Option("--approve/--reject")],
    reason: str | None = None,
) -> None:
    _show(_run(Calls.review_feedback(ticket_id, approve, reason)).value, False, line=_ticket_line)


@agency.command(
    "revisit",
    help=T(
        "记录一次回访（第二十条；3次联系不上视为不评价）",
        "Record an attempt to reach the caller (Art 20; three failed: no rating).",
    ),
)
def revisit(
    ticket_id: Ticket,
    channel: choices.RevisitChannel = choices.RevisitChannel.PHONE,
    reached: Annotated[bool, typer.Option("--reached/--not-reached")] = True,
    note: str | None = None,
) -> None:
    call = Calls.revisit(ticket_id, channel.value, reached, note)
    _show(_run(call).value, False, line=_ticket_line)


@agency.command(
    "invite",
    help=T(
        "向诉求人发送满意度评价链接（第二十条），输出链接令牌",
        "Send the caller a rating link (Art 20 ¶2); prints its token.",
    ),
)
def invite(ticket_id: Ticket, channel: choices.RevisitChannel = choices.RevisitChannel.SMS) -> None:
    invitation = _run(Calls.invite_evaluation(ticket_id, channel.value)).value
    valid = _shown(invitation.expires_at)
    typer.echo(f"{T('评价链接令牌，有效期至', 'rating link token, valid until')} {valid}:")
    typer.echo(invitation.token)


@agency.command(
    "evaluate",
    help=T("记录诉求人的满意度评价（第二十条）", "Record the caller's rating (Art 20)."),
)
def evaluate(ticket_id: Ticket, rating: choices.Rating) -> None:
    _show(_run(Calls.evaluate(ticket_id, rating.value)).value, False, line=_ticket_line)


@agency.command(
    "rehandle", help=T("发回再次办理（第二十条）", "Send back for re-handling (Art 20).")
)
def rehandle(ticket_id: Ticket, reason: str = typer.Option(...)) -> None:
    _show(_run(Calls.rehandle(ticket_id, reason)).value, False, line=_ticket_line)


@agency.command(
    "history",
    help=T("办理记录：谁、何时、做了什么、为什么（第二十六条）", "Who did what, when, why."),
)
def history(ticket_id: Ticket, as_json: JsonOption = False) -> None:
    found = _run(Calls.history(ticket_id)).value

    def table(h: Any) -> Table:
        intact = T("完整", "intact") if h.chain_intact else T("已被篡改", "BROKEN")
        rows = Table(
            T("时间", "at"),
            T("操作", "action"),
            T("状态", "status"),
            T("操作人", "actor"),
            T("单位", "unit"),
            T("理由", "reason"),
            title=f"{T('办理记录', 'history')}（{T('记录链', 'chain')}：{intact}）",
        )
        for e in h.items:
            rows.add_row(
                _shown(e.at),
                f"{_label('step_action', e.action)}（{e.action}）",
                _label("ticket_status", e.status),
                e.actor,
                e.unit_id or "",
                (e.reason or "")[:40],
            )
        return rows

    _show(found, as_json, table=table)


# ---- supervisor ----------------------------------------------------------------------------


def _dashboard_table(d: Any) -> Table:
    rows = Table(d.group_by, T("件数", "count"), title=f"{T('共', 'total')} {d.total}")
    for g in d.groups:
        rows.add_row(g.key or "-", str(g.count))
    return rows


@supervisor.command(
    "refer",
    help=T(
        "恶意占用热线的，移交有关部门处理（第二十七条）",
        "Refer malicious use of the line to the authority concerned (Art 27).",
    ),
)
def refer(
    ticket_id: Ticket,
    note: Annotated[str, typer.Option(help=T("情况及证据", "the malicious use and evidence"))],
    to: Annotated[str, typer.Option(help=T("移交机关，如 公安机关", "the authority"))],
) -> None:
    record = _run(Calls.refer(ticket_id, note, to)).value
    typer.echo(f"{T('已记录移交', 'referral recorded')} {record.id}: {record.ticket_id}")


@supervisor.command(
    "conduct",
    help=T("来电的提醒与移交记录（第十二条、第二十七条）", "Warnings and referrals (Art 12, 27)."),
)
def conduct(ticket_id: Ticket, as_json: JsonOption = False) -> None:
    def table(page: Any) -> Table:
        rows = Table(
            T("时间", "at"),
            T("类型", "kind"),
            T("记录人", "by"),
            T("内容", "note"),
            T("移交机关", "to"),
            title=f"{T('提醒与移交', 'conduct of')} {ticket_id}",
        )
        for r in page.items:
            kind = _label("conduct_kind", r.kind, "intake")
            rows.add_row(_shown(r.at), kind, r.by, r.note, r.referred_to or "")
        return rows

    _show(_run(Calls.conduct(ticket_id)).value, as_json, table=table)


@supervisor.command(
    "overdue",
    help=T(
        "已超期事项，按单位、行政区、类型、分类或时限分组",
        "Tickets past their due time, grouped.",
    ),
)
def overdue(group_by: choices.GroupBy = choices.GroupBy.UNIT, as_json: JsonOption = False) -> None:
    _show(_run(Calls.overdue(group_by.value)).value, as_json, table=_dashboard_table)


@supervisor.command(
    "due-soon",
    help=T("今日或下一个工作日到期的事项", "Tickets due today or by the next working day."),
)
def due_soon(group_by: choices.GroupBy = choices.GroupBy.UNIT, as_json: JsonOption = False) -> None:
    _show(_run(Calls.due_soon(group_by.value)).value, as_json, table=_dashboard_table)


@supervisor.command(
    "kpis",
    help=T(
        "单位考核指标（第二十四条）；不给单位则列出全部单位",
        "A unit's measures (Art 24); without a unit, every unit's.",
    ),
)
def kpis(
    unit_id: Annotated[str | None, typer.Argument()] = None,
    date_from: str = typer.Option(..., "--from"),
    date_to: str = typer.Option(..., "--to"),
) -> None:
    if unit_id:
        _show(_run(Calls.kpis(unit_id, date_from, date_to)).value, True)
    else:
        _show(_run(Calls.kpis_of_units(date_from, date_to)).value, True)


@supervisor.command(
    "ranking",
    help=T(
        "月度考核排名（第二十四条）；给出单位则说明其失分原因和涉及的热线事项",
        "The month's assessment ranking (Art 24); with a unit, what cost it points.",
    ),
)
def ranking(
    unit_id: Annotated[str | None, typer.Argument()] = None,
    month: str = typer.Option(..., "--month", help=T("考核月份，如 2026-11", "YYYY-MM")),
    as_json: JsonOption = False,
) -> None:
    if unit_id:
        explained = _run(Calls.ranking_of(unit_id, month)).value

        def why(found: Any) -> Table:
            rows = Table(T("失分原因", "why"), T("热线事项", "ticket"))
            for t in found.tickets:
                rows.add_row(
                    _label("cost_reason", t["reason"], "sla"), t["number"] or t["ticket_id"]
                )
            return rows

        _show(explained, as_json, table=why)
        return

    def table(found: Any) -> Table:
        rows = Table(
            T("排名", "rank"),
            T("较上月", "change"),
            T("承办单位", "unit"),
            T("得分", "score"),
            T("督办扣分", "deducted"),
            T("受理量", "received"),
        )
        for r in found.items:
            change = r["change"]
            moved = (
                "—"
                if change is None
                else f"↑{change}"
                if change > 0
                else f"↓{-change}"
                if change < 0
                else "="
            )
            score = "—" if r["score"] is None else f"{r['score']:.2f}"
            rows.add_row(
                str(r["rank"] or "—"),
                moved,
                r["unit"],
                score,
                str(r["deducted"]),
                str(r["received"]),
            )
        return rows

    _show(_run(Calls.ranking(month)).value, as_json, table=table)


# The measures a breakdown or a trend shows: (field, heading), rates in per cent.
MEASURES = (
    ("received", T("受理量", "received")),
    ("closed", T("办结量", "closed")),
    ("on_time_rate", T("按时办结率", "on time")),
    ("satisfaction_rate", T("满意率", "satisfied")),
    ("resolution_rate", T("解决率", "solved")),
    ("response_rate", T("响应率", "contacted")),
    ("overdue", T("超期件数", "overdue")),
)


def _measures_table(first: str, found: Any, key: Callable[[Any], str]) -> Table:
    # The group's name is kept whole on a narrow terminal; the figures give way first.
    rows = Table(Column(first, no_wrap=True, min_width=10), *(heading for _, heading in MEASURES))
    for group in found.items:
        cells = [
            "—" if group.get(f) is None else f"{group[f] * 100:.1f}%" if f.endswith("rate")
            else str(group[f])
            for f, _ in MEASURES
        ]  # fmt: skip
        rows.add_row(key(group), *cells)
    return rows


@supervisor.command(
    "breakdown",
    help=T(
        "考核指标按行政区、街道（镇）或事项分类分组，或全部合计",
        "The measures per district, street or category, or of all tickets.",
    ),
)
def breakdown(
    by: choices.BreakdownBy = choices.BreakdownBy.DISTRICT,
    date_from: str = typer.Option(..., "--from"),
    date_to: str = typer.Option(..., "--to"),
    district: str | None = None,
    as_json: JsonOption = False,
) -> None:
    def key(group: Any) -> str:
        if by is choices.BreakdownBy.CATEGORY:
            return _label("category", group["key"]) or T("未分类", "none")
        if by is choices.BreakdownBy.STREET:
            return f"{group['district'] or '—'} {group['key'] or T('未记录街道', 'no street')}"
        return group["key"] or T("全部", "all")

    found = _run(Calls.kpis_breakdown(by.value, date_from, date_to, district)).value
    _show(found, as_json, table=lambda f: _measures_table(T("分组", "group"), f, key))


@supervisor.command(
    "trend",
    help=T("单位考核指标的逐周或逐月走势", "A unit's measures week by week or month by month."),
)
def trend(
    unit_id: str,
    by: choices.TrendBy = choices.TrendBy.MONTH,
    date_from: str = typer.Option(..., "--from"),
    date_to: str = typer.Option(..., "--to"),
    as_json: JsonOption = False,
) -> None:
    found = _run(Calls.kpis_trend(unit_id, by.value, date_from, date_to)).value
    _show(
        found, as_json, table=lambda f: _measures_table(T("起始日", "from"), f, lambda g: g["key"])
    )


@supervisor.command(
    "hotspots",
    help=T(
        "某周明显增多的事项（分类×行政区或街道），默认上一整周",
        "Categories rising in a district or street in a week (default: last week).",
    ),
)
def hotspots(
    week: WeekOption = None,
    district: str | None = None,
    as_json: JsonOption = False,
) -> None:
    def table(found: Any) -> Table:
        # The place and what rose are kept whole on a narrow terminal; the figures give way.
        rows = Table(
            Column(T("事项分类", "category"), no_wrap=True),
            Column(T("行政区", "district"), no_wrap=True),
            Column(T("街道（镇）", "street"), no_wrap=True),
            T("本周", "this week"),
            T("前8周周均", "8-week mean"),
            T("上周", "last week"),
            "p",
            T("研判", "decision"),
        )
        for h in found.items:
            review = h.get("review") or {}
            rows.add_row(
                _label("category", h["category"]) or "—",
                h["district"] or "—",
                h.get("street") or T("全区", "whole"),
                str(h["count"]),
                f"{h['baseline']:.1f}",
                str(h["previous"]),
                f"{h['p_value']:.1e}",
                _label("hotspot_decision", review.get("decision"), "sla") or "—",
            )
        return rows

    _show(_run(Calls.hotspots(week, district)).value, as_json, table=table)


@supervisor.command(
    "clusters",
    help=T(
        "某周多人在同一地点反映的同一事项（默认上一整周，往前看四周）",
        "One matter at one place raised by several callers (default: last week).",
    ),
)
def clusters(
    week: WeekOption = None,
    district: str | None = None,
    as_json: JsonOption = False,
) -> None:
    def table(found: Any) -> Table:
        rows = Table(
            Column(T("编号", "key"), no_wrap=True),
            Column(T("地点", "place"), no_wrap=True),
            T("事项分类", "category"),
            T("诉求人", "callers"),
            T("本周", "this week"),
            T("上周", "last week"),
            T("诉求内容", "summary"),
        )
        for c in found.items:
            where = " ".join(x for x in (c["district"], c["street"], c["place"]) if x)
            rows.add_row(c["key"], where, _label("category", c["category"]) or "—",
                         str(c["callers"]), str(c["this_week"]), str(c["previous_week"]),
                         c["summary"])  # fmt: skip
        return rows

    _show(_run(Calls.clusters(week, district)).value, as_json, table=table)


@supervisor.command(
    "hotspot-review",
    help=T(
        "研判热点或多人反映的同一事项：标记已研判，或对其中仍在办理的每件事项发起督办（第二十三条）",
        "Mark a hotspot or cluster reviewed, or supervise each of its matters still handled.",
    ),
)
def hotspot_review(
    week: Annotated[str, typer.Argument(help=T("该周的星期一", "its Monday"))],
    decision: choices.HotspotDecision,
    category: str | None = None,
    district: str | None = None,
    street: str | None = None,
    cluster: Annotated[
        str | None, typer.Option(help=T("多人反映事项的编号（clusters 所列）", "a cluster's key"))
    ] = None,
    note: str | None = None,
    method: choices.Method = choices.Method.ONLINE,
) -> None:
    body: dict[str, Any] = {
        "week": week,
        "category": category,
        "district": district,
        "street": street,
        "decision": decision.value,
        "method": method.value,
        "note": note,
    }
    if cluster:
        # A cluster is intake's finding: its tickets are read there and named to sla.
        found = _run(Calls.clusters(week, district)).value
        match = next((c for c in found.items if c["key"] == cluster), None) if found else None
        if match is None:
            typer.echo(T(f"该周没有多人反映事项 {cluster}", f"no cluster {cluster} that week"),
                       err=True)  # fmt: skip
            raise typer.Exit(3)
        body |= {"cluster": cluster, "tickets": [t["ticket_id"] for t in match["tickets"]],
                 "district": match["district"], "street": match["street"],
                 "category": match["category"]}  # fmt: skip
    done = _run(Calls.review_hotspot(body)).value
    typer.echo(f"{_label('hotspot_decision', done.decision, 'sla')}：{T('督办', 'supervisions')} "
               f"{done.supervisions}")  # fmt: skip


@supervisor.command(
    "volume",
    help=T(
        "受理量与超期量：按周、承办单位、行政区或事项分类",
        "Tickets received and fallen late, by week, unit, district or category.",
    ),
)
def volume(
    by: choices.VolumeBy = choices.VolumeBy.WEEK,
    date_from: str = typer.Option(..., "--from"),
    date_to: str = typer.Option(..., "--to"),
    as_json: JsonOption = False,
) -> None:
    def table(found: Any) -> Table:
        rows = Table(T("分组", "group"), T("受理量", "received"), T("超期量", "late"))
        for g in found.groups:
            key = _label("category", g.key) if by is choices.VolumeBy.CATEGORY else g.key
            rows.add_row(key or "—", str(g.received), str(g.late))
        return rows

    _show(_run(Calls.volume(by.value, date_from, date_to)).value, as_json, table=table)


@supervisor.command("supervisions", help=T("督办记录（第二十三条）", "Supervision records."))
def supervisions(
    unit_id: Annotated[str | None, typer.Option("--unit")] = None,
    awaiting_answer: Annotated[
        bool, typer.Option(help=T("只看待回复的督办", "only those awaiting the unit's answer"))
    ] = False,
    as_json: JsonOption = False,
) -> None:
    filters = {"unit": unit_id, "awaiting_answer": awaiting_answer or None}
    found = _run(Calls.supervisions(**filters)).value

    def table(s: Any) -> Table:
        rows = Table(
            "id",
            T("热线事项", "ticket"),
            T("承办单位", "unit"),
            T("督办原因", "reason"),
            T("方式", "method"),
            T("发起时间", "opened"),
            T("已办结", "closed"),
        )
        for r in s.items:
            rows.add_row(
                str(r.id),
                r.ticket_id[:8],
                r.unit_id or "",
                _label("supervision_reason", r.reason, "sla"),
                _label("supervision_method", r.method, "sla"),
                _shown(r.opened_at),
                T("是", "yes") if r.closed_at else "",
            )
        return rows

    _show(found, as_json, table=table)


# ---- guidance department -------------------------------------------------------------------


@guidance.command(
    "matters",
    help=T(
        "本部门指导监督的第二十一条事项，阶段性情况反馈期限最近的在前",
        "The Art 21 matters this department oversees.",
    ),
)
def guidance_matters(as_json: JsonOption = False) -> None:
    _show(_run(Calls.legal_procedures()).value, as_json, table=_tickets_table)


@guidance.command(
    "supervise",
    help=T(
        "督办本部门指导监督的事项（第二十一条、第二十三条）",
        "Supervise an Art 21 matter this department oversees (Art 21, 23(3)).",
    ),
)
def guidance_supervise(
    ticket_id: Ticket,
    unit_id: Annotated[str, typer.Option("--unit", help=T("承办单位", "the handling unit"))],
    note: str = typer.Option(...),
    method: choices.Method = choices.Method.DOCUMENT,
) -> None:
    body = {
        "ticket_id": ticket_id,
        "unit_id": unit_id,
        "reason": "long_running",
        "method": method.value,
        "note": note,
    }
    opened = _run(Calls.open_supervision(body)).value
    typer.echo(f"{T('已发起督办', 'supervision')} {opened.id}")


# ---- admin ---------------------------------------------------------------------------------


def _read_json(file: Path) -> Any:
    """A file's JSON, or a refusal naming the line and the reason (exit 3), never a traceback."""
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except OSError as error:
        typer.echo(f"{T('无法读取文件', 'cannot read')} {file}: {error.strerror}", err=True)
    except UnicodeDecodeError:
        typer.echo(f"{file}: {T('文件应为 UTF-8 编码', 'the file must be UTF-8')}", err=True)
    except json.JSONDecodeError as error:
        where = T(
            f"第 {error.lineno} 行第 {error.colno} 列", f"line {error.lineno} column {error.colno}"
        )
        typer.echo(
            f"{file} {where}: {T('不是有效的 JSON', 'not valid JSON')}（{error.msg}）", err=True
        )
    raise typer.Exit(3)


@admin.command(
    "calendar-load",
    help=T("从 JSON 文件载入某年的法定节假日安排", "Load a year's holiday schedule (JSON)."),
)
def calendar_load(year: int, file: Path) -> None:
    _show(_run(Calls.load_year(year, _read_json(file))).value, True)


@admin.command(
    "routing-import",
    help=T(
        "从 JSON 列表导入派单规则 {category, district, unit_id, priority, note}："
        "全部成功或全部不导入，重复导入不重复新增",
        "Add routing rules from a JSON list: all or nothing; a re-run adds nothing twice.",
    ),
)
def routing_import(file: Path) -> None:
    done = _run(Calls.import_routing_rules(_read_json(file))).value
    there = done.already_there
    typer.echo(f"{T('新增', 'created')} {done.created}，{T('已存在', 'already there')} {there}")


@admin.command(
    "kb-import",
    help=T("把政策文件（PDF 提取文本）导入知识库", "Import a policy document into the KB."),
)
def kb_import(file: Path, title: str = typer.Option(...)) -> None:
    _show(_run(Calls.import_document(title, file.name, file.read_text())).value, True)


@admin.command(
    "open311",
    help=T(
        "Open311 应用：list 列出；add 名称 登记（密钥只显示一次）；withdraw ID 停用",
        "Open311 applications: list; add NAME (the key is shown once); withdraw ID.",
    ),
)
def open311(
    action: Annotated[str, typer.Argument(help="list | add | withdraw")] = "list",
    value: Annotated[str | None, typer.Argument(help=T("名称或 ID", "name or id"))] = None,
    as_json: JsonOption = False,
) -> None:
    if action in ("add", "withdraw") and not value:
        raise typer.BadParameter(T("请给出名称或 ID", "give a name or an id"))
    if action == "add":
        added = _run(Calls.register_open311_client(value or "")).value
        _show(added, as_json, line=lambda c: f"{c.name} {c.id}\napi_key: {c.api_key}")
        return
    if action == "withdraw":
        _show(_run(Calls.withdraw_open311_client(value or "")).value, as_json, line=lambda c: c.id)
        return

    def table(listed: Any) -> Table:
        rows = Table("ID", T("名称", "name"), T("状态", "state"), T("登记", "registered"))
        for c in listed.items:
            state = T("有效", "active") if c.active else T("已停用", "withdrawn")
            rows.add_row(c.id, c.name, state, _shown(c.created_at))
        return rows

    _show(_run(Calls.open311_clients()).value, as_json, table=table)


@admin.command("units", help=T("承办单位名录", "The directory of handling units."))
def units(
    district: Annotated[str | None, typer.Option(help=T("行政区", "district"))] = None,
    inactive: Annotated[
        bool, typer.Option(help=T("包括已停用的单位", "deactivated units too"))
    ] = False,
    as_json: JsonOption = False,
) -> None:
    def table(found: Any) -> Table:
        rows = Table(
            T("编码", "id"),
            T("名称", "name"),
            T("类别", "kind"),
            T("上级", "parent"),
            T("状态", "state"),
        )
        for u in found.items:
            state = T("启用", "active") if u.active else T("已停用", "deactivated")
            rows.add_row(u.id, u.name, _label("unit_kind", u.kind), u.parent_id or "", state)
        return rows

    _show(_run(Calls.units(district=district, inactive=inactive)).value, as_json, table=table)


@admin.command(
    "kb-entries",
    help=T(
        "知识库条目；默认列出待审核的", "Knowledge-base entries; by default those awaiting review."
    ),
)
def kb_entries(
    status: choices.KbReviewStatus = choices.KbReviewStatus.DRAFT, as_json: JsonOption = False
) -> None:
    def table(found: Any) -> Table:
        rows = Table("id", T("问题", "question"), T("维护单位", "owner"), T("版本", "version"))
        for e in found.items:
            rows.add_row(e.id, e.question, e.owning_unit, str(e.version))
        return rows

    _show(_run(Calls.kb_entries(status.value)).value, as_json, table=table)


@admin.command(
    "kb-review",
    help=T(
        "审核知识库条目：approved 通过（可供检索）、retired 停用、draft 退回修改",
        "Review an entry: approved (searchable), retired, or back to draft.",
    ),
)
def kb_review(entry_id: str, status: choices.KbReviewStatus) -> None:
    done = _run(Calls.review_kb_entry(entry_id, status.value)).value
    typer.echo(f"{done.id}: {_label('kb_review_status', done.review_status, 'intake')}")


@admin.command(
    "clock-advance",
    help=T(
        "开发环境：三个服务的时钟一起拨快，然后扫描超期",
        "Move a development stack's clock forward, then scan for breaches.",
    ),
)
def clock_advance(days: float = typer.Option(...)) -> None:
    for service in ("intake", "dispatch", "sla"):
        moved = _run(Calls.advance_clock(service, days)).value
    breached = _run(Calls.scan()).value
    now = _shown(datetime.fromisoformat(moved.now))
    typer.echo(f"{T('当前时间', 'now')} {now}；{T('新超期', 'newly overdue')} {breached.breached}")


@admin.command(
    "principle-review",
    help=T(
        "审定认定记录的处理原则（通过则纳入派单规则，第十六条）",
        "Approve a determination's principle as a routing rule, or reject it (Art 16 ¶3).",
    ),
)
def principle_review(
    determination_id: int,
    approve: Annotated[bool, typer.Option("--approve/--reject")],
    reason: str = typer.Option(...),
) -> None:
    decided = _run(Calls.review_principle(determination_id, approve, reason)).value
    status = _label("principle_status", decided.principle_status)
    typer.echo(f"{T('认定记录', 'determination')} {decided.id}: {status}")


# ---- signing in and users ----------------------------------------------------------------


def _who(account: Any) -> str:
    scope = account.unit_id or account.district or ""
    role = _label("role", account.role)
    return f"{account.display_name}（{account.username}，{role}{' ' + scope if scope else ''}）"


@app.command("login", help=T("登录（用户名、密码，必要时动态验证码）", "Sign in."))
def login(
    username: Annotated[str, typer.Argument(help=T("用户名", "username"))],
) -> None:
    password = typer.prompt(T("密码", "password"), hide_input=True)
    client = Client(language=ACCEPT_LANGUAGE)  # signing in needs no token
    try:
        try:
            tokens = client.get(Calls.sign_in(username, password))
        except HotlineError as error:
            if error.code != "totp_required":
                raise
            code = typer.prompt(T("动态验证码", "authenticator code")).strip()
            tokens = client.get(Calls.sign_in(username, password, code))
    except HotlineError as error:
        _fail(error)
    credentials.save(tokens)
    until = _shown(tokens.refresh_expires_at)
    typer.echo(
        f"{T('已登录', 'signed in')}：{_who(tokens.account)}，{T('有效至', 'until')} {until}"
    )


@app.command("logout", help=T("退出登录", "Sign out."))
def logout() -> None:
    tokens = credentials.load()
    if tokens is not None:
        # The sign-in ends here all the same: the tokens are forgotten.
        with suppress(HotlineError):
            Client(language=ACCEPT_LANGUAGE).run(Calls.sign_out(tokens.refresh_token))
    credentials.forget()
    typer.echo(T("已退出登录", "signed out"))


@app.command("whoami", help=T("当前登录的用户", "Who is signed in."))
def whoami(as_json: JsonOption = False) -> None:
    _show(_run(Calls.me()).value, as_json, line=_who)


def _users_table(found: Any) -> Table:
    table = Table(
        T("用户名", "username"),
        T("姓名", "name"),
        T("角色", "role"),
        T("单位或行政区", "unit or district"),
        T("动态验证码", "2FA"),
        T("状态", "state"),
        title=T("用户", "users") + f"（{found.total}）",
    )
    for a in found.items:
        state = T("已停用", "disabled") if a.disabled_at else T("启用", "active")
        if a.locked_until:
            state += T("，暂时锁定", ", locked")
        table.add_row(
            a.username,
            a.display_name,
            _label("role", a.role),
            a.unit_id or a.district or "",
            T("是", "yes") if a.totp else "",
            state,
        )
    return table


@users.command("list", help=T("用户名录", "The directory of users."))
def users_list(
    role: Annotated[choices.PersonRole | None, typer.Option(help=T("角色", "role"))] = None,
    unit_id: Annotated[str | None, typer.Option("--unit", help=T("单位编码", "unit id"))] = None,
    disabled: Annotated[
        bool | None, typer.Option("--disabled/--active", help=T("已停用或启用的", "which"))
    ] = None,
    as_json: JsonOption = False,
) -> None:
    found = _run(Calls.users(role=role, unit_id=unit_id, disabled=disabled, limit=500)).value
    _show(found, as_json, table=_users_table)


@users.command("add", help=T("新增用户（提示输入初始密码）", "Add a user (asks for a password)."))
def users_add(
    username: str,
    role: Annotated[choices.PersonRole, typer.Option(help=T("角色", "role"))],
    name: Annotated[str, typer.Option(help=T("姓名", "name"))],
    unit_id: Annotated[str | None, typer.Option("--unit", help=T("单位编码", "unit id"))] = None,
    district: Annotated[
        str | None, typer.Option(help=T("区热线工作机构所属行政区", "a district agency's"))
    ] = None,
) -> None:
    password = typer.prompt(
        T("初始密码", "password"), hide_input=True, confirmation_prompt=T("再次输入", "repeat")
    )
    body = {
        "username": username,
        "display_name": name,
        "role": role.value,
        "unit_id": unit_id,
        "district": district,
        "password": password,
    }
    typer.echo(f"{T('已新增', 'added')} {_who(_run(Calls.add_user(body)).value)}")


def _update(username: str, body: dict[str, Any], done: str) -> None:
    account = _run(Calls.update_user(username, body)).value
    typer.echo(f"{_who(account)}：{done}")


@users.command(
    "disable", help=T("停用账号（一分钟内强制下线）", "Disable (signed out in a minute).")
)
def users_disable(username: str) -> None:
    _update(username, {"disabled": True}, T("已停用", "disabled"))


@users.command("enable", help=T("启用账号", "Enable."))
def users_enable(username: str) -> None:
    _update(username, {"disabled": False}, T("已启用", "enabled"))


@users.command("password", help=T("重置密码（强制下线）", "Set a new password."))
def users_password(username: str) -> None:
    password = typer.prompt(
        T("新密码", "password"), hide_input=True, confirmation_prompt=T("再次输入", "repeat")
    )
    _update(username, {"password": password}, T("密码已重置", "password set"))


@users.command("sign-out", help=T("强制下线", "Sign out everywhere."))
def users_sign_out(username: str) -> None:
    _run(Calls.sign_out_user(username))
    typer.echo(f"{username}：{T('已强制下线', 'signed out everywhere')}")


@users.command("changes", help=T("账号变更记录", "What was changed and by whom."))
def users_changes(username: str, as_json: JsonOption = False) -> None:
    def table(found: Any) -> Table:
        rows = Table(T("时间", "at"), T("操作", "action"), T("操作人", "by"), T("内容", "detail"))
        for c in found.items:
            detail = "，".join(f"{k}={v}" for k, v in c.detail.items())
            rows.add_row(_shown(c.at), _label("account_action", c.action, "identity"), c.by, detail)
        return rows

    _show(_run(Calls.user_changes(username)).value, as_json, table=table)


def main() -> None:
    """Entry point: the user commands, plus any the server package adds (run, serve, …)."""
    for plugin in entry_points(group="hotline.commands"):
        extra = plugin.load()
        app.registered_commands.extend(extra.registered_commands)
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app(prog_name="hotline")
