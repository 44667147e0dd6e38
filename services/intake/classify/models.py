"""Trained classifier models, kept in the database so that every replica uses the same one,
and the record of which model was made active, when, by whom, and whether forced."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, LargeBinary
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
    # "skops"; "joblib" (a pickle) for models stored before: never loaded, never active.
    format: str = "skops"
    active: bool = False


class ClassifierActivation(SQLModel, table=True):
    """A model made active: after training, or by an administrator (a rollback, or forced
    over the evaluation's objection, which is kept with it)."""

    __tablename__ = "classifier_activation"
    __table_args__ = (Index("ix_classifier_activation_at", "at"), {"schema": "intake"})

    id: int | None = Field(default=None, primary_key=True)
    version: str
    at: datetime
    by: str
    forced: bool = False
    regressions: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
