"""Tables of the loaded official schedules."""

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Identity
from sqlmodel import Field, SQLModel


class CalendarYear(SQLModel, table=True):
    """A year whose official schedule was loaded; it overrides the package."""

    __tablename__ = "calendar_year"
    __table_args__ = {"schema": "sla"}

    year: int = Field(primary_key=True)
    # Grows with every load of any year: replicas compare it to know their cache is stale.
    revision: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(), nullable=False, unique=True)
    )
    source: str
    loaded_at: datetime
    loaded_by: str


class CalendarDay(SQLModel, table=True):
    """A holiday or a make-up working day of a loaded year."""

    __tablename__ = "calendar_day"
    __table_args__ = {"schema": "sla"}

    day_date: date = Field(primary_key=True)
    year: int = Field(index=True)
    kind: str  # holiday | makeup_workday
    name: str
