"""Callers' conduct on the line: warnings (Art 12 ¶2) and referrals for malicious use (Art 27)."""

from datetime import datetime

from sqlmodel import Field, SQLModel


class ConductRecord(SQLModel, table=True):
    """Append-only: who recorded what about a call's conduct, and when."""

    __tablename__ = "conduct_record"
    __table_args__ = {"schema": "intake"}

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: str = Field(foreign_key="intake.ticket.id", index=True)
    kind: str  # a ConductKind
    note: str
    referred_to: str | None = None  # a referral's receiving authority (Art 27)
    at: datetime
    by: str
    role: str
