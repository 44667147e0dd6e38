"""The calendar's API shapes."""

from datetime import date, datetime

from pydantic import BaseModel, Field

from shared.workdays import DayKind, DaySource


class NamedDayIn(BaseModel):
    date: date
    name: str = Field(min_length=1, max_length=100, examples=["春节"])


class YearScheduleLoad(BaseModel):
    """The State Council's schedule for one year (国务院办公厅关于…部分节假日安排的通知)."""

    holidays: list[NamedDayIn] = Field(max_length=366)
    makeup_workdays: list[NamedDayIn] = Field(default_factory=list, max_length=366)
    source: str = Field(min_length=1, max_length=300, description="the notice it comes from")


class YearRead(BaseModel):
    year: int
    source: str
    loaded_at: datetime
    loaded_by: str
    holidays: int
    makeup_workdays: int
    deadlines_moved: int | None = Field(
        default=None, description="running provisional clocks whose due time this load changed"
    )


class YearsRead(BaseModel):
    package_years: list[int]
    loaded: list[YearRead]


class DayRead(BaseModel):
    date: date
    kind: DayKind
    working: bool
    source: DaySource
    name: str | None


class DaysRead(BaseModel):
    items: list[DayRead]


class DueRead(BaseModel):
    from_: datetime = Field(serialization_alias="from")
    from_date: date = Field(description="the event's calendar day in Asia/Shanghai")
    working_days: int
    due_date: date
    due_at: datetime = Field(description="24:00 Asia/Shanghai of the due day")
    provisional: bool = Field(description="depends on a year whose schedule is not loaded")


class TimeLeft(BaseModel):
    due_at: datetime
    working_days_left: int = Field(description="whole working days after today up to the due day")
    hours_left: float | None = Field(description="when it falls due today")
    working_days_late: int


class TimeLeftRead(BaseModel):
    now: datetime = Field(description="sla's clock (a development stack's may be moved)")
    items: list[TimeLeft]
