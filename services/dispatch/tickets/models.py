"""Dispatch's tables. ``ticket_event`` is append-only (a trigger refuses updates and deletes)."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel


class Ticket(SQLModel, table=True):
    __tablename__ = "ticket"
    __table_args__ = (
        # Units' polls (keyset on change_seq; by status, and overdue) and the agency's queue.
        Index("ix_ticket_lead_unit_change_seq", "lead_unit", "change_seq"),
        Index("ix_ticket_lead_unit_status_change_seq", "lead_unit", "status", "change_seq"),
        Index(
            "ix_ticket_overdue_lead_unit_change_seq",
            "lead_unit",
            "change_seq",
            postgresql_where=text("overdue"),
        ),
        Index("ix_ticket_sub_unit_change_seq", "sub_unit", "change_seq"),
        Index("ix_ticket_co_handlers", "co_handlers", postgresql_using="gin"),
        Index(
            "ix_ticket_queue",
            "dispatch_due_at",
            postgresql_where=text("status = 'awaiting_dispatch'"),
        ),
        # The business guidance department's list (Art 21).
        Index(
            "ix_ticket_guidance_department",
            "guidance_department",
            postgresql_where=text("legal_procedure IS NOT NULL"),
        ),
        {"schema": "dispatch"},
    )

    id: str = Field(primary_key=True)
    number: str = Field(unique=True)
    ticket_type: str
    category: str | None = None
    district: str | None = None
    street: str | None = None
    summary: str
    repeat_of: str | None = None  # Art 22: intake recorded the call as a repeat of this
    line: str = "12345"  # the number that received the call (Art 7)
    line_unit: str | None = None  # Art 7: the sub-centre / dual-number unit acting as agency
    status: str
    lead_unit: str | None = None
    first_unit: str | None = None
    co_handlers: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(Text), nullable=False)
    )
    sub_unit: str | None = None
    approved_returns: int = 0
    determined_unit: str | None = None
    verification_open: bool = True
    status_before_return: str | None = None
    status_before_review: str | None = None
    rehandled: bool = False
    suggested_unit: str | None = None
    suggested_rule_id: int | None = None
    received_at: datetime
    dispatch_due_at: datetime | None = None
    verification_due_at: datetime | None = None
    handling_due_at: datetime | None = None
    due_provisional: bool = False  # the handling due time rests on an unloaded year (sla)
    overdue: bool = False
    dispatch_overdue: bool = False
    long_running_plan: str | None = None
    legal_procedure: str | None = None  # a LegalProcedure the handling waits on (Art 21 ¶2)
    legal_procedure_reference: str | None = None  # case number, body, what is awaited
    guidance_department: str | None = None  # 业务指导部门 that oversees it (Art 21)
    progress_due_at: datetime | None = None  # the next periodic progress report (Art 21)
    new_situation_pending: bool = False
    change_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    history_head: str | None = None  # the hash of the newest history entry (Art 26)
    created_at: datetime
    updated_at: datetime

    # The change number is drawn by the INSERT or UPDATE itself (service.touch) and read
    # back in its RETURNING clause, not by a statement of its own.
    __mapper_args__ = {"eager_defaults": True}


class UnitChange(SQLModel, table=True):
    """A change to a ticket a unit holds or held: written by a trigger on ``ticket`` for its
    lead unit, co-handlers and sub-unit before and after (migration dispatch_0013), so the
    newest id of a unit is its poll's ETag — a ticket leaving the unit changes it too.
    Older rows of a unit are pruned hourly."""

    __tablename__ = "unit_change"
    __table_args__ = (Index("ix_unit_change_unit_id_id", "unit_id", "id"), {"schema": "dispatch"})

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    unit_id: str


class CoHandling(SQLModel, table=True):
    """A ticket a unit co-handles (Art 15(3)), with the ticket's change number: a unit's poll
    reads these in change order. Kept by a trigger from ``ticket.co_handlers``."""

    __tablename__ = "co_handling"
    __table_args__ = (
        Index("ix_co_handling_unit_id_change_seq", "unit_id", "change_seq"),
        Index("ix_co_handling_unit_id_status_change_seq", "unit_id", "status", "change_seq"),
        Index(
            "ix_co_handling_overdue_unit_id_change_seq",
            "unit_id",
            "change_seq",
            postgresql_where=text("overdue"),
        ),
        {"schema": "dispatch"},
    )

    ticket_id: str = Field(primary_key=True)
    unit_id: str = Field(primary_key=True)
    change_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    # Copies of the ticket's, for the poll's filters in index order.
    status: str
    overdue: bool


class ReturnRequest(SQLModel, table=True):
    __tablename__ = "return_request"
    __table_args__ = {"schema": "dispatch"}

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: str = Field(foreign_key="dispatch.ticket.id", index=True)
    unit_id: str
    reason: str
    basis: str
    requested_at: datetime
    requested_by: str
    decision: str | None = None
    decision_reason: str | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None


class Revisit(SQLModel, table=True):
    """Art 20: one attempt to reach the caller for their rating."""

    __tablename__ = "revisit"
    __table_args__ = {"schema": "dispatch"}

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: str = Field(foreign_key="dispatch.ticket.id", index=True)
    at: datetime
    by: str
    channel: str  # a RevisitChannel
    reached: bool
    note: str | None = None


class Determination(SQLModel, table=True):
    """Art 16: how a difficult ticket was settled; its principle may become a routing rule."""

    __tablename__ = "determination"
    __table_args__ = {"schema": "dispatch"}

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: str = Field(foreign_key="dispatch.ticket.id", index=True)
    dispute_kind: str
    consulted_body: str
    unit_id: str
    co_handlers: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(Text), nullable=False)
    )
    principle: str | None = None
    principle_status: str | None = None  # a PrincipleStatus (Art 16 ¶3)
    principle_reviewed_at: datetime | None = None
    principle_reviewed_by: str | None = None
    principle_review_reason: str | None = None
    routing_rule_id: int | None = None
    decided_at: datetime
    decided_by: str


class FeedbackRecord(SQLModel, table=True):
    """A sub-unit's result (stage ``sub_unit``) or a unit's feedback (stage ``unit``), Art 19."""

    __tablename__ = "feedback"
    __table_args__ = {"schema": "dispatch"}

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: str = Field(foreign_key="dispatch.ticket.id", index=True)
    stage: str
    unit_id: str
    handling_time: str
    process: str
    result: str
    caller_reply: str
    finding: str | None = None
    submitted_at: datetime
    submitted_by: str
    approved: bool | None = None
    review_reason: str | None = None
    reviewed_at: datetime | None = None
    reviewed_by: str | None = None


class TicketEvent(SQLModel, table=True):
    """One entry of a ticket's history: who, in what role and unit, when, what and why."""

    __tablename__ = "ticket_event"
    __table_args__ = {"schema": "dispatch"}

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    ticket_id: str = Field(index=True)
    at: datetime
    actor: str
    role: str
    unit_id: str | None = None
    action: str
    status: str
    reason: str | None = None
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    prev_hash: str
    hash: str
