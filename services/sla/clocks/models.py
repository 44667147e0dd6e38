"""Clocks, their changes, extensions, and the workflow steps dispatch reports."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Index, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class Clock(SQLModel, table=True):
    """One run of a clock; a restart closes the run and opens a new one (per unit for KPIs)."""

    __tablename__ = "clock"
    __table_args__ = (
        # One running clock of a kind per ticket, whatever the replicas do.
        Index(
            "uq_clock_running_kind",
            "ticket_id",
            "kind",
            unique=True,
            postgresql_where=text("state = 'running'"),
        ),
        # The breach scan reads only what is due and not yet breached (scan_breaches).
        Index(
            "ix_clock_scan_due_at",
            "due_at",
            postgresql_where=text("state = 'running' AND breached_at IS NULL"),
        ),
        Index("ix_clock_running_due_at", "due_at", postgresql_where=text("state = 'running'")),
        # The due-soon scan reads only clocks not yet warned of their present due time.
        Index(
            "ix_clock_unwarned_due_at",
            "due_at",
            postgresql_where=text(
                "state = 'running' AND breached_at IS NULL "
                "AND warned_due_at IS DISTINCT FROM due_at"
            ),
        ),
        Index("ix_clock_unit_id_kind", "unit_id", "kind"),
        # A district's units one probe each (sla.dashboard.service.units_with_clocks).
        Index("ix_clock_district_unit_id", "district", "unit_id"),
        # Volume and KPIs over a period (sla.dashboard.service.volume).
        Index("ix_clock_kind_started_at", "kind", "started_at"),
        # A day's report is recounted from the runs that ended and the runs late on it.
        Index("ix_clock_stopped_at", "stopped_at"),
        Index(
            "ix_clock_late_due_date",
            "due_date",
            postgresql_where=text("state = 'running' AND breached_at IS NOT NULL"),
        ),
        {"schema": "sla"},
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    ticket_id: str = Field(index=True)
    kind: str
    state: str  # a ClockState
    unit_id: str | None = None
    ticket_type: str
    category: str | None = None
    district: str | None = None
    street: str | None = None
    started_at: datetime
    working_days: int
    hours: int | None = None  # the limit in hours instead (a contact limit, urgent matters)
    due_date: date
    due_at: datetime
    provisional: bool = False
    adjusted: bool = False
    extensions_used: int = 0
    max_extensions: int = 0
    extension_working_days: int = 0
    limit_rule_id: int
    breached_at: datetime | None = None
    stopped_at: datetime | None = None
    stop_reason: str | None = None
    stop_kind: str | None = None  # a StopKind: only "completed" is the unit's work done
    working_days_late: int | None = None
    # The due time its unit was last warned of (due soon): a moved due time warns again.
    warned_due_at: datetime | None = None


class ChangeAction(StrEnum):
    """What sla did to a clock run, as its change record names it."""

    START = "start"
    STOP = "stop"
    RESUME = "resume"
    EXTEND = "extend"  # Art 18
    ADJUST = "adjust"  # Art 17: force majeure
    BREACH = "breach"  # the due time passed with the work not done
    WITHDRAW_BREACH = "withdraw_breach"  # news of an on-time act arrived after the breach
    RECOMPUTE = "recompute"  # a calendar year loaded


class ClockChangeRecord(SQLModel, table=True):
    """Why a clock's due time or state changed, and who changed it."""

    __tablename__ = "clock_change"
    __table_args__ = {"schema": "sla"}

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    clock_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("sla.clock.id"), nullable=False, index=True)
    )
    at: datetime
    action: str  # a ChangeAction
    reason: str
    actor: str
    old_due_at: datetime | None = None
    new_due_at: datetime | None = None


class Extension(SQLModel, table=True):
    __tablename__ = "extension"
    __table_args__ = (Index("ix_extension_at", "at"), {"schema": "sla"})

    id: int | None = Field(default=None, primary_key=True)
    clock_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("sla.clock.id"), nullable=False, index=True)
    )
    ticket_id: str
    idempotency_key: str = Field(unique=True)
    reason: str
    requested_by: str
    at: datetime
    old_due_at: datetime
    new_due_at: datetime
    new_due_date: date
    number: int


class TicketStep(SQLModel, table=True):
    """A workflow step as dispatch reported it; KPIs are computed from these."""

    __tablename__ = "ticket_step"
    __table_args__ = (Index("ix_ticket_step_action_at", "action", "at"), {"schema": "sla"})

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    ticket_id: str = Field(index=True)
    number: str | None = Field(default=None, index=True)  # GZ…: found by the number quoted
    at: datetime
    action: str
    unit_id: str | None = None
    actor_unit_id: str | None = None
    ticket_type: str
    category: str | None = None
    district: str | None = None
    street: str | None = None
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
