"""Report rollups: each Guangzhou day's counts per unit, district, street and category, kept
from the clock runs, steps, extensions and supervisions (sla.dashboard.rollup keeps them
true)."""

from datetime import date

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel


class Counts(SQLModel):
    """A day's counts, one field a measure; docs/kpis.md defines each."""

    tickets: int = 0
    tickets_late: int = 0
    received: int = 0
    received_late: int = 0
    closed: int = 0
    closed_on_time: int = 0
    closed_late: int = 0
    days_late: int = 0
    still_late: int = 0
    returns_asked: int = 0
    returns_upheld: int = 0
    satisfied: int = 0
    rated: int = 0
    solved: int = 0
    partly_solved: int = 0
    resolution_answered: int = 0
    judged: int = 0
    judged_solved: int = 0
    rehandled: int = 0
    extended: int = 0
    responses: int = 0
    response_hours: float = 0.0
    to_contact: int = 0
    contacted_on_time: int = 0
    supervisions: int = 0


class ReportDay(Counts, table=True):
    """One day's counts of one (unit, district, street, category)."""

    __tablename__ = "report_day"
    __table_args__ = (Index("ix_report_day_day_unit_id", "day", "unit_id"), {"schema": "sla"})

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    day: date
    unit_id: str | None = None
    district: str | None = None
    street: str | None = None
    category: str | None = None


class ReportUnitDay(Counts, table=True):
    """One day's counts of one (unit, district): report_day's rows summed at each recount,
    which the KPIs of every unit read (a row per unit and day, not per street and category)."""

    __tablename__ = "report_unit_day"
    __table_args__ = (
        Index("ix_report_unit_day_day_unit_id", "day", "unit_id"),
        {"schema": "sla"},
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    day: date
    unit_id: str | None = None
    district: str | None = None


class ReportStaleDay(SQLModel, table=True):
    """A day whose rollup a change has made stale; written by triggers on the tables the
    reports count, so no write path can forget it (migration sla_0011)."""

    __tablename__ = "report_stale_day"
    __table_args__ = (Index("ix_report_stale_day_day", "day"), {"schema": "sla"})

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    day: date
