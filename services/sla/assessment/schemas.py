"""The assessment's API shapes: rankings, what cost a unit its points, hotspots."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel


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


class HotspotRead(BaseModel):
    category: str | None
    district: str | None
    count: int  # calls this week
    baseline: float  # their weekly mean over the 8 weeks before
    previous: int  # last week's
    growing: bool
    p_value: float
    tickets: list[HotspotTicket]


class HotspotsRead(BaseModel):
    week: date  # its Monday
    alpha: float
    items: list[HotspotRead]
