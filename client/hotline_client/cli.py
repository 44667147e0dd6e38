"""`hotline`: the command line of agents, units, the agency, supervisors and administrators.

Exit codes: 0 done, 2 usage, 3 bad input, 4 refused by a rule (409), 5 service unreachable.
Every read takes ``--json`` for scripts.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from hotline_client.api import Call, Calls, Client
from hotline_client.errors import HotlineError

console = Console()
app = typer.Typer(help="12345 hotline", no_args_is_help=True, pretty_exceptions_enable=False)
agent = typer.Typer(help="call-centre agents: classify and take calls, progress, knowledge")
unit = typer.Typer(help="handling units: my tickets, accept, return, extend, feed back")
agency = typer.Typer(help="the hotline agency: queue, dispatch, returns, review, evaluation")
supervisor = typer.Typer(help="supervisors: overdue and due-soon dashboards, KPIs, supervision")
admin = typer.Typer(help="administrators: calendar, routing rules, knowledge documents")
guidance = typer.Typer(help="business guidance departments: the Art 21 matters they oversee")
for group, name in (
    (agent, "agent"),
    (unit, "unit"),
    (agency, "agency"),
    (supervisor, "supervisor"),
    (admin, "admin"),
    (guidance, "guidance"),
):
    app.add_typer(group, name=name)

STATE: dict[str, Any] = {"json": False, "token": None}
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON")]
UnitOption = Annotated[str, typer.Option("--unit", envvar="HOTLINE_UNIT", help="your unit id")]


@app.callback()
def main_options(
    token: Annotated[str | None, typer.Option(envvar="HOTLINE_TOKEN", help="bearer token")] = None,
) -> None:
    STATE["token"] = token


def _client() -> Client:
    return Client(token=STATE["token"])


def _run(call: Call[Any]) -> Any:
    try:
        return _client().run(call)
    except HotlineError as error:
        code = f" [{error.code}]" if error.code else ""
        typer.echo(f"error{code}: {error.message}", err=True)
        raise typer.Exit(error.exit_code) from None


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
        console.print(line(value))


SHANGHAI = ZoneInfo("Asia/Shanghai")


def _shown(at: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A time as people here read it: Asia/Shanghai, with the year, whatever the desktop's zone."""
    return at.astimezone(SHANGHAI).strftime(pattern) if at else ""


def _tickets_table(page: Any) -> Table:
    table = Table("number", "id", "status", "unit", "category", "district", "due", title="tickets")
    for t in page.items:
        due = t.handling_due_at or t.dispatch_due_at
        style = "red" if t.overdue else None
        table.add_row(
            t.number,
            t.id[:8],
            t.status,
            t.lead_unit or t.suggested_unit or "",
            t.category or "",
            t.district or "",
            _shown(due),
            style=style,
        )
    return table


def _ticket_line(t: Any) -> str:
    return f"{t.number} {t.status} unit={t.lead_unit or '-'} due={t.handling_due_at or '-'}"


# ---- agent ---------------------------------------------------------------------------------


@agent.command("classify")
def classify(
    text: str, address: str | None = None, phone: str | None = None, as_json: JsonOption = False
) -> None:
    """Suggestions for a call: type, Art 11 case, category, district, answers."""
    answer = _run(Calls.classify(text, address=address, caller_phone=phone)).value
    _show(
        answer,
        as_json,
        line=lambda a: (
            f"type {a.type.value} ({a.type.confidence})  category {a.category.value} "
            f"({a.category.confidence})  district {a.district.get('value')}  "
            f"disposition {a.disposition['value']}"
            + (
                f" → call {a.disposition['emergency_number']}"
                if a.disposition.get("emergency_number")
                else ""
            )
        ),
    )


@agent.command("take")
def take(
    text: Annotated[str | None, typer.Option(help="the matter in the caller's words")] = None,
    ticket_type: Annotated[str | None, typer.Option("--type")] = None,
    category: str | None = None,
    district: str | None = None,
    street: str | None = None,
    name: str | None = None,
    phone: str | None = None,
    address: str | None = None,
    channel: str = "phone",
    outcome: str = "submitted",
    disposition: str = "normal",
    told: Annotated[str | None, typer.Option(help="what the caller was told")] = None,
    emergency_number: str | None = None,
    related: str | None = None,
    kb_entry: str | None = None,
    transfer_to: Annotated[
        str | None, typer.Option(help="transfer to another line, e.g. 12333 (Art 7)")
    ] = None,
    interactive: Annotated[bool, typer.Option("--interactive", "-i")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print the id only")] = False,
    as_json: JsonOption = False,
) -> None:
    """Take a call: from options, or interactively with the suggestions to confirm."""
    if interactive:
        text = text or typer.prompt("matter")
        phone = phone or typer.prompt("caller phone", default="", show_default=False) or None
        suggestion = _run(Calls.classify(text, address=address, caller_phone=phone)).value
        if suggestion.disposition["value"] == "emergency":
            console.print(
                f"[bold red]emergency: transfer to {suggestion.disposition['emergency_number']}[/]"
            )
        ticket_type = typer.prompt("type", default=ticket_type or suggestion.type.value)
        category = typer.prompt("category", default=category or suggestion.category.value)
        district = typer.prompt(
            "district", default=district or suggestion.district.get("value") or ""
        )
        disposition = typer.prompt("disposition", default=suggestion.disposition["value"])
        if disposition != "normal":
            outcome = "closed_at_intake"
            emergency_number = suggestion.disposition.get("emergency_number")
            told = told or typer.prompt("what the caller was told")
    if not text or not ticket_type:
        raise typer.BadParameter("--text and --type are needed (or --interactive)")
    call = {
        "channel": channel,
        "text": text,
        "ticket_type": ticket_type,
        "category": category,
        "district": district or None,
        "street": street,
        "outcome": outcome,
        "disposition": disposition,
        "told_caller": told,
        "emergency_number": emergency_number,
        "related_ticket_id": related,
        "kb_entry_id": kb_entry,
        "transfer_to": transfer_to,
        "caller": {"name": name, "phone": phone, "address": address},
    }
    ticket = _run(Calls.take_call(call)).value
    if quiet:
        typer.echo(ticket.id)
    else:
        _show(ticket, as_json, line=lambda t: f"ticket {t.number} ({t.id}) {t.status}")


@agent.command("lookup")
def lookup(phone: str, as_json: JsonOption = False) -> None:
    """A caller's tickets and their status (Art 11(4): tell the progress)."""
    tickets = _run(Calls.caller_tickets(phone)).value

    def table(page: Any) -> Table:
        result = Table("number", "status", "type", "category", "received", title="caller's tickets")
        for t in page.items:
            result.add_row(
                t.number,
                t.status,
                t.ticket_type,
                t.category or "",
                _shown(t.received_at, "%Y-%m-%d"),
            )
        return result

    _show(tickets, as_json, table=table)


@agent.command("kb")
def kb(query: str, limit: int = 5, as_json: JsonOption = False) -> None:
    """Search the knowledge base."""
    found = _run(Calls.kb_search(query, limit)).value

    def table(result: Any) -> Table:
        rows = Table("score", "source", "section", "text", title=query)
        for hit in result.items:
            rows.add_row(f"{hit.score:.2f}", hit.source, hit.section or "", hit.text[:80])
        return rows

    _show(found, as_json, table=table)


@agent.command("record")
def caller_record(ticket_id: str, as_json: JsonOption = False) -> None:
    """What to tell a caller asking about progress: due time, extensions, adjustments, new
    situations and what they were told (Art 11(4), 17, 18)."""
    found = _run(Calls.caller_record(ticket_id)).value

    def table(r: Any) -> Table:
        rows = Table(
            "at",
            "action",
            "reason",
            "due",
            "told the caller",
            title=f"{r.number} {r.status} due {_shown(r.handling_due_at) or '-'}",
        )
        for e in r.entries:
            rows.add_row(
                _shown(e.at), e.action, e.reason or "", _shown(e.due_at), e.told_caller or ""
            )
        return rows

    _show(found, as_json, table=table)


@agent.command("note")
def note(ticket_id: str, text: str) -> None:
    """The caller's new situation, forwarded to the unit (Art 17)."""
    _run(Calls.add_note(ticket_id, text))
    typer.echo("forwarded")


@agent.command("warn")
def warn(ticket_id: str, note: str = typer.Option(..., help="what the caller was told")) -> None:
    """Record that the caller was warned of the rules of the line (Art 12 ¶2)."""
    record = _run(Calls.warn(ticket_id, note)).value
    typer.echo(f"warning {record.id} recorded for {record.ticket_id}")


# ---- unit ----------------------------------------------------------------------------------


@unit.command("tickets")
def unit_tickets(
    unit_id: UnitOption,
    overdue: bool | None = None,
    status: str | None = None,
    watch: bool = False,
    interval: float = 10.0,
    as_json: JsonOption = False,
) -> None:
    """My unit's tickets (overdue in red); --watch polls with ETag until Ctrl-C."""
    etag = None
    while True:
        answer = _run(Calls.unit_tickets(unit_id, overdue=overdue, status=status, etag=etag))
        if not answer.not_modified:
            _show(answer.value, as_json, table=_tickets_table)
        etag = answer.etag
        if not watch:
            return
        time.sleep(interval)


@unit.command("accept")
def accept(ticket_id: str, as_json: JsonOption = False) -> None:
    _show(_run(Calls.accept(ticket_id)).value, as_json, line=_ticket_line)


@unit.command("return")
def return_ticket(
    ticket_id: str, reason: str = typer.Option(...), basis: str = typer.Option(...)
) -> None:
    """Apply to return inside the 2-working-day window (Art 14)."""
    application = _run(Calls.apply_to_return(ticket_id, reason, basis)).value
    typer.echo(f"return application {application.id}")


@unit.command("extend")
def extend(
    ticket_id: str,
    reason: str = typer.Option(...),
    told: Annotated[
        str | None, typer.Option(help="what the caller was told of the reason and new limit")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Extend before the due time, at most twice (Art 18); the caller has been told."""
    _show(_run(Calls.extend(ticket_id, reason, told)).value, as_json, line=_ticket_line)


@unit.command("designate")
def designate(ticket_id: str, sub_unit: str) -> None:
    _show(_run(Calls.designate(ticket_id, sub_unit)).value, False, line=_ticket_line)


@unit.command("feedback")
def feedback(
    ticket_id: str,
    handling_time: str = typer.Option(..., "--time"),
    process: str = typer.Option(...),
    result: str = typer.Option(...),
    reply: str = typer.Option(..., help="how the caller was answered"),
) -> None:
    """Feed back: handling time, process, result, how the caller was answered (Art 19)."""
    body = {
        "handling_time": handling_time,
        "process": process,
        "result": result,
        "caller_reply": reply,
    }
    _show(_run(Calls.feedback(ticket_id, body)).value, False, line=_ticket_line)


@unit.command("legal-procedure")
def legal_procedure(
    ticket_id: str,
    procedure: Annotated[
        str,
        typer.Option(
            help="litigation, arbitration, administrative_reconsideration, "
            "administrative_adjudication, administrative_penalty, appraisal or other"
        ),
    ],
    reference: Annotated[str, typer.Option(help="case number, court or body, what is awaited")],
    guidance_department: Annotated[str, typer.Option(help="the city department overseeing it")],
) -> None:
    """The matter waits on a legal procedure: handling pauses, progress reports fall due
    (Art 21 ¶2). The agency may do this too."""
    call = Calls.await_legal_procedure(ticket_id, procedure, reference, guidance_department)
    _show(_run(call).value, False, line=_ticket_line)


@unit.command("progress")
def progress(ticket_id: str, text: Annotated[str, typer.Option("--text")]) -> None:
    """Report progress on a long-running matter (Art 21)."""
    _show(_run(Calls.report_progress(ticket_id, text)).value, False, line=_ticket_line)


@unit.command("procedure-ended")
def procedure_ended(ticket_id: str, reason: str = typer.Option(...)) -> None:
    """The legal procedure ended: final feedback within 3 working days (Art 21 ¶2)."""
    _show(_run(Calls.legal_procedure_ended(ticket_id, reason)).value, False, line=_ticket_line)


# ---- agency --------------------------------------------------------------------------------


@agency.command("queue")
def queue(as_json: JsonOption = False) -> None:
    """Tickets awaiting dispatch, oldest due first, with the suggested unit."""
    _show(_run(Calls.queue()).value, as_json, table=_tickets_table)


@agency.command("dispatch")
def dispatch(
    ticket_id: str,
    unit_id: Annotated[str | None, typer.Option("--unit")] = None,
    co: list[str] | None = None,
    as_json: JsonOption = False,
) -> None:
    """Dispatch to the suggested unit, or the one named."""
    _show(_run(Calls.dispatch(ticket_id, unit_id, co)).value, as_json, line=_ticket_line)


@agency.command("decide")
def decide(
    return_id: int, decision: str, reason: str = typer.Option(...), co: list[str] | None = None
) -> None:
    """Decide a return: approve, reject or several_units (Art 15)."""
    _show(
        _run(Calls.decide_return(return_id, decision, reason, co)).value, False, line=_ticket_line
    )


@agency.command("determine")
def determine(
    ticket_id: str,
    dispute: str = typer.Option(...),
    consulted: str = typer.Option(...),
    unit_id: str = typer.Option(..., "--unit"),
    principle: str | None = None,
    record_rule: bool = False,
) -> None:
    """Settle a difficult ticket (Art 16)."""
    body = {
        "dispute_kind": dispute,
        "consulted_body": consulted,
        "unit_id": unit_id,
        "principle": principle,
        "record_as_routing_rule": record_rule,
    }
    _show(_run(Calls.determine(ticket_id, body)).value, False, line=_ticket_line)


@agency.command("principles")
def principles(
    status: Annotated[str | None, typer.Option(help="proposed, approved or rejected")] = None,
    as_json: JsonOption = False,
) -> None:
    """Determinations and their principles (Art 16 ¶3); --status proposed awaits approval."""

    def table(page: Any) -> Table:
        rows = Table("id", "ticket", "unit", "status", "principle", title="determinations")
        for d in page.items:
            rows.add_row(
                str(d.id), d.ticket_id, d.unit_id, d.principle_status or "", d.principle or ""
            )
        return rows

    _show(_run(Calls.determinations(status)).value, as_json, table=table)


@agency.command("review")
def review(
    ticket_id: str,
    approve: Annotated[bool, typer.Option("--approve/--reject")],
    reason: str | None = None,
) -> None:
    """Review feedback (Art 19): compliant, or back to the unit."""
    _show(_run(Calls.review_feedback(ticket_id, approve, reason)).value, False, line=_ticket_line)


@agency.command("revisit")
def revisit(
    ticket_id: str,
    channel: Annotated[str, typer.Option(help="phone, sms, wechat or web")] = "phone",
    reached: Annotated[bool, typer.Option("--reached/--not-reached")] = True,
    note: str | None = None,
) -> None:
    """Record an attempt to reach the caller for a rating (Art 20; three failed: no rating)."""
    _show(_run(Calls.revisit(ticket_id, channel, reached, note)).value, False, line=_ticket_line)


@agency.command("invite")
def invite(
    ticket_id: str,
    channel: Annotated[str, typer.Option(help="sms, wechat or web")] = "sms",
) -> None:
    """Send the caller a link to rate the handling themselves (Art 20 ¶2); prints its token."""
    invitation = _run(Calls.invite_evaluation(ticket_id, channel)).value
    typer.echo(f"rating link token (valid until {_shown(invitation.expires_at)}):")
    typer.echo(invitation.token)


@agency.command("evaluate")
def evaluate(ticket_id: str, rating: str) -> None:
    """Record the caller's rating: satisfied, basically_satisfied, unsatisfied, none."""
    _show(_run(Calls.evaluate(ticket_id, rating)).value, False, line=_ticket_line)


@agency.command("rehandle")
def rehandle(ticket_id: str, reason: str = typer.Option(...)) -> None:
    _show(_run(Calls.rehandle(ticket_id, reason)).value, False, line=_ticket_line)


@agency.command("history")
def history(ticket_id: str, as_json: JsonOption = False) -> None:
    """Who did what, when and why (Art 26)."""
    found = _run(Calls.history(ticket_id)).value

    def table(h: Any) -> Table:
        rows = Table(
            "at",
            "action",
            "status",
            "actor",
            "unit",
            "reason",
            title=f"history (chain intact: {h.chain_intact})",
        )
        for e in h.items:
            rows.add_row(
                _shown(e.at),
                e.action,
                e.status,
                e.actor,
                e.unit_id or "",
                (e.reason or "")[:40],
            )
        return rows

    _show(found, as_json, table=table)


# ---- supervisor ----------------------------------------------------------------------------


def _dashboard_table(d: Any) -> Table:
    rows = Table(d.group_by, "count", title=f"{d.total} tickets")
    for g in d.groups:
        rows.add_row(g.key or "-", str(g.count))
    return rows


@supervisor.command("refer")
def refer(
    ticket_id: str,
    note: str = typer.Option(..., help="the malicious use and its evidence"),
    to: str = typer.Option(..., help="the authority it goes to, e.g. 公安机关"),
) -> None:
    """Refer malicious use of the line to the authority concerned (Art 27)."""
    record = _run(Calls.refer(ticket_id, note, to)).value
    typer.echo(f"referral {record.id} recorded for {record.ticket_id}")


@supervisor.command("conduct")
def conduct(ticket_id: str, as_json: JsonOption = False) -> None:
    """A call's warnings (Art 12 ¶2) and referrals (Art 27)."""

    def table(page: Any) -> Table:
        rows = Table("at", "kind", "by", "note", "to", title=f"conduct of {ticket_id}")
        for r in page.items:
            at = _shown(r.at)
            rows.add_row(at, r.kind, r.by, r.note, r.referred_to or "")
        return rows

    _show(_run(Calls.conduct(ticket_id)).value, as_json, table=table)


@supervisor.command("overdue")
def overdue(group_by: str = "unit", as_json: JsonOption = False) -> None:
    """Tickets past their due time, grouped by unit, district, type, category or clock."""
    _show(_run(Calls.overdue(group_by)).value, as_json, table=_dashboard_table)


@supervisor.command("due-soon")
def due_soon(group_by: str = "unit", as_json: JsonOption = False) -> None:
    """Tickets due today or by the end of the next working day."""
    _show(_run(Calls.due_soon(group_by)).value, as_json, table=_dashboard_table)


@supervisor.command("kpis")
def kpis(
    unit_id: str,
    date_from: str = typer.Option(..., "--from"),
    date_to: str = typer.Option(..., "--to"),
) -> None:
    """A unit's measures for a period (Art 24)."""
    _show(_run(Calls.kpis(unit_id, date_from, date_to)).value, True)


@supervisor.command("supervisions")
def supervisions(
    unit_id: Annotated[str | None, typer.Option("--unit")] = None, as_json: JsonOption = False
) -> None:
    """Supervision records (Art 23)."""
    found = _run(Calls.supervisions(unit=unit_id)).value

    def table(s: Any) -> Table:
        rows = Table("id", "ticket", "unit", "reason", "method", "opened", "closed")
        for r in s.items:
            rows.add_row(
                str(r.id),
                r.ticket_id[:8],
                r.unit_id or "",
                r.reason,
                r.method,
                _shown(r.opened_at, "%Y-%m-%d"),
                "yes" if r.closed_at else "",
            )
        return rows

    _show(found, as_json, table=table)


# ---- guidance department -------------------------------------------------------------------


@guidance.command("matters")
def guidance_matters(as_json: JsonOption = False) -> None:
    """The Art 21 matters this department oversees, the next progress report due first."""
    _show(_run(Calls.legal_procedures()).value, as_json, table=_tickets_table)


@guidance.command("supervise")
def guidance_supervise(
    ticket_id: str,
    unit_id: Annotated[str, typer.Option("--unit", help="the handling unit")],
    note: str = typer.Option(...),
    method: Annotated[str, typer.Option(help="phone, online, on_site, meeting, document")] = (
        "document"
    ),
) -> None:
    """Supervise an Art 21 matter this department oversees (Art 21 ¶1, 23(3))."""
    body = {
        "ticket_id": ticket_id,
        "unit_id": unit_id,
        "reason": "long_running",
        "method": method,
        "note": note,
    }
    opened = _run(Calls.open_supervision(body)).value
    typer.echo(f"supervision {opened.id}")


# ---- admin ---------------------------------------------------------------------------------


@admin.command("calendar-load")
def calendar_load(year: int, file: Path) -> None:
    """Load a year's official holiday schedule from a JSON file."""
    _show(_run(Calls.load_year(year, json.loads(file.read_text()))).value, True)


@admin.command("routing-import")
def routing_import(file: Path) -> None:
    """Add routing rules from a JSON list of {category, district, unit_id, priority, note}."""
    for rule in json.loads(file.read_text()):
        _run(Calls.import_routing_rule(rule))
    typer.echo("imported")


@admin.command("kb-import")
def kb_import(file: Path, title: str = typer.Option(...)) -> None:
    """Import a policy document (raw PDF extraction) into the knowledge base."""
    _show(_run(Calls.import_document(title, file.name, file.read_text())).value, True)


@admin.command("clock-advance")
def clock_advance(days: float = typer.Option(...)) -> None:
    """Move a development stack's clock forward on all three services, then scan for breaches."""
    for service in ("intake", "dispatch", "sla"):
        moved = _run(Calls.advance_clock(service, days)).value
    breached = _run(Calls.scan()).value
    typer.echo(f"now {moved.now}; clocks newly overdue: {breached.breached}")


@admin.command("principle-review")
def principle_review(
    determination_id: int,
    approve: Annotated[bool, typer.Option("--approve/--reject")],
    reason: str = typer.Option(...),
) -> None:
    """Approve (审定) a determination's principle as a routing rule, or reject it (Art 16 ¶3)."""
    decided = _run(Calls.review_principle(determination_id, approve, reason)).value
    typer.echo(f"determination {decided.id}: principle {decided.principle_status}")


def main() -> None:
    """Entry point: the user commands, plus any the server package adds (run, serve, …)."""
    for plugin in entry_points(group="hotline.commands"):
        extra = plugin.load()
        app.registered_commands.extend(extra.registered_commands)
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app(prog_name="hotline")
