"""The assessment's API shapes: rankings, what cost a unit its points, hotspots."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from shared.schemas import Words
from sla.supervision.rules import Method


class LineRead(BaseModel):
    measure: str
    rate: float
    weight: float
    earned: float
    lost: float


class RankRead(BaseModel):
    unit: str
    rank: int | None  # None: nothing to assess this month
    previous_rank: int | None
    change: int | None  # places up (positive) or down against the previous month
    score: float | None
    deducted: float
    received: int
    lines: list[LineRead]


class RankingRead(BaseModel):
    month: str
    previous_month: str
    items: list[RankRead]


class CostReason(StrEnum):
    """Why a ticket cost a unit points in the month."""

    LATE = "late"
    UNSATISFIED = "unsatisfied"
    NOT_SOLVED = "not_solved"  # or partly solved
    RETURNED = "returned"
    REHANDLED = "rehandled"
    SUPERVISED = "supervised"


class CostRead(BaseModel):
    """Tickets that cost the unit points, by why."""

    reason: CostReason
    ticket_id: str
    number: str | None


class ExplanationRead(BaseModel):
    month: str
    unit: RankRead
    tickets: list[CostRead]


class HotspotTicket(BaseModel):
    ticket_id: str
    number: str | None


class HotspotDecision(StrEnum):
    """What a supervisor made of a hotspot."""

    REVIEWED = "reviewed"  # looked into; nothing more to do
    SUPERVISED = "supervised"  # a supervision opened on each matter still being handled


class HotspotReviewCreate(BaseModel):
    """A decision on one of the week's hotspots, named by its cell."""

    week: date = Field(description="the week's Monday")
    category: str | None = Field(default=None, max_length=100)
    district: str | None = Field(default=None, max_length=50)
    street: str | None = Field(default=None, max_length=50, description="empty: the district")
    decision: HotspotDecision
    method: Method = Field(default=Method.ONLINE, description="how it is supervised")
    note: Words | None = Field(default=None, max_length=2000)


class HotspotReviewRead(BaseModel):
    decision: HotspotDecision
    note: str | None
    supervisions: int
    decided_at: datetime
    decided_by: str


class HotspotRead(BaseModel):
    category: str | None
    district: str | None
    street: str | None  # None: the whole district
    count: int  # calls this week
    baseline: float  # their weekly mean over the 8 weeks before
    previous: int  # last week's
    growing: bool
    p_value: float
    units: list[str]  # the units handling its matters
    tickets: list[HotspotTicket]
    review: HotspotReviewRead | None  # the latest decision on it


class HotspotsRead(BaseModel):
    week: date  # its Monday
    alpha: float
    items: list[HotspotRead]
