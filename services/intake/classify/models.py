"""Trained classifier models, kept in the database so that every replica uses the same one."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, LargeBinary
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class ClassifierModel(SQLModel, table=True):
    __tablename__ = "classifier_model"
    __table_args__ = {"schema": "intake"}

    version: str = Field(primary_key=True)
    trained_at: datetime
    trained_on: int
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    blob: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    active: bool = False
