"""The time-limits table (rows are never updated: a change is a new row)."""

from datetime import datetime

from sqlmodel import Field, SQLModel


class TimeLimit(SQLModel, table=True):
    __tablename__ = "time_limit"
    __table_args__ = {"schema": "sla"}

    id: int | None = Field(default=None, primary_key=True)
    clock_kind: str = Field(index=True)
    ticket_type: str | None = None
    category: str | None = None
    working_days: int  # 0 when the limit is in hours
    hours: int | None = None  # a contact limit shorter than a day (urgent matters)
    max_extensions: int = 0
    effective_from: datetime
    created_at: datetime
    created_by: str
    reason: str
