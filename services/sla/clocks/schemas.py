"""Clock API shapes."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.schemas import Words
from shared.vocabulary import ClockKind, ClockState, StopKind


class ClockRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: ClockKind
    state: ClockState
    unit_id: str | None
    started_at: datetime
    working_days: int
    hours: int | None = None  # a limit in hours instead of working days (urgent contact)
    due_date: date
    due_at: datetime
    provisional: bool
    adjusted: bool
    extensions_used: int
    max_extensions: int
    breached_at: datetime | None
    stopped_at: datetime | None
    stop_reason: str | None
    stop_kind: StopKind | None
    working_days_late: int | None


class ClocksRead(BaseModel):
    ticket_id: str
    items: list[ClockRead]


class ExtensionCreate(BaseModel):
    reason: Words = Field(max_length=2000)
    requested_by: Words = Field(max_length=200)


class ExtensionRead(BaseModel):
    ticket_id: str
    due_at: datetime
    due_date: date
    extensions_used: int
    provisional: bool


class AdjustmentCreate(BaseModel):
    """Art 17: force majeure; the caller is told and the due day moves, with a reason."""

    clock: ClockKind = ClockKind.HANDLING
    due_date: date
    reason: Words = Field(max_length=2000)
    told_caller: Words = Field(
        max_length=2000, description="what the caller was told of the change (Art 17 ¶2)"
    )


class ScanRead(BaseModel):
    breached: int
    warned: int = 0  # clocks due by the end of the next working day, warned of it now
