"""Contracts of what crosses the outbox between services.

An event's ``type`` names it with its version (``ticket.submitted.v1``); a new shape gets a
new name. Receivers ignore fields they do not know, so adding a field is not a new version.
"""

from __future__ import annotations

import builtins
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.vocabulary import (
    ClockAction,
    ClockKind,
    NoticeKind,
    StepAction,
    StopKind,
    TicketStatus,
    TicketType,
)


class Event(BaseModel):
    """Base of every event payload; subclasses set ``type_name`` and the ``sender``, the one
    service whose identity may post it (receivers refuse it from any other)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    type_name: ClassVar[str]
    sender: ClassVar[str]


EventT = TypeVar("EventT", bound=Event)


class EventEnvelope(BaseModel):
    """What the relay POSTs to a receiver's ``/v1/events``."""

    model_config = ConfigDict(extra="ignore")

    id: UUID = Field(default_factory=uuid4)
    type: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=50)
    occurred_at: datetime
    ordering_key: str | None = Field(default=None, max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict)
    # The request that caused the event, so that one id traces a call across services.
    request_id: str | None = Field(default=None, max_length=64)

    def parse(self, event_class: builtins.type[EventT]) -> EventT:
        """The payload as its contract model."""
        return event_class.model_validate(self.payload)


class EventBatch(BaseModel):
    """What the relay POSTs to a receiver's ``/v1/events/batch``: events in outbox order, at
    most one of each ordering key, so a receiver applies each ticket's events in order."""

    events: list[EventEnvelope] = Field(min_length=1, max_length=1000)


class EventOutcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # its id was in the inbox: nothing done again
    REFUSED = "refused"  # not applied (the reason says why); the sender keeps it and retries


class EventResult(BaseModel):
    id: UUID
    status: EventOutcome
    error: str | None = None


class EventBatchResult(BaseModel):
    """One result per event, in the batch's order."""

    results: list[EventResult]


class TicketSubmitted(Event):
    """intake → dispatch: a call became a ticket to dispatch (the dispatch clock starts)."""

    type_name: ClassVar[str] = "ticket.submitted.v1"
    sender: ClassVar[str] = "intake"
    ticket_id: str
    number: str
    ticket_type: TicketType
    category: str | None = None
    district: str | None = None
    street: str | None = None
    summary: str
    received_at: datetime
    repeat_of: str | None = None  # Art 22: the caller's completed ticket this repeats
    line: str = "12345"  # the number that received the call (Art 7)
    # Art 7: the sub-centre or dual-number unit that answers that line receives, handles,
    # reviews and revisits the ticket itself; None: 12345's agency dispatches it.
    line_unit: str | None = None


class CallerNoteAdded(Event):
    """intake → dispatch: the caller reported a new situation before feedback (Art 17)."""

    type_name: ClassVar[str] = "ticket.caller_note_added.v1"
    sender: ClassVar[str] = "intake"
    ticket_id: str
    note_id: str
    text: str
    added_at: datetime


class ClockChange(BaseModel):
    """One change a step makes to one clock; a stop says how the run ended."""

    model_config = ConfigDict(frozen=True)

    action: ClockAction
    clock: ClockKind
    reason: str
    stop_kind: StopKind | None = None

    @model_validator(mode="after")
    def _stop_says_how(self) -> ClockChange:
        if (self.action is ClockAction.STOP) != (self.stop_kind is not None):
            raise ValueError("a stop, and only a stop, carries its stop_kind")
        return self


class TicketStepped(Event):
    """dispatch → sla: one workflow step and what it does to the ticket's clocks.

    sla keeps every step, so that unit KPIs (returns, ratings, re-handling) can be computed
    again from the events alone.
    """

    type_name: ClassVar[str] = "ticket.stepped.v1"
    sender: ClassVar[str] = "dispatch"
    ticket_id: str
    number: str | None = None  # the number callers and staff quote (GZ…)
    ticket_type: TicketType
    category: str | None = None
    district: str | None = None
    street: str | None = None  # the street (街道) or town (镇) the matter is in
    unit_id: str | None = None
    action: StepAction
    actor_unit_id: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    changes: list[ClockChange] = Field(default_factory=list)
    at: datetime


class TicketStatusChanged(Event):
    """dispatch → intake: the status a caller is told when asking for progress (Art 11(4))."""

    type_name: ClassVar[str] = "ticket.status_changed.v1"
    sender: ClassVar[str] = "dispatch"
    ticket_id: str
    status: TicketStatus
    unit_id: str | None = None
    unit_name: str | None = None  # what a citizen asking for progress is told (Art 2)
    at: datetime


class CallerNoticeDue(Event):
    """dispatch → intake: a step the caller is to be told of (Art 18: an extension's reason
    and new due date); intake sends it if the caller consented, by the number it holds."""

    type_name: ClassVar[str] = "ticket.caller_notice.v1"
    sender: ClassVar[str] = "dispatch"
    ticket_id: str
    kind: NoticeKind
    reason: str | None = None
    due_at: datetime | None = None
    answer: str | None = None  # the unit's reply to the caller, once the agency approved it
    at: datetime


class DeadlineAdjustment(BaseModel):
    """Art 17 ¶2: force majeure — why the agency moved a due time and what the caller was told."""

    reason: str
    told_caller: str


class DeadlineChanged(Event):
    """sla → dispatch: a clock's due time was set or moved (start, extension, calendar load,
    an Art 17 adjustment); sla → intake too for the clocks a caller is told of (handling)."""

    type_name: ClassVar[str] = "clock.deadline_changed.v1"
    sender: ClassVar[str] = "sla"
    ticket_id: str
    clock: ClockKind
    due_at: datetime | None
    provisional: bool = False
    adjustment: DeadlineAdjustment | None = None


class ClockBreachWithdrawn(Event):
    """sla → dispatch: a breach found before the news of an on-time act arrived is withdrawn
    (the act's own time was before the due time): the overdue flag goes."""

    type_name: ClassVar[str] = "clock.breach_withdrawn.v1"
    sender: ClassVar[str] = "sla"
    ticket_id: str
    clock: ClockKind
    due_at: datetime
    act_at: datetime


class ClockBreached(Event):
    """sla → dispatch: a clock fell due without its work done (verification: window closed)."""

    type_name: ClassVar[str] = "clock.breached.v1"
    sender: ClassVar[str] = "sla"
    ticket_id: str
    clock: ClockKind
    due_at: datetime


class ClockDueSoon(Event):
    """sla → dispatch: a running clock falls due by the end of the next working day (once per
    due time: a moved due time warns again)."""

    type_name: ClassVar[str] = "clock.due_soon.v1"
    sender: ClassVar[str] = "sla"
    ticket_id: str
    clock: ClockKind
    due_at: datetime


class SupervisionOpened(Event):
    """sla → dispatch: the agency or a guidance department opened a supervision (Art 23);
    dispatch tells the unit. (One the breach scan opens comes with the breach, which the unit
    is told of already.)"""

    type_name: ClassVar[str] = "supervision.opened.v1"
    sender: ClassVar[str] = "sla"
    ticket_id: str
    supervision_id: int
    unit_id: str | None = None
    reason: str  # the Art 23 ground, a code of sla's supervision_reason
    summary: str  # what the unit is told: the ground's label and the note, in Chinese
    at: datetime


class OverdueDigest(Event):
    """sla → dispatch: the supervisors' daily digest, sent to their channels."""

    type_name: ClassVar[str] = "digest.overdue.v1"
    sender: ClassVar[str] = "sla"
    day: date
    overdue: int
    new_overdue: int
    supervisions: int
    by_unit: dict[str, int] = Field(default_factory=dict)  # the units with most overdue


def sender_of(event_type: str) -> str | None:
    """The service that may send events of this type (None: a type this version does not know)."""
    return _SENDERS.get(event_type)


_SENDERS = {event.type_name: event.sender for event in Event.__subclasses__()}
