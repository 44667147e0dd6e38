"""The assessment's API shapes: rankings, what cost a unit its points, hotspots."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError

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
    """A decision on one of the week's hotspots, named by its cell; or on a cluster intake
    found (GET /v1/clusters there), named by its key and its tickets."""

    week: date = Field(description="the week's Monday")
    category: str | None = Field(default=None, max_length=100)
    district: str | None = Field(default=None, max_length=50)
    street: str | None = Field(default=None, max_length=50, description="empty: the district")
    cluster: str | None = Field(default=None, min_length=1, max_length=40)
    tickets: list[str] = Field(default_factory=list, max_length=200, description="a cluster's")
    decision: HotspotDecision
    method: Method = Field(default=Method.ONLINE, description="how it is supervised")
    note: Words | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _a_cluster_names_its_tickets(self) -> HotspotReviewCreate:
        if (self.cluster is None) != (not self.tickets):
            raise PydanticCustomError(
                "cluster_tickets", "a cluster is named with its tickets, a hotspot without"
            )
        return self


class HotspotReviewRead(BaseModel):
    week: date
    category: str | None
    district: str | None
    street: str | None
    cluster: str | None
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


class HotspotReviewsRead(BaseModel):
    week: date
    items: list[HotspotReviewRead]


class HotspotsRead(BaseModel):
    week: date  # its Monday
    alpha: float
    items: list[HotspotRead]
