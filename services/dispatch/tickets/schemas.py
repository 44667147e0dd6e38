"""Dispatch's ticket API shapes."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dispatch.workflow.rules import (
    ConsultedBody,
    DisputeKind,
    LegalProcedure,
    PrincipleStatus,
    Rating,
    ReturnDecision,
)
from shared.schemas import Instant, Words
from shared.vocabulary import Resolution

Text = Field(max_length=2000)


class TicketRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    number: str
    ticket_type: str
    category: str | None
    district: str | None
    street: str | None
    summary: str
    summary_line: str = Field(default="", description="the matter in one line, for lists")
    repeat_of: str | None
    line: str
    line_unit: str | None
    status: str
    lead_unit: str | None
    co_handlers: list[str]
    sub_unit: str | None
    approved_returns: int
    difficult: bool = False
    determined_unit: str | None
    verification_open: bool
    rehandled: bool
    suggested_unit: str | None
    suggested_rule_id: int | None
    received_at: datetime
    dispatch_due_at: datetime | None
    verification_due_at: datetime | None
    handling_due_at: datetime | None
    due_provisional: bool
    overdue: bool
    dispatch_overdue: bool
    long_running_plan: str | None
    legal_procedure: LegalProcedure | None
    legal_procedure_reference: str | None
    guidance_department: str | None
    progress_due_at: datetime | None
    new_situation_pending: bool
    updated_at: datetime


class TicketPage(BaseModel):
    items: list[TicketRead]
    next_cursor: str | None


class TicketSearchPage(TicketPage):
    count: int = Field(description="how many match in all")


class DispatchRequest(BaseModel):
    unit_id: str | None = Field(default=None, description="default: the suggested unit")
    co_handlers: list[str] = Field(default_factory=list, max_length=20)


class ReturnCreate(BaseModel):
    """Art 14: a return application carries a reason and its basis."""

    reason: Words = Text
    basis: Words = Field(max_length=2000, description="依据: the rule or fact")


class ReturnRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: str
    unit_id: str
    reason: str
    basis: str
    requested_at: datetime
    decision: str | None
    decision_reason: str | None
    decided_at: datetime | None


class ReturnDecisionCreate(BaseModel):
    decision: ReturnDecision
    reason: Words = Text
    co_handlers: list[str] = Field(default_factory=list, max_length=20)


class DeterminationCreate(BaseModel):
    """Art 16: the unit determined after consulting, and the principle for similar tickets."""

    dispute_kind: DisputeKind
    consulted_body: ConsultedBody
    unit_id: str
    co_handlers: list[str] = Field(default_factory=list, max_length=20)
    principle: str | None = Field(default=None, max_length=2000)
    record_as_routing_rule: bool = Field(
        default=False, description="propose the principle for approval as a routing rule"
    )


class RevisitChannel(StrEnum):
    PHONE = "phone"
    SMS = "sms"
    WECHAT = "wechat"
    WEB = "web"


class RevisitCreate(BaseModel):
    """Art 20: who was tried, how, and whether the caller was reached."""

    channel: RevisitChannel
    reached: bool
    note: Words | None = Field(default=None, max_length=2000)


class PrincipleReview(BaseModel):
    """Art 16 ¶3: the principle approved (it becomes a routing rule) or rejected, and why."""

    approved: bool
    reason: Words = Text


class DeterminationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: str
    dispute_kind: DisputeKind
    consulted_body: ConsultedBody
    unit_id: str
    principle: str | None
    principle_status: PrincipleStatus | None
    principle_reviewed_at: datetime | None
    principle_reviewed_by: str | None
    principle_review_reason: str | None
    routing_rule_id: int | None
    decided_at: datetime
    decided_by: str


class DeterminationsRead(BaseModel):
    items: list[DeterminationRead]


class DesignateRequest(BaseModel):
    sub_unit_id: str


class FeedbackCreate(BaseModel):
    """Art 19(2): handling time, process, result, how the caller was answered."""

    handling_time: str = Field(default="", max_length=200)
    process: str = Field(default="", max_length=4000)
    result: str = Field(default="", max_length=4000)
    caller_reply: str = Field(default="", max_length=2000)
    finding: str | None = Field(
        default=None, max_length=200, description="an Art 11(2)–(5) finding, where one applies"
    )


class ContactMethod(StrEnum):
    PHONE = "phone"
    SMS = "sms"
    VISIT = "visit"  # in person, on site
    ONLINE = "online"  # WeChat, the web, an app


class ContactCreate(BaseModel):
    """The unit's first contact with the caller (响应): how, and when it happened."""

    method: ContactMethod
    at: Instant | None = Field(
        default=None, description="when the caller was reached (default: now); not later"
    )
    note: Words | None = Field(default=None, max_length=2000)


class ReviewRequest(BaseModel):
    approved: bool
    reason: str | None = Field(default=None, max_length=2000)
    resolution_judged: Resolution | None = Field(
        default=None, description="the agency's own judgement of whether it was solved"
    )


class EvaluationCreate(BaseModel):
    rating: Rating
    resolution: Resolution = Field(
        default=Resolution.NO_ANSWER, description="whether the caller says it was solved"
    )


class CallerEvaluationCreate(BaseModel):
    """Art 20 ¶2: the caller's own rating through the link the agency sent."""

    rating: Rating
    resolution: Resolution = Resolution.NO_ANSWER
    comment: Words | None = Field(default=None, max_length=2000)


class CallerEvaluationRead(BaseModel):
    """What the caller sees after rating: nothing of the handling units' internals."""

    number: str
    status: str
    rating: Rating


class InvitationCreate(BaseModel):
    channel: RevisitChannel = Field(description="how the link goes to the caller")


class InvitationRead(BaseModel):
    """A link for the caller to rate the ticket: the token goes in ``Authorization: Bearer``
    of ``POST /v1/tickets/{ticket_id}/caller-evaluation`` (or the citizens' page)."""

    ticket_id: str
    token: str
    expires_at: datetime


class ReasonRequest(BaseModel):
    reason: Words = Text


class ExtensionCreate(BaseModel):
    """Art 18: applied for before the due time, with a reason the caller is told."""

    reason: Words = Text
    caller_notified: bool = Field(description="the caller was told the reason and new due time")
    told_caller: Words | None = Field(
        default=None, max_length=2000, description="what the caller was told, for the record"
    )


class NewSituationJudgement(BaseModel):
    affects_handling: bool
    reason: Words = Text
    told_caller: Words | None = Field(
        default=None,
        max_length=2000,
        description="what the caller was told (required when it affects handling, Art 17)",
    )


class PlanRequest(BaseModel):
    plan: Words = Text


class LegalProcedureCreate(BaseModel):
    """Art 21 ¶2: what the handling waits on, and the department that oversees it."""

    procedure: LegalProcedure
    reference: Words = Field(
        max_length=500, description="the case: number, court or body, what is awaited"
    )
    guidance_department: str = Field(
        min_length=1, max_length=100, description="业务指导部门: a city department's unit id"
    )


class HistoryEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    role: str
    unit_id: str | None
    action: str
    status: str
    reason: str | None
    details: dict[str, Any]
    hash: str


class HistoryRead(BaseModel):
    ticket_id: str
    chain_intact: bool
    items: list[HistoryEntry]


class CallerRecordEntry(BaseModel):
    """One thing the caller is, or was, told of (Art 11(4), 17–20)."""

    at: datetime
    action: str
    reason: str | None = Field(description="why: an extension's, adjustment's, judgement's")
    due_at: datetime | None = Field(description="the due time it set, if it set one")
    told_caller: str | None = Field(description="what the caller was told, when it was recorded")


class CallerRecord(BaseModel):
    """What an agent tells a caller who asks about progress (Art 11(4)): the due time, each
    extension with its reason and new limit (Art 18), adjustments and new situations with what
    the caller was told (Art 17), the reply and its evaluation (Art 19, 20)."""

    ticket_id: str
    number: str
    status: str
    line: str
    handling_due_at: datetime | None
    progress_due_at: datetime | None
    legal_procedure: LegalProcedure | None
    entries: list[CallerRecordEntry]


class Queue(StrEnum):
    """The agency's desks: what waits for it, each sorted by the time it has left."""

    AWAITING_DISPATCH = "awaiting_dispatch"  # Art 13: 1 working day
    DIFFICULT = "difficult"  # Art 16: returned 3 times, awaiting determination
    RETURN_APPLICATIONS = "return_applications"  # Art 15: decide each application
    NEW_SITUATIONS = "new_situations"  # Art 17: the unit has yet to judge them
    FEEDBACK_REVIEW = "feedback_review"  # Art 19
    AWAITING_EVALUATION = "awaiting_evaluation"  # Art 20: revisit, rate
    UNSATISFIED = "unsatisfied"  # Art 20: re-handle or close


class QueueCount(BaseModel):
    queue: Queue
    count: int


class QueuesRead(BaseModel):
    items: list[QueueCount]


class QueueItem(BaseModel):
    ticket: TicketRead
    last_change: datetime = Field(description="the ticket's last change")
    due_at: datetime | None = Field(description="the limit it is sorted by, if one runs")
    return_request: ReturnRead | None = Field(
        default=None, description="the application awaiting a decision, with reason and basis"
    )


class QueuePage(BaseModel):
    queue: Queue
    count: int
    items: list[QueueItem]
    next_cursor: str | None


class ActionRead(BaseModel):
    action: str
    allowed: bool
    code: str | None = Field(description="the rule that forbids it now")
    message: str | None = Field(description="the rule's words, in the request's language")


class ActionsRead(BaseModel):
    ticket_id: str
    items: list[ActionRead]
