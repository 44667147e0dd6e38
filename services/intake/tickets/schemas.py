"""Intake's ticket API shapes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError

from intake.privacy import is_mobile, valid_phone
from intake.tickets.rules import Disposition, Outcome
from shared.geo import PointIn
from shared.schemas import Words
from shared.vocabulary import TicketType


class Channel(StrEnum):
    PHONE = "phone"
    WECHAT = "wechat"
    WEB = "web"
    APP = "app"  # an app or mini-program is the same kind of channel (Art 2)


class Flag(StrEnum):
    """Art 12: flags on a call; they never delete it."""

    ABUSIVE = "abusive"
    REPEATED_SAME_FACTS = "repeated_same_facts"
    NOT_SPECIFIC = "not_specific"


class CallerIn(BaseModel):
    name: str | None = Field(default=None, max_length=100)
    phone: Annotated[str, AfterValidator(valid_phone)] | None = Field(
        default=None, max_length=30, description="mobile, or landline with area code"
    )
    address: str | None = Field(default=None, max_length=300)
    sms_consent: bool = Field(
        default=False,
        description="the caller agreed to be told of the matter's progress by SMS (a mobile)",
    )

    @model_validator(mode="after")
    def _consent_needs_a_mobile(self) -> CallerIn:
        if self.sms_consent and not is_mobile(self.phone):
            raise PydanticCustomError("sms_needs_mobile", "SMS needs the caller's mobile number")
        return self


class Decision(BaseModel):
    """How the agent classifies and ends a matter (Art 11, 13): a call's, or a citizen's
    submission under review."""

    place: str | None = Field(default=None, max_length=300)
    point: PointIn | None = Field(default=None, description="where the matter is, if known")
    ticket_type: TicketType
    category: str | None = Field(default=None, max_length=100)
    district: str | None = Field(default=None, max_length=20)
    street: str | None = Field(default=None, max_length=50)
    outcome: Outcome
    disposition: Disposition = Disposition.NORMAL
    emergency_number: str | None = None
    told_caller: str | None = Field(default=None, max_length=2000)
    related_ticket_id: str | None = None
    kb_entry_id: str | None = None
    flags: list[Flag] = Field(default_factory=list)


class TicketCreate(Decision):
    channel: Channel
    caller: CallerIn = Field(default_factory=CallerIn)
    text: Words = Field(max_length=5000, description="the matter in the caller's words")
    transfer_to: str | None = Field(
        default=None,
        max_length=20,
        description="the line the call is transferred to (Art 7: 12345 ↔ a sub-centre)",
    )


class CallerRead(BaseModel):
    name: str | None
    phone: str | None
    address: str | None
    masked: bool
    sms_consent: bool = False


class TicketRead(BaseModel):
    id: str
    number: str
    channel: str
    line: str
    transferred_from: str | None
    ticket_type: str
    category: str | None
    district: str | None
    street: str | None
    text: str
    place: str | None
    latitude: float | None = None
    longitude: float | None = None
    outcome: str
    disposition: str
    emergency_number: str | None
    told_caller: str | None
    related_ticket_id: str | None
    kb_entry_id: str | None
    status: str
    assigned_unit: str | None
    assigned_unit_name: str | None = None
    due_at: datetime | None = None
    answer: str | None = None
    flags: list[str]
    caller: CallerRead
    received_at: datetime


class TicketList(BaseModel):
    items: list[TicketRead]


class NoteCreate(BaseModel):
    text: Words = Field(max_length=2000)


class NoteRead(BaseModel):
    id: str
    ticket_id: str
    text: str
    added_at: datetime
    forwarded: bool
