"""The time limits' API shapes."""

from datetime import datetime

from pydantic import BaseModel, Field

from shared.schemas import Words
from shared.vocabulary import ClockKind, TicketType


class TimeLimitCreate(BaseModel):
    clock_kind: ClockKind
    ticket_type: TicketType | None = Field(default=None, description="empty: any type")
    category: str | None = Field(default=None, max_length=100, description="empty: any")
    working_days: int = Field(default=0, description="0 when the limit is in hours")
    hours: int | None = Field(
        default=None, description="a contact limit shorter than a day, round the clock"
    )
    max_extensions: int = 0
    effective_from: datetime | None = Field(default=None, description="default: now")
    reason: Words = Field(max_length=500)


class TimeLimitRead(BaseModel):
    id: int
    clock_kind: ClockKind
    ticket_type: str | None
    category: str | None
    working_days: int
    hours: int | None
    max_extensions: int
    effective_from: datetime
    created_at: datetime
    created_by: str
    reason: str


class TimeLimitsRead(BaseModel):
    items: list[TimeLimitRead]


class ResolvedLimitRead(BaseModel):
    clock_kind: ClockKind
    working_days: int
    max_extensions: int
    extension_working_days: int
    rule_id: int
    hours: int | None
