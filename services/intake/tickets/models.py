"""Intake's tables: tickets with sealed personal data, callers' notes, contact reads."""

from datetime import datetime

from sqlalchemy import Column, Index, Text, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel


class Ticket(SQLModel, table=True):
    __tablename__ = "ticket"
    __table_args__ = (
        # A week's clusters read four weeks of dispatched tickets (intake.clusters).
        Index(
            "ix_ticket_submitted_received_at",
            "received_at",
            postgresql_where=text("outcome = 'submitted'"),
        ),
        # The retention job reads the tickets whose personal data is still kept.
        Index(
            "ix_ticket_pii_kept_updated_at",
            "updated_at",
            postgresql_where=text("pii_erased_at IS NULL"),
        ),
        {"schema": "intake"},
    )

    id: str = Field(primary_key=True)
    number: str = Field(unique=True)
    idempotency_key: str | None = Field(default=None, unique=True)
    channel: str
    line: str = "12345"  # the number that received it (Art 7)
    transferred_from: str | None = None  # the line that transferred the call here (Art 7)
    ticket_type: str
    category: str | None = None
    district: str | None = None
    street: str | None = None
    text: str  # scrubbed of the caller's identity (see intake.privacy.scrub)
    text_sealed: str | None = None  # the words as taken, Fernet ciphertext
    place: str | None = None
    latitude: float | None = None  # WGS-84 (shared.geo)
    longitude: float | None = None
    outcome: str
    disposition: str
    emergency_number: str | None = None
    told_caller: str | None = None
    related_ticket_id: str | None = Field(default=None, foreign_key="intake.ticket.id")
    kb_entry_id: str | None = None
    status: str
    assigned_unit: str | None = None
    # What a caller asking for progress is told (kept from dispatch's and sla's events).
    assigned_unit_name: str | None = None
    due_at: datetime | None = None
    answer: str | None = None
    caller_name: str | None = None  # Fernet ciphertext
    caller_phone: str | None = None  # Fernet ciphertext
    caller_phone_hash: str | None = Field(default=None, index=True)
    caller_address: str | None = None  # Fernet ciphertext
    pii_key_id: str | None = None  # the key that sealed the above (intake.privacy.key_id)
    pii_erased_at: datetime | None = None  # erased after the retention period
    # The caller agreed to be told of the matter's progress by SMS (at the phone above).
    sms_consent: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})
    flags: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(Text), nullable=False))
    agent: str
    received_at: datetime
    updated_at: datetime


class CallerNote(SQLModel, table=True):
    """A new situation the caller reported before feedback (Art 17)."""

    __tablename__ = "caller_note"
    __table_args__ = {"schema": "intake"}

    id: str = Field(primary_key=True)
    ticket_id: str = Field(foreign_key="intake.ticket.id", index=True)
    text: str
    added_at: datetime
    added_by: str


class ContactAccess(SQLModel, table=True):
    """Who read a caller's contact in full, and when (Art 25, 26)."""

    __tablename__ = "contact_access"
    __table_args__ = {"schema": "intake"}

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: str = Field(index=True)
    accessed_by: str
    role: str
    unit_id: str | None = None
    at: datetime
