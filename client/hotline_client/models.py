"""Typed answers of the baseline contract; unknown fields are kept, so newer servers work."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, RootModel


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class Caller(_Model):
    name: str | None = None
    phone: str | None = None
    address: str | None = None
    masked: bool = True


class IntakeTicket(_Model):
    id: str
    number: str
    ticket_type: str
    category: str | None = None
    district: str | None = None
    text: str
    outcome: str
    disposition: str
    status: str
    assigned_unit: str | None = None
    caller: Caller
    received_at: datetime


class IntakeTicketList(_Model):
    items: list[IntakeTicket]


class Attachment(_Model):
    id: str
    kind: str
    content_type: str
    size: int
    added_by: str
    added_at: datetime


class Attachments(RootModel[list[Attachment]]):
    pass


class Submission(_Model):
    """A citizen's submission awaiting review (the public form or an Open311 application)."""

    id: str
    number: str
    source: str
    client_name: str | None = None
    ticket_type: str | None = None
    category: str | None = None
    text: str
    place: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    district: str | None = None
    caller_name: str | None = None
    caller_phone: str | None = None
    contact_consent: bool
    media_url: str | None = None
    received_at: datetime
    ticket_id: str | None = None
    attachments: list[Attachment] = []


class SubmissionPage(_Model):
    items: list[Submission]
    total: int


class Open311Client(_Model):
    id: str
    name: str
    active: bool
    created_at: datetime
    created_by: str
    api_key: str | None = None


class Open311Clients(_Model):
    items: list[Open311Client]


class Guess(_Model):
    value: str | None
    confidence: float
    evidence: str
    low_confidence: bool = False
    alternatives: list[tuple[str, float]] = []
    words: list[str] = []


class DispositionGuess(_Model):
    value: str
    emergency_number: str | None = None
    confidence: float
    low_confidence: bool = False
    evidence: str
    words: list[str] = []
    related_ticket: str | None = None


class Classification(_Model):
    type: Guess
    disposition: DispositionGuess
    category: Guess
    district: dict[str, Any]
    kb_matches: list[dict[str, Any]]
    related_tickets: list[dict[str, Any]]
    model_version: str


class CatalogueCategory(_Model):
    code: str
    name: str
    children: list[CatalogueCategory] = []


class Categories(_Model):
    version: str
    items: list[CatalogueCategory]


class District(_Model):
    name: str
    streets: list[str]


class Places(_Model):
    version: str
    items: list[District]


class Unit(_Model):
    id: str
    name: str
    kind: str
    district: str | None = None
    street: str | None = None
    parent_id: str | None = None
    active: bool = True


class Units(_Model):
    items: list[Unit]


class RoutingRule(_Model):
    id: int
    category: str | None = None
    district: str | None = None
    unit_id: str
    priority: int
    note: str


class RoutingRules(_Model):
    items: list[RoutingRule]


class KbEntry(_Model):
    id: str
    question: str
    answer: str
    owning_unit: str
    version: int
    review_status: str
    updated_at: datetime


class KbEntries(_Model):
    items: list[KbEntry]


class TimeLimit(_Model):
    id: int
    clock_kind: str
    ticket_type: str | None = None
    category: str | None = None
    working_days: int
    hours: int | None = None  # a contact limit in hours (urgent matters)
    max_extensions: int = 0
    effective_from: datetime
    created_by: str
    reason: str


class TimeLimits(_Model):
    items: list[TimeLimit]


class KbHit(_Model):
    kind: str
    id: str
    text: str
    source: str
    section: str | None = None
    score: float
    sentence: str = ""
    relevant: bool = True


class KbSearch(_Model):
    query: str
    items: list[KbHit]
    answered: bool = True


class Note(_Model):
    id: str
    ticket_id: str
    forwarded: bool


class ConductRecord(_Model):
    """A warning of the rules (Art 12 ¶2) or a referral of malicious use (Art 27)."""

    id: int
    ticket_id: str
    kind: str
    note: str
    referred_to: str | None = None
    at: datetime
    by: str


class ConductList(_Model):
    items: list[ConductRecord]


class Ticket(_Model):
    """A ticket as dispatch holds it."""

    id: str
    number: str
    ticket_type: str
    category: str | None = None
    district: str | None = None
    summary: str
    status: str
    lead_unit: str | None = None
    co_handlers: list[str] = []
    suggested_unit: str | None = None
    suggested_rule_id: int | None = None
    handling_due_at: datetime | None = None
    due_provisional: bool = False
    dispatch_due_at: datetime | None = None
    overdue: bool = False
    difficult: bool = False
    legal_procedure: str | None = None
    guidance_department: str | None = None
    progress_due_at: datetime | None = None
    summary_line: str = ""


class Invitation(_Model):
    """Art 20 ¶2: the caller's rating link (a bearer token for this ticket's rating only)."""

    ticket_id: str
    token: str
    expires_at: datetime


class CallerRecordEntry(_Model):
    at: datetime
    action: str
    reason: str | None = None
    due_at: datetime | None = None
    told_caller: str | None = None


class CallerRecord(_Model):
    """What a caller asking about progress is told (Art 11(4), 17, 18)."""

    ticket_id: str
    number: str
    status: str
    handling_due_at: datetime | None = None
    entries: list[CallerRecordEntry] = []


class TicketPage(_Model):
    items: list[Ticket]
    next_cursor: str | None = None
    count: int | None = None  # searches and the queue say how many match in all


class Determination(_Model):
    """Art 16: how a difficult ticket was settled; its principle awaits approval, or not."""

    id: int
    ticket_id: str
    unit_id: str
    principle: str | None = None
    principle_status: str | None = None  # proposed | approved | rejected
    principle_review_reason: str | None = None
    routing_rule_id: int | None = None
    decided_at: datetime


class Determinations(_Model):
    items: list[Determination]


class ReturnApplication(_Model):
    id: int
    ticket_id: str
    unit_id: str


class HistoryEntry(_Model):
    at: datetime
    actor: str
    role: str
    unit_id: str | None = None
    action: str
    status: str
    reason: str | None = None


class History(_Model):
    ticket_id: str
    chain_intact: bool
    items: list[HistoryEntry]


class Notification(_Model):
    id: str
    kind: str
    owner: str
    ticket_id: str | None = None
    channel_kind: str | None = None
    channel_name: str | None = None
    state: str
    attempts: int
    last_error: str | None = None
    created_at: datetime
    sent_at: datetime | None = None


class NotificationList(_Model):
    items: list[Notification]


class SinkMessage(_Model):
    at: datetime
    id: str
    channel: str
    kind: str
    to: str  # masked
    title: str
    text: str


class SinkMessages(_Model):
    items: list[SinkMessage]


class Channel(_Model):
    id: str
    owner: str
    kind: str
    name: str
    target: str
    kinds: list[str]
    active: bool
    secret: str | None = None  # a webhook's, only when created or renewed


class ChannelList(_Model):
    items: list[Channel]


class Group(_Model):
    key: str | None
    count: int


class DashboardItem(_Model):
    ticket_id: str
    number: str | None = None
    clock: str
    unit_id: str | None = None
    district: str | None = None
    due_at: str
    provisional: bool = False
    working_days_late: int


class Dashboard(_Model):
    total: int
    group_by: str
    groups: list[Group]
    items: list[DashboardItem]


class Kpis(_Model):
    unit: str
    from_date: date
    to_date: date
    received: int
    closed: int
    on_time_rate: float | None = None
    overdue: int
    working_days_late: int


class Supervision(_Model):
    id: int
    ticket_id: str
    number: str | None = None
    unit_id: str | None = None
    reason: str
    method: str
    note: str | None = None
    opened_at: datetime
    response: str | None = None
    responded_at: datetime | None = None
    closed_at: datetime | None = None


class Supervisions(_Model):
    items: list[Supervision]


class Clock(_Model):
    now: str
    offset_seconds: float


class Scan(_Model):
    breached: int


class Loaded(_Model):
    """Any acknowledgement whose shape the CLI only prints."""


class Labels(_Model):
    lang: str
    labels: dict[str, dict[str, str]]


class DeskCount(_Model):
    queue: str
    count: int


class Desks(_Model):
    items: list[DeskCount]


class DeskItem(_Model):
    ticket: Ticket
    last_change: datetime
    due_at: datetime | None = None
    return_request: dict[str, Any] | None = None


class DeskPage(_Model):
    queue: str
    count: int
    items: list[DeskItem]
    next_cursor: str | None = None


class VolumeGroup(_Model):
    key: str | None = None
    received: int
    late: int


class Volume(_Model):
    by: str
    groups: list[VolumeGroup]


class KpisList(_Model):
    items: list[dict[str, Any]]


class KpisGroups(_Model):
    by: str
    items: list[dict[str, Any]]


class Hotspots(_Model):
    week: date
    alpha: float
    items: list[dict[str, Any]]


class Clusters(_Model):
    week: date
    weeks: int
    items: list[dict[str, Any]]


class HotspotReview(_Model):
    week: date | None = None
    category: str | None = None
    district: str | None = None
    street: str | None = None
    cluster: str | None = None
    decision: str
    note: str | None = None
    supervisions: int
    decided_at: datetime
    decided_by: str


class HotspotReviews(_Model):
    week: date
    items: list[HotspotReview]


class Ranking(_Model):
    month: str
    previous_month: str
    items: list[dict[str, Any]]


class RankingExplanation(_Model):
    month: str
    unit: dict[str, Any]
    tickets: list[dict[str, Any]]


class RoutingImport(_Model):
    created: int
    already_there: int


class ActionAllowed(_Model):
    action: str
    allowed: bool
    code: str | None = None
    message: str | None = None


class Actions(_Model):
    ticket_id: str
    items: list[ActionAllowed]


class TimeLeft(_Model):
    due_at: datetime
    working_days_left: int
    hours_left: float | None = None
    working_days_late: int


class TimeLeftRead(_Model):
    now: datetime
    items: list[TimeLeft]


class CalendarYears(_Model):
    package_years: list[int]
    loaded: list[dict[str, Any]]


class RouteTest(_Model):
    category: str | None = None
    district: str | None = None
    unit_id: str | None = None
    rule: dict[str, Any] | None = None


class Account(_Model):
    """A person in the directory (identity)."""

    username: str
    display_name: str
    role: str
    unit_id: str | None = None
    district: str | None = None
    totp: bool = False
    password: bool = True
    disabled_at: datetime | None = None
    locked_until: datetime | None = None


class Accounts(_Model):
    total: int
    items: list[Account]


class Tokens(_Model):
    access_token: str
    expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    account: Account


class AccountChange(_Model):
    username: str
    action: str
    detail: dict[str, Any]
    at: datetime
    by: str


class AccountChanges(_Model):
    items: list[AccountChange]


class OidcOffered(_Model):
    enabled: bool
    display_name: str


class OidcRedirect(_Model):
    authorize_url: str
