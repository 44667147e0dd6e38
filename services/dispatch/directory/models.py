"""Units and routing rules."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column
from sqlalchemy.dialects.postgresql import JSONB
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


class DirectoryChange(SQLModel, table=True):
    """Who changed the directory, when, and what it was before and after (Art 26)."""

    __tablename__ = "directory_change"
    __table_args__ = {"schema": "dispatch"}

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    at: datetime
    actor: str
    entity: str  # unit | routing_rule
    entity_id: str
    action: str  # created | updated | deactivated | deleted
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
