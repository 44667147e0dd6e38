"""The clusters' API shapes."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class ClusterTicket(BaseModel):
    ticket_id: str
    number: str
    received_at: datetime
    category: str | None
    status: str


class ClusterRead(BaseModel):
    """One matter at one place raised by several callers."""

    key: str  # the number of its first ticket: how a decision on it names it
    district: str | None
    street: str | None
    place: str | None  # as agents recorded it most often
    category: str | None  # the category most of its tickets have
    summary: str  # its latest ticket's words, scrubbed of the caller's identity
    callers: int  # different callers
    this_week: int  # tickets received in the week asked for
    previous_week: int
    growing: bool
    units: list[str]  # the units handling its tickets
    first_at: datetime
    last_at: datetime
    tickets: list[ClusterTicket]


class ClustersRead(BaseModel):
    week: date  # its Monday
    weeks: int  # the window looked at, ending with the week
    items: list[ClusterRead]
