"""Dashboard and KPI API shapes (no personal data is ever included)."""

from datetime import date

from pydantic import BaseModel


class Group(BaseModel):
    key: str | None
    count: int


class DashboardItem(BaseModel):
    ticket_id: str
    number: str | None = None  # GZ…, as dispatch reported it
    clock: str
    unit_id: str | None
    district: str | None
    ticket_type: str
    category: str | None
    due_at: str
    provisional: bool
    working_days_late: int


class Dashboard(BaseModel):
    total: int
    group_by: str
    groups: list[Group]
    items: list[DashboardItem]


class Measures(BaseModel):
    """The KPIs of a period (docs/kpis.md)."""

    from_date: date
    to_date: date
    received: int
    closed: int
    closed_on_time: int
    on_time_rate: float | None
    overdue: int
    working_days_late: int
    return_applications: int
    return_rate: float | None
    returns_upheld: int
    upheld_return_rate: float | None
    extended: int
    extension_rate: float | None
    rehandled: int
    rehandling_rate: float | None
    rated: int
    satisfaction_rate: float | None
    resolution_answered: int
    resolution_rate: float | None
    partly_solved_rate: float | None
    judged: int
    judged_resolution_rate: float | None
    response_hours: float | None
    to_contact: int
    response_rate: float | None
    supervisions: int


class Kpis(Measures):
    unit: str


class KpisList(BaseModel):
    items: list[Kpis]


class GroupKpis(Measures):
    """The measures of a group of tickets: a district, a street, a category, or a unit's
    week or month (``from_date``/``to_date`` are the group's own then)."""

    unit: str | None = None  # the unit of a trend; None for a district's or category's
    key: str | None  # the district, street, category (None: not recorded), or the period
    district: str | None = None  # a district's or street's district


class KpisByGroup(BaseModel):
    by: str
    from_date: date
    to_date: date
    items: list[GroupKpis]


class VolumeGroup(BaseModel):
    key: str | None
    received: int
    late: int


class Volume(BaseModel):
    by: str
    from_date: date
    to_date: date
    groups: list[VolumeGroup]
