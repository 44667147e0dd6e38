"""Conduct API shapes (Art 12 ¶2, 27)."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.schemas import Words


class ConductKind(StrEnum):
    WARNING = "warning"  # Art 12 ¶2: the caller was told the rules of the line
    REFERRAL = "referral"  # Art 27: malicious use referred to the authority concerned


class WarningCreate(BaseModel):
    note: Words = Field(max_length=2000, description="what the caller was told")


class ReferralCreate(BaseModel):
    note: Words = Field(max_length=2000, description="the malicious use, and its evidence")
    referred_to: Words = Field(max_length=200, description="e.g. 公安机关")


class ConductRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: str
    kind: ConductKind
    note: str
    referred_to: str | None
    at: datetime
    by: str
    role: str


class ConductList(BaseModel):
    items: list[ConductRead]
