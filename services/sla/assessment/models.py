"""What supervisors decided about a hotspot or a cluster; each decision is kept, the latest
shown."""

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class HotspotReview(SQLModel, table=True):
    __tablename__ = "hotspot_review"
    __table_args__ = (Index("ix_hotspot_review_week", "week"), {"schema": "sla"})

    id: int | None = Field(default=None, primary_key=True)
    week: date  # its Monday
    category: str | None = None
    district: str | None = None
    street: str | None = None
    cluster: str | None = None  # a cluster's key (its first ticket's number, intake's)
    decision: str  # a HotspotDecision
    note: str | None = None
    supervisions: int = 0  # opened by this decision
    decided_at: datetime
    decided_by: str
