"""Calls to the services, sync (`Client`) and async (`AsyncClient`).

Every create sends an Idempotency-Key, so a retry after a dropped connection creates
nothing twice; reads and keyed creates are retried on connection errors and 5xx.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel

from hotline_client import models
from hotline_client.errors import BadRequest, HotlineError, Refused, Unavailable

M = TypeVar("M", bound=BaseModel)
RETRIES = 3


@dataclass(frozen=True)
class Endpoints:
    """Base URLs of the services; from arguments or HOTLINE_INTAKE_URL and friends."""

    intake: str = "http://127.0.0.1:8001"
    dispatch: str = "http://127.0.0.1:8002"
    sla: str = "http://127.0.0.1:8003"
    identity: str = "http://127.0.0.1:8004"

    @classmethod
    def from_env(cls) -> Endpoints:
        return cls(
            **{
                s: os.environ.get(f"HOTLINE_{s.upper()}_URL", getattr(cls, s))
                for s in ("intake", "dispatch", "sla", "identity")
            }
        )


@dataclass(frozen=True)
class Call(Generic[M]):
    service: str
    method: str
    path: str
    model: type[M] | None
    json: Any = None
    params: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # A file to upload (multipart: name, content, media type), and answers that are files.
    file: tuple[str, bytes, str] | None = None
    raw: bool = False

    @property
    def repeatable(self) -> bool:
        return self.method == "GET" or "Idempotency-Key" in self.headers


def _created(service: str, path: str, model: type[M], body: Any, key: str | None = None) -> Call[M]:
    return Call(
        service,
        "POST",
        path,
        model,
        json=body,
        headers={"Idempotency-Key": key or str(uuid.uuid4())},
    )


def _clean(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


class Calls:
    """The baseline contract, one builder per call (shared by the sync and async clients)."""

    # intake
    @staticmethod
    def classify(
        text: str, *, address: str | None = None, caller_phone: str | None = None
    ) -> Call[models.Classification]:
        return Call(
            "intake",
            "POST",
            "/v1/classify",
            models.Classification,
            json=_clean({"text": text, "address": address, "caller_phone": caller_phone}),
        )

    @staticmethod
    def take_call(call: dict[str, Any], *, key: str | None = None) -> Call[models.IntakeTicket]:
        return _created("intake", "/v1/tickets", models.IntakeTicket, call, key)

    @staticmethod
    def intake_ticket(ticket_id: str) -> Call[models.IntakeTicket]:
        return Call("intake", "GET", f"/v1/tickets/{ticket_id}", models.IntakeTicket)

    @staticmethod
    def caller_tickets(phone: str) -> Call[models.IntakeTicketList]:
        return Call(
            "intake", "GET", "/v1/tickets", models.IntakeTicketList, params={"caller_phone": phone}
        )

    @staticmethod
    def add_note(ticket_id: str, text: str) -> Call[models.Note]:
        return _created("intake", f"/v1/tickets/{ticket_id}/notes", models.Note, {"text": text})

    @staticmethod
    def warn(ticket_id: str, note: str) -> Call[models.ConductRecord]:
        """Art 12 ¶2: the agent warned the caller of the rules of the line."""
        return _created(
            "intake", f"/v1/tickets/{ticket_id}/warnings", models.ConductRecord, {"note": note}
        )

    @staticmethod
    def refer(ticket_id: str, note: str, referred_to: str) -> Call[models.ConductRecord]:
        """Art 27: malicious use referred to the authority concerned."""
        return _created(
            "intake",
            f"/v1/tickets/{ticket_id}/referrals",
            models.ConductRecord,
            {"note": note, "referred_to": referred_to},
        )

    @staticmethod
    def conduct(ticket_id: str) -> Call[models.ConductList]:
        return Call("intake", "GET", f"/v1/tickets/{ticket_id}/conduct", models.ConductList)

    @staticmethod
    def submissions(
        limit: int = 50, offset: int = 0, caller_phone: str | None = None
    ) -> Call[models.SubmissionPage]:
        """Citizens' submissions awaiting an agent's review, oldest first (from one phone)."""
        return Call(
            "intake",
            "GET",
            "/v1/submissions",
            models.SubmissionPage,
            params=_clean({"limit": limit, "offset": offset, "caller_phone": caller_phone}),
        )

    @staticmethod
    def submission(submission_id: str) -> Call[models.Submission]:
        return Call("intake", "GET", f"/v1/submissions/{submission_id}", models.Submission)

    @staticmethod
    def review_submission(
        submission_id: str, review: dict[str, Any], *, key: str | None = None
    ) -> Call[models.IntakeTicket]:
        """Take a citizen's submission as a ticket (Art 11, 13), keeping its number."""
        return _created(
            "intake", f"/v1/submissions/{submission_id}/review", models.IntakeTicket, review, key
        )

    @staticmethod
    def ticket_attachments(ticket_id: str) -> Call[models.Attachments]:
        return Call("intake", "GET", f"/v1/tickets/{ticket_id}/attachments", models.Attachments)

    @staticmethod
    def attachment(attachment_id: str) -> Call[Any]:
        """The file itself."""
        return Call("intake", "GET", f"/v1/attachments/{attachment_id}", None, raw=True)

    @staticmethod
    def add_attachment(
        ticket_id: str, name: str, content: bytes, content_type: str
    ) -> Call[models.Attachment]:
        return Call(
            "intake",
            "POST",
            f"/v1/tickets/{ticket_id}/attachments",
            models.Attachment,
            file=(name, content, content_type),
        )

    @staticmethod
    def open311_clients() -> Call[models.Open311Clients]:
        return Call("intake", "GET", "/v1/open311/clients", models.Open311Clients)

    @staticmethod
    def register_open311_client(name: str) -> Call[models.Open311Client]:
        """An application that may post Open311 requests; its key is in the answer, once."""
        return _created("intake", "/v1/open311/clients", models.Open311Client, {"name": name})

    @staticmethod
    def withdraw_open311_client(client_id: str) -> Call[models.Open311Client]:
        return Call("intake", "DELETE", f"/v1/open311/clients/{client_id}", models.Open311Client)

    @staticmethod
    def kb_search(query: str, limit: int = 5) -> Call[models.KbSearch]:
        return Call(
            "intake", "GET", "/v1/kb/search", models.KbSearch, params={"q": query, "limit": limit}
        )

    @staticmethod
    def import_document(title: str, source_name: str, text: str) -> Call[models.Loaded]:
        return _created(
            "intake",
            "/v1/kb/documents",
            models.Loaded,
            {"title": title, "source_name": source_name, "text": text},
        )

    @staticmethod
    def kb_entries(review_status: str | None = None) -> Call[models.KbEntries]:
        """Knowledge-base entries; ``draft``: those awaiting review."""
        params = _clean({"review_status": review_status})
        return Call("intake", "GET", "/v1/kb/entries", models.KbEntries, params=params)

    @staticmethod
    def review_kb_entry(entry_id: str, status: str) -> Call[models.KbEntry]:
        """Approve an entry (it becomes searchable), send it back to draft, or retire it."""
        path = f"/v1/kb/entries/{entry_id}/review"
        return Call("intake", "POST", path, models.KbEntry, json={"status": status})

    # dispatch: the agency
    @staticmethod
    def queue() -> Call[models.TicketPage]:
        return Call("dispatch", "GET", "/v1/queue", models.TicketPage)

    @staticmethod
    def time_left(due: list[str]) -> Call[models.TimeLeftRead]:
        """Working days (and hours on the day) left to each due time, on sla's clock."""
        return Call(
            "sla", "GET", "/v1/calendar/time-left", models.TimeLeftRead, params={"due": due}
        )

    @staticmethod
    def calendar_years() -> Call[models.CalendarYears]:
        return Call("sla", "GET", "/v1/calendar/years", models.CalendarYears)

    @staticmethod
    def test_route(category: str | None, district: str | None) -> Call[models.RouteTest]:
        """Where a call of this category and district would be routed, and by which rule."""
        params = _clean({"category": category, "district": district})
        return Call("dispatch", "GET", "/v1/routing-rules/test", models.RouteTest, params=params)

    @staticmethod
    def actions(ticket_id: str) -> Call[models.Actions]:
        """What the caller of this may do with the ticket now, and why not the rest."""
        return Call("dispatch", "GET", f"/v1/tickets/{ticket_id}/actions", models.Actions)

    @staticmethod
    def contact(ticket_id: str) -> Call[models.Caller]:
        """The caller's contact in full, for the unit that must call back (the read is logged)."""
        return Call("intake", "GET", f"/v1/tickets/{ticket_id}/contact", models.Caller)

    # identity
    @staticmethod
    def sign_in(username: str, password: str, totp: str | None = None) -> Call[models.Tokens]:
        """Tokens for a username and password (and a code, for accounts with a second factor)."""
        body = {"username": username, "password": password, "totp": totp}
        return Call("identity", "POST", "/v1/sessions", models.Tokens, json=body)

    @staticmethod
    def oidc_offered() -> Call[models.OidcOffered]:
        """Whether the city's identity provider is offered for signing in, and its name."""
        return Call("identity", "GET", "/v1/oidc", models.OidcOffered)

    @staticmethod
    def oidc_start(redirect_uri: str) -> Call[models.OidcRedirect]:
        body = {"redirect_uri": redirect_uri}
        return Call("identity", "POST", "/v1/sessions/oidc/start", models.OidcRedirect, json=body)

    @staticmethod
    def oidc_finish(state: str, code: str) -> Call[models.Tokens]:
        body = {"state": state, "code": code}
        return Call("identity", "POST", "/v1/sessions/oidc", models.Tokens, json=body)

    @staticmethod
    def renew(refresh_token: str) -> Call[models.Tokens]:
        body = {"refresh_token": refresh_token}
        return Call("identity", "POST", "/v1/sessions/refresh", models.Tokens, json=body)

    @staticmethod
    def sign_out(refresh_token: str) -> Call[Any]:
        body = {"refresh_token": refresh_token}
        return Call("identity", "POST", "/v1/sessions/sign-out", None, json=body)

    @staticmethod
    def me() -> Call[models.Account]:
        return Call("identity", "GET", "/v1/me", models.Account)

    @staticmethod
    def users(**filters: Any) -> Call[models.Accounts]:
        """The directory (admins): filters role, unit_id, disabled, limit, offset."""
        return Call("identity", "GET", "/v1/users", models.Accounts, params=_clean(filters))

    @staticmethod
    def add_user(body: dict[str, Any]) -> Call[models.Account]:
        return _created("identity", "/v1/users", models.Account, body)

    @staticmethod
    def update_user(username: str, body: dict[str, Any]) -> Call[models.Account]:
        return Call("identity", "PATCH", f"/v1/users/{username}", models.Account, json=body)

    @staticmethod
    def sign_out_user(username: str) -> Call[Any]:
        return Call("identity", "POST", f"/v1/users/{username}/sign-out", None, json={})

    @staticmethod
    def user_changes(username: str) -> Call[models.AccountChanges]:
        return Call("identity", "GET", f"/v1/users/{username}/changes", models.AccountChanges)

    @staticmethod
    def labels(service: str = "dispatch") -> Call[models.Labels]:
        """The Chinese (or English) labels of the codes a service answers with."""
        return Call(service, "GET", "/v1/labels", models.Labels)

    @staticmethod
    def search(**filters: Any) -> Call[models.TicketPage]:
        """Tickets by number, words (q), unit, district, category, status, from/to days, ids."""
        return Call("dispatch", "GET", "/v1/tickets", models.TicketPage, params=_clean(filters))

    @staticmethod
    def categories() -> Call[models.Categories]:
        """The two-level category catalogue with the Chinese names."""
        return Call("intake", "GET", "/v1/catalogues/categories", models.Categories)

    @staticmethod
    def places() -> Call[models.Places]:
        """The districts and their streets and towns."""
        return Call("intake", "GET", "/v1/catalogues/places", models.Places)

    # dispatch: the directory (administrators change it; everyone reads it)
    @staticmethod
    def units(
        kind: str | None = None, district: str | None = None, *, inactive: bool = False
    ) -> Call[models.Units]:
        params = _clean({"kind": kind, "district": district, "inactive": inactive or None})
        return Call("dispatch", "GET", "/v1/units", models.Units, params=params)

    @staticmethod
    def add_unit(body: dict[str, Any]) -> Call[models.Unit]:
        return _created("dispatch", "/v1/units", models.Unit, body)

    @staticmethod
    def update_unit(unit_id: str, changes: dict[str, Any]) -> Call[models.Unit]:
        """Rename, move or deactivate (``active: False``) a unit."""
        return Call("dispatch", "PATCH", f"/v1/units/{unit_id}", models.Unit, json=changes)

    @staticmethod
    def routing_rules() -> Call[models.RoutingRules]:
        return Call("dispatch", "GET", "/v1/routing-rules", models.RoutingRules)

    @staticmethod
    def add_routing_rule(rule: dict[str, Any]) -> Call[models.RoutingRule]:
        return _created("dispatch", "/v1/routing-rules", models.RoutingRule, rule)

    @staticmethod
    def delete_routing_rule(rule_id: int) -> Call[Any]:
        return Call("dispatch", "DELETE", f"/v1/routing-rules/{rule_id}", None)

    @staticmethod
    def desks() -> Call[models.Desks]:
        """How many tickets wait on each of the agency's desks."""
        return Call("dispatch", "GET", "/v1/queues", models.Desks)

    @staticmethod
    def desk(queue: str, cursor: str | None = None, limit: int = 50) -> Call[models.DeskPage]:
        """One desk, least time left first, paged."""
        params = _clean({"cursor": cursor, "limit": limit})
        return Call("dispatch", "GET", f"/v1/queues/{queue}", models.DeskPage, params=params)

    @staticmethod
    def ticket(ticket_id: str) -> Call[models.Ticket]:
        return Call("dispatch", "GET", f"/v1/tickets/{ticket_id}", models.Ticket)

    @staticmethod
    def history(ticket_id: str) -> Call[models.History]:
        return Call("dispatch", "GET", f"/v1/tickets/{ticket_id}/history", models.History)

    @staticmethod
    def record_contact(
        ticket_id: str, method: str, at: str | None = None, note: str | None = None
    ) -> Call[models.Ticket]:
        """The unit contacted the caller (响应): how, and when (default: now)."""
        body = _clean({"method": method, "at": at, "note": note})
        path = f"/v1/tickets/{ticket_id}/contact-record"
        return Call("dispatch", "POST", path, models.Ticket, json=body)

    @staticmethod
    def notifications(ticket_id: str) -> Call[models.NotificationList]:
        """What the ticket's steps sent to units (dispatch)."""
        path = f"/v1/tickets/{ticket_id}/notifications"
        return Call("dispatch", "GET", path, models.NotificationList)

    @staticmethod
    def caller_notifications(ticket_id: str) -> Call[models.NotificationList]:
        """The SMS the caller was sent about the ticket (intake; never the number)."""
        path = f"/v1/tickets/{ticket_id}/notifications"
        return Call("intake", "GET", path, models.NotificationList)

    @staticmethod
    def channels(owner_path: str) -> Call[models.ChannelList]:
        """A unit's channels (``units/<unit id>``) or the supervisors' (``supervisors``)."""
        return Call("dispatch", "GET", f"/v1/{owner_path}/channels", models.ChannelList)

    @staticmethod
    def add_channel(
        owner_path: str, kind: str, name: str, target: str, kinds: list[str] | None = None
    ) -> Call[models.Channel]:
        body = {"kind": kind, "name": name, "target": target, "kinds": kinds or []}
        return _created("dispatch", f"/v1/{owner_path}/channels", models.Channel, body)

    @staticmethod
    def update_channel(owner_path: str, channel_id: str, **changes: Any) -> Call[models.Channel]:
        path = f"/v1/{owner_path}/channels/{channel_id}"
        return Call("dispatch", "PATCH", path, models.Channel, json=changes)

    @staticmethod
    def sink(service: str) -> Call[models.SinkMessages]:
        """Development: what a service's sink received (e-mail, SMS), newest first."""
        return Call(service, "GET", "/v1/dev/notifications", models.SinkMessages)

    @staticmethod
    def sent(owner_path: str) -> Call[models.NotificationList]:
        """What a unit (or the supervisors) were sent, newest first."""
        return Call("dispatch", "GET", f"/v1/{owner_path}/notifications", models.NotificationList)

    @staticmethod
    def dispatch(
        ticket_id: str, unit_id: str | None = None, co_handlers: list[str] | None = None
    ) -> Call[models.Ticket]:
        return Call(
            "dispatch",
            "POST",
            f"/v1/tickets/{ticket_id}/dispatch",
            models.Ticket,
            json=_clean({"unit_id": unit_id, "co_handlers": co_handlers or []}),
        )

    @staticmethod
    def decide_return(
        return_id: int, decision: str, reason: str, co_handlers: list[str] | None = None
    ) -> Call[models.Ticket]:
        return Call(
            "dispatch",
            "POST",
            f"/v1/returns/{return_id}/decision",
            models.Ticket,
            json={"decision": decision, "reason": reason, "co_handlers": co_handlers or []},
        )

    @staticmethod
    def determine(ticket_id: str, body: dict[str, Any]) -> Call[models.Ticket]:
        return Call(
            "dispatch", "POST", f"/v1/tickets/{ticket_id}/determination", models.Ticket, json=body
        )

    @staticmethod
    def revisit(
        ticket_id: str, channel: str, reached: bool, note: str | None = None
    ) -> Call[models.Ticket]:
        """Art 20: an attempt to reach the caller for a rating (three failed: no rating)."""
        return Call(
            "dispatch",
            "POST",
            f"/v1/tickets/{ticket_id}/revisits",
            models.Ticket,
            json=_clean({"channel": channel, "reached": reached, "note": note}),
        )

    @staticmethod
    def determinations(principle_status: str | None = None) -> Call[models.Determinations]:
        return Call(
            "dispatch",
            "GET",
            "/v1/determinations",
            models.Determinations,
            params=_clean({"principle_status": principle_status}),
        )

    @staticmethod
    def review_principle(
        determination_id: int, approved: bool, reason: str
    ) -> Call[models.Determination]:
        """Art 16 ¶3: approve a determination's principle as a routing rule, or reject it."""
        return Call(
            "dispatch",
            "POST",
            f"/v1/determinations/{determination_id}/principle-review",
            models.Determination,
            json={"approved": approved, "reason": reason},
        )

    @staticmethod
    def review_feedback(
        ticket_id: str,
        approved: bool,
        reason: str | None = None,
        *,
        resolution_judged: str | None = None,
    ) -> Call[models.Ticket]:
        """Approve the feedback (optionally judging whether it solved the problem) or send
        it back with a reason."""
        body = {"approved": approved, "reason": reason, "resolution_judged": resolution_judged}
        return Call(
            "dispatch",
            "POST",
            f"/v1/tickets/{ticket_id}/feedback/review",
            models.Ticket,
            json=_clean(body),
        )

    @staticmethod
    def evaluate(ticket_id: str, rating: str, resolution: str = "no_answer") -> Call[models.Ticket]:
        """The caller's rating and whether they say the problem was solved."""
        return Call(
            "dispatch",
            "POST",
            f"/v1/tickets/{ticket_id}/evaluation",
            models.Ticket,
            json={"rating": rating, "resolution": resolution},
        )

    @staticmethod
    def invite_evaluation(ticket_id: str, channel: str) -> Call[models.Invitation]:
        """Art 20 ¶2: a link for the caller to rate the ticket themselves."""
        return _created(
            "dispatch",
            f"/v1/tickets/{ticket_id}/evaluation-invitation",
            models.Invitation,
            {"channel": channel},
        )

    @staticmethod
    def await_legal_procedure(
        ticket_id: str, procedure: str, reference: str, guidance_department: str
    ) -> Call[models.Ticket]:
        """Art 21 ¶2: the matter waits on a legal procedure; handling pauses, reports fall due."""
        body = {
            "procedure": procedure,
            "reference": reference,
            "guidance_department": guidance_department,
        }
        return Call(
            "dispatch", "POST", f"/v1/tickets/{ticket_id}/legal-procedure", models.Ticket, json=body
        )

    @staticmethod
    def legal_procedure_ended(ticket_id: str, reason: str) -> Call[models.Ticket]:
        """Art 21 ¶2: the procedure ended; the final feedback is due in 3 working days."""
        return Call(
            "dispatch",
            "POST",
            f"/v1/tickets/{ticket_id}/legal-procedure-ended",
            models.Ticket,
            json={"reason": reason},
        )

    @staticmethod
    def report_progress(ticket_id: str, progress: str) -> Call[models.Ticket]:
        """Art 21: a periodic progress report."""
        return Call(
            "dispatch",
            "POST",
            f"/v1/tickets/{ticket_id}/progress",
            models.Ticket,
            json={"plan": progress},
        )

    @staticmethod
    def legal_procedures(guidance_department: str | None = None) -> Call[models.TicketPage]:
        """Art 21: open matters with a legal procedure, the next report due first."""
        params = _clean({"guidance_department": guidance_department})
        return Call("dispatch", "GET", "/v1/legal-procedures", models.TicketPage, params=params)

    @staticmethod
    def rehandle(ticket_id: str, reason: str) -> Call[models.Ticket]:
        return Call(
            "dispatch",
            "POST",
            f"/v1/tickets/{ticket_id}/rehandle",
            models.Ticket,
            json={"reason": reason},
        )

    @staticmethod
    def import_routing_rule(rule: dict[str, Any]) -> Call[models.Loaded]:
        return _created("dispatch", "/v1/routing-rules", models.Loaded, rule)

    @staticmethod
    def import_routing_rules(rules: list[dict[str, Any]]) -> Call[models.RoutingImport]:
        """All or nothing; a re-run adds nothing twice."""
        return _created(
            "dispatch", "/v1/routing-rules/import", models.RoutingImport, {"rules": rules}
        )

    # dispatch: units
    @staticmethod
    def unit_tickets(
        unit_id: str,
        *,
        overdue: bool | None = None,
        status: str | None = None,
        cursor: str | None = None,
        etag: str | None = None,
    ) -> Call[models.TicketPage]:
        return Call(
            "dispatch",
            "GET",
            f"/v1/units/{unit_id}/tickets",
            models.TicketPage,
            params=_clean({"overdue": overdue, "status": status, "cursor": cursor}),
            headers={"If-None-Match": etag} if etag else {},
        )

    @staticmethod
    def accept(ticket_id: str) -> Call[models.Ticket]:
        return Call("dispatch", "POST", f"/v1/tickets/{ticket_id}/accept", models.Ticket, json={})

    @staticmethod
    def apply_to_return(ticket_id: str, reason: str, basis: str) -> Call[models.ReturnApplication]:
        return Call(
            "dispatch",
            "POST",
            f"/v1/tickets/{ticket_id}/returns",
            models.ReturnApplication,
            json={"reason": reason, "basis": basis},
        )

    @staticmethod
    def extend(
        ticket_id: str, reason: str, told: str | None = None, *, caller_notified: bool = True
    ) -> Call[models.Ticket]:
        """Art 18: the caller has been told the reason and the new limit (``told``: the words)."""
        body = {"reason": reason, "caller_notified": caller_notified, "told_caller": told}
        return _created(
            "dispatch", f"/v1/tickets/{ticket_id}/extensions", models.Ticket, _clean(body)
        )

    @staticmethod
    def caller_record(ticket_id: str) -> Call[models.CallerRecord]:
        """Art 11(4), 17, 18: what a caller asking about progress is told."""
        return Call(
            "dispatch", "GET", f"/v1/tickets/{ticket_id}/caller-record", models.CallerRecord
        )

    @staticmethod
    def designate(ticket_id: str, sub_unit_id: str) -> Call[models.Ticket]:
        return Call(
            "dispatch",
            "POST",
            f"/v1/tickets/{ticket_id}/designate",
            models.Ticket,
            json={"sub_unit_id": sub_unit_id},
        )

    @staticmethod
    def sub_unit_result(ticket_id: str, body: dict[str, Any]) -> Call[models.Ticket]:
        """The sub-unit reports its result to the unit that designated it (Art 6, 19)."""
        path = f"/v1/tickets/{ticket_id}/sub-unit-result"
        return Call("dispatch", "POST", path, models.Ticket, json=body)

    @staticmethod
    def review_sub_unit_result(
        ticket_id: str, approved: bool, reason: str | None = None
    ) -> Call[models.Ticket]:
        """Art 19: the unit approves its sub-unit's result, or sends it back."""
        path = f"/v1/tickets/{ticket_id}/sub-unit-result/review"
        body = _clean({"approved": approved, "reason": reason})
        return Call("dispatch", "POST", path, models.Ticket, json=body)

    @staticmethod
    def feedback(ticket_id: str, body: dict[str, Any]) -> Call[models.Ticket]:
        return Call(
            "dispatch", "POST", f"/v1/tickets/{ticket_id}/feedback", models.Ticket, json=body
        )

    # sla
    @staticmethod
    def overdue(group_by: str = "unit", **filters: Any) -> Call[models.Dashboard]:
        return Call(
            "sla",
            "GET",
            "/v1/dashboard/overdue",
            models.Dashboard,
            params=_clean({"group_by": group_by, **filters}),
        )

    @staticmethod
    def due_soon(group_by: str = "unit", **filters: Any) -> Call[models.Dashboard]:
        return Call(
            "sla",
            "GET",
            "/v1/dashboard/due-soon",
            models.Dashboard,
            params=_clean({"group_by": group_by, **filters}),
        )

    @staticmethod
    def kpis(unit: str, date_from: str, date_to: str) -> Call[models.Kpis]:
        return Call(
            "sla",
            "GET",
            "/v1/kpis",
            models.Kpis,
            params={"unit": unit, "from": date_from, "to": date_to},
        )

    @staticmethod
    def kpis_of_units(date_from: str, date_to: str) -> Call[models.KpisList]:
        params = {"from": date_from, "to": date_to}
        return Call("sla", "GET", "/v1/kpis/units", models.KpisList, params=params)

    @staticmethod
    def ranking(month: str, district: str | None = None) -> Call[models.Ranking]:
        """Every unit's assessment score of the month (YYYY-MM), rank and change."""
        params = _clean({"month": month, "district": district})
        return Call("sla", "GET", "/v1/rankings", models.Ranking, params=params)

    @staticmethod
    def kpis_breakdown(
        by: str, date_from: str, date_to: str, district: str | None = None
    ) -> Call[models.KpisGroups]:
        """The measures per district, street or category of the tickets, or of ``all``."""
        params = _clean({"by": by, "from": date_from, "to": date_to, "district": district})
        return Call("sla", "GET", "/v1/kpis/breakdown", models.KpisGroups, params=params)

    @staticmethod
    def ranking_of(unit_id: str, month: str) -> Call[models.RankingExplanation]:
        """What cost a unit its points in the month, with the tickets."""
        path = f"/v1/rankings/{unit_id}"
        return Call("sla", "GET", path, models.RankingExplanation, params={"month": month})

    @staticmethod
    def kpis_trend(unit_id: str, by: str, date_from: str, date_to: str) -> Call[models.KpisGroups]:
        """A unit's measures week by week or month by month."""
        params = {"unit": unit_id, "by": by, "from": date_from, "to": date_to}
        return Call("sla", "GET", "/v1/kpis/trend", models.KpisGroups, params=params)

    @staticmethod
    def hotspots(week: str | None = None, district: str | None = None) -> Call[models.Hotspots]:
        """The categories rising in a district or street in a week (its Monday; default:
        last week)."""
        params = _clean({"week": week, "district": district})
        return Call("sla", "GET", "/v1/hotspots", models.Hotspots, params=params)

    @staticmethod
    def clusters(week: str | None = None, district: str | None = None) -> Call[models.Clusters]:
        """One matter at one place raised by several callers, with a ticket in the week."""
        params = _clean({"week": week, "district": district})
        return Call("intake", "GET", "/v1/clusters", models.Clusters, params=params)

    @staticmethod
    def hotspot_reviews(week: str, district: str | None = None) -> Call[models.HotspotReviews]:
        """Every decision taken on the week's hotspots and clusters."""
        params = _clean({"week": week, "district": district})
        return Call("sla", "GET", "/v1/hotspots/reviews", models.HotspotReviews, params=params)

    @staticmethod
    def review_hotspot(body: dict[str, Any]) -> Call[models.HotspotReview]:
        """Mark a hotspot or cluster reviewed, or supervise each of its matters still being
        handled."""
        return _created("sla", "/v1/hotspots/reviews", models.HotspotReview, body)

    @staticmethod
    def volume(by: str, date_from: str, date_to: str, **filters: Any) -> Call[models.Volume]:
        """Tickets whose handling began in the period, and the late ones, per week, unit,
        district or category."""
        params = _clean({"by": by, "from": date_from, "to": date_to, **filters})
        return Call("sla", "GET", "/v1/dashboard/volume", models.Volume, params=params)

    @staticmethod
    def supervisions(**filters: Any) -> Call[models.Supervisions]:
        return Call("sla", "GET", "/v1/supervisions", models.Supervisions, params=_clean(filters))

    @staticmethod
    def answer_supervision(supervision_id: int, response: str) -> Call[models.Supervision]:
        """Art 23: the unit answers a supervision addressed to it."""
        return Call(
            "sla",
            "POST",
            f"/v1/supervisions/{supervision_id}/response",
            models.Supervision,
            json={"response": response},
        )

    @staticmethod
    def close_supervision(supervision_id: int, outcome: str) -> Call[models.Supervision]:
        return Call(
            "sla",
            "POST",
            f"/v1/supervisions/{supervision_id}/close",
            models.Supervision,
            json={"outcome": outcome},
        )

    @staticmethod
    def open_supervision(body: dict[str, Any]) -> Call[models.Supervision]:
        """Art 23: supervise a ticket (a guidance department: the Art 21 matters it oversees)."""
        return _created("sla", "/v1/supervisions", models.Supervision, body)

    @staticmethod
    def load_year(year: int, schedule: dict[str, Any]) -> Call[models.Loaded]:
        return Call("sla", "PUT", f"/v1/calendar/years/{year}", models.Loaded, json=schedule)

    @staticmethod
    def time_limits() -> Call[models.TimeLimits]:
        """Every time limit ever set (rows are never rewritten)."""
        return Call("sla", "GET", "/v1/time-limits", models.TimeLimits)

    @staticmethod
    def add_time_limit(body: dict[str, Any]) -> Call[models.TimeLimit]:
        """A limit for clocks started from ``effective_from`` on (Art 17: finer limits)."""
        return _created("sla", "/v1/time-limits", models.TimeLimit, body)

    @staticmethod
    def scan() -> Call[models.Scan]:
        return Call("sla", "POST", "/v1/scan", models.Scan, json={})

    @staticmethod
    def advance_clock(service: str, days: float) -> Call[models.Clock]:
        return Call(service, "POST", "/v1/dev/clock/advance", models.Clock, json={"days": days})


@dataclass
class Answer(Generic[M]):
    """A parsed answer, its ETag, and whether the server said nothing changed (304)."""

    value: M | None
    etag: str | None
    not_modified: bool = False


def _interpret(call: Call[M], response: httpx.Response) -> Answer[M]:
    if response.status_code == 304:
        return Answer(None, response.headers.get("etag"), not_modified=True)
    if response.status_code >= 400:
        try:
            error = response.json()["error"]
            code, message = str(error["code"]), str(error["message"])
        except (ValueError, KeyError, TypeError):
            code, message = "http_error", f"HTTP {response.status_code}"
        kind = Refused if response.status_code == 409 else BadRequest
        raise kind(
            f"{call.service}: {message}", status=response.status_code, code=code, said=message
        )
    if call.raw:
        return Answer(response.content, response.headers.get("etag"))  # type: ignore[arg-type]
    value = call.model.model_validate(response.json()) if call.model else None
    return Answer(value, response.headers.get("etag"))


class _Base:
    def __init__(
        self,
        *,
        token: str | None = None,
        endpoints: Endpoints | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        language: str = "zh-CN",
    ) -> None:
        self.transport: Any = transport  # tests hand in an httpx.MockTransport
        self.endpoints = endpoints or Endpoints.from_env()
        self.token = token or os.environ.get("HOTLINE_TOKEN")
        self.language = language  # the services' refusals come back in it
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 3.0))

    def _request(self, call: Call[Any]) -> dict[str, Any]:
        headers = {"Accept-Language": self.language, **call.headers}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return {
            "method": call.method,
            "url": getattr(self.endpoints, call.service) + call.path,
            "json": call.json,
            "params": call.params,
            "headers": headers,
            "files": {"file": call.file} if call.file else None,
        }

    @staticmethod
    def _retryable(
        call: Call[Any], attempt: int, error: Exception | None, response: httpx.Response | None
    ) -> bool:
        failed = error is not None or (response is not None and response.status_code >= 500)
        return failed and call.repeatable and attempt < RETRIES - 1


class Client(_Base, Calls):
    """Blocking client: ``Client(token=...).run(Client.queue())`` or the shortcuts."""

    def run(self, call: Call[M]) -> Answer[M]:
        with httpx.Client(timeout=self.timeout, transport=self.transport) as http:
            for attempt in range(RETRIES):
                error, response = None, None
                try:
                    response = http.request(**self._request(call))
                except httpx.TransportError as exc:
                    error = exc
                if not self._retryable(call, attempt, error, response):
                    break
                time.sleep(0.3 * 2**attempt)
        return _finish(call, error, response)

    def get(self, call: Call[M]) -> M:
        value = self.run(call).value
        assert value is not None
        return value


class AsyncClient(_Base, Calls):
    """The same calls for asyncio code. A long-running process hands in one ``http`` client
    for all its calls: its connections are kept, and no call builds a client (and its TLS
    context) of its own."""

    def __init__(self, *, http: httpx.AsyncClient | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.http = http

    async def run(self, call: Call[M]) -> Answer[M]:
        if self.http is not None:
            return await self._run(self.http, call)
        async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport) as http:
            return await self._run(http, call)

    async def _run(self, http: httpx.AsyncClient, call: Call[M]) -> Answer[M]:
        for attempt in range(RETRIES):
            error, response = None, None
            try:
                response = await http.request(**self._request(call), timeout=self.timeout)
            except httpx.TransportError as exc:
                error = exc
            if not self._retryable(call, attempt, error, response):
                break
            await asyncio.sleep(0.3 * 2**attempt)
        return _finish(call, error, response)

    async def get(self, call: Call[M]) -> M:
        value = (await self.run(call)).value
        assert value is not None
        return value


def _finish(call: Call[M], error: Exception | None, response: httpx.Response | None) -> Answer[M]:
    if error is not None or response is None:
        raise Unavailable(f"{call.service} unreachable: {type(error).__name__}")
    if response.status_code >= 500:
        raise Unavailable(
            f"{call.service} failed with {response.status_code}", status=response.status_code
        )
    return _interpret(call, response)


__all__ = ["Answer", "AsyncClient", "Call", "Calls", "Client", "Endpoints", "HotlineError"]
