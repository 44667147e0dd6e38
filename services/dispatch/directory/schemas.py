"""Directory API shapes."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class UnitKind(StrEnum):
    DISTRICT_GOVERNMENT = "district_government"
    DISTRICT_DEPARTMENT = "district_department"
    CITY_DEPARTMENT = "city_department"
    SUB_UNIT = "sub_unit"  # 经办单位: sub-district office, town, department (Art 6)
    AUTHORISED_INSTITUTION = "authorised_institution"
    PARTICIPATING_ORGANISATION = "participating_organisation"  # water, power, gas
    SUB_CENTRE = "sub_centre"  # 热线分中心 (Art 7)
    DUAL_NUMBER_UNIT = "dual_number_unit"  # 双号并行单位 (Art 7)


UNIT_ID = r"^[a-z0-9][a-z0-9-]{1,62}$"


def _no_nulls(model: BaseModel, *fields: str) -> None:
    """A PATCH may leave these out, but not blank them: the directory needs them."""
    blanked = [f for f in fields if f in model.model_fields_set and getattr(model, f) is None]
    if blanked:
        raise ValueError(f"{', '.join(blanked)} cannot be null")


class UnitCreate(BaseModel):
    id: str = Field(pattern=UNIT_ID)
    name: str = Field(min_length=2, max_length=100)
    kind: UnitKind
    district: str | None = Field(default=None, max_length=20)
    street: str | None = Field(default=None, max_length=50)
    parent_id: str | None = Field(default=None, pattern=UNIT_ID)


class UnitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    kind: str
    district: str | None
    street: str | None
    parent_id: str | None
    active: bool


class UnitUpdate(BaseModel):
    """What an administrator may change of a unit; ``active`` false deactivates it."""

    name: str | None = Field(default=None, min_length=2, max_length=100)
    district: str | None = Field(default=None, max_length=20)
    street: str | None = Field(default=None, max_length=50)
    parent_id: str | None = Field(default=None, pattern=UNIT_ID)
    active: bool | None = None

    @model_validator(mode="after")
    def _kept(self) -> "UnitUpdate":
        _no_nulls(self, "name", "active")
        return self


class UnitsRead(BaseModel):
    items: list[UnitRead]


class RoutingRuleCreate(BaseModel):
    category: str | None = Field(default=None, max_length=100, description="empty: any")
    district: str | None = Field(default=None, max_length=20, description="empty: any")
    unit_id: str
    priority: int = Field(default=10, ge=0, le=100)
    note: str = Field(min_length=1, max_length=300)


class RoutingRuleUpdate(BaseModel):
    category: str | None = Field(default=None, max_length=100)
    district: str | None = Field(default=None, max_length=20)
    unit_id: str | None = None
    priority: int | None = Field(default=None, ge=0, le=100)
    note: str | None = Field(default=None, min_length=1, max_length=300)

    @model_validator(mode="after")
    def _kept(self) -> "RoutingRuleUpdate":
        _no_nulls(self, "unit_id", "priority", "note")
        return self


class RoutingImport(BaseModel):
    """Rules to add in one transaction: all or none; those already there are not added twice."""

    rules: list[RoutingRuleCreate] = Field(min_length=1, max_length=5000)


class RoutingImportRead(BaseModel):
    created: int
    already_there: int


class DirectoryChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    entity: str
    entity_id: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class DirectoryChangesRead(BaseModel):
    items: list[DirectoryChangeRead]


class RoutingRuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    category: str | None
    district: str | None
    unit_id: str
    priority: int
    note: str
    source: str
    created_at: datetime
    created_by: str


class RoutingRulesRead(BaseModel):
    items: list[RoutingRuleRead]


class RouteTestRead(BaseModel):
    """Where a call would go: the unit and the rule that matched (none: the agency chooses)."""

    category: str | None
    district: str | None
    unit_id: str | None
    rule: RoutingRuleRead | None
