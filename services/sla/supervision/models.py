"""Supervision records: opened automatically on a breach, or by the agency."""

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel


class Supervision(SQLModel, table=True):
    __tablename__ = "supervision"
    __table_args__ = (Index("ix_supervision_opened_at", "opened_at"), {"schema": "sla"})

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: str = Field(index=True)
    clock_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    unit_id: str | None = Field(default=None, index=True)
    district: str | None = None
    reason: str  # late | non_compliant_feedback | long_running | other (Art 23(1)–(4))
    method: str  # phone | online | on_site | meeting | document
    note: str | None = None
    opened_at: datetime
    opened_by: str
    response: str | None = None
    responded_at: datetime | None = None
    responded_by: str | None = None
    outcome: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    # A supervision the breach scan opened before the news of an on-time act arrived is
    # withdrawn, not deleted: it stays in the record, and counts for nothing.
    withdrawn_at: datetime | None = None


class DigestDay(SQLModel, table=True):
    """A day the supervisors' digest went out: the replica whose insert wins sends it."""

    __tablename__ = "digest_day"
    __table_args__ = {"schema": "sla"}

    day: date = Field(primary_key=True)
    sent_at: datetime
