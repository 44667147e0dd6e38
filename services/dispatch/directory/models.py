"""Units and routing rules."""

from datetime import datetime

from sqlmodel import Field, SQLModel


class Unit(SQLModel, table=True):
    """A handling unit, sub-unit, participating organisation, sub-centre or dual-number unit."""

    __tablename__ = "unit"
    __table_args__ = {"schema": "dispatch"}

    id: str = Field(primary_key=True)
    name: str
    kind: str
    district: str | None = None
    street: str | None = None
    parent_id: str | None = Field(default=None, foreign_key="dispatch.unit.id", index=True)
    active: bool = True


class RoutingRule(SQLModel, table=True):
    __tablename__ = "routing_rule"
    __table_args__ = {"schema": "dispatch"}

    id: int | None = Field(default=None, primary_key=True)
    category: str | None = None
    district: str | None = None
    unit_id: str = Field(foreign_key="dispatch.unit.id")
    priority: int = 10
    note: str
    source: str = "reference"  # reference | admin | determination (Art 16)
    created_at: datetime
    created_by: str
