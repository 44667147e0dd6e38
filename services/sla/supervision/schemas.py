"""Supervision API shapes (Art 23)."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.schemas import Words
from sla.supervision.rules import Method, Reason


class SupervisionCreate(BaseModel):
    ticket_id: str = Field(min_length=1, max_length=100)
    unit_id: str = Field(min_length=1, max_length=100)
    reason: Reason
    method: Method
    note: Words = Field(max_length=2000)


class SupervisionResponse(BaseModel):
    response: Words = Field(max_length=4000)


class SupervisionClose(BaseModel):
    outcome: Words = Field(max_length=2000)


class SupervisionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: str
    number: str | None = None  # GZ…, as dispatch reported it
    unit_id: str | None
    district: str | None
    reason: Reason
    method: Method
    note: str | None
    opened_at: datetime
    opened_by: str
    response: str | None
    responded_at: datetime | None
    outcome: str | None
    closed_at: datetime | None
    withdrawn_at: datetime | None


class SupervisionsRead(BaseModel):
    items: list[SupervisionRead]
