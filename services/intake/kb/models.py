"""Knowledge-base tables: imported documents and their passages, entries and their versions."""

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Computed, Index
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlmodel import Field, SQLModel


def _tsv() -> Column[str]:
    """The generated search vector of the jieba terms (searched through its GIN index)."""
    return Column(TSVECTOR, Computed("to_tsvector('simple', terms)", persisted=True))


class KbDocument(SQLModel, table=True):
    __tablename__ = "kb_document"
    __table_args__ = {"schema": "intake"}

    id: str = Field(primary_key=True)
    title: str
    source_name: str
    sha256: str = Field(unique=True)
    owning_unit: str | None = None
    imported_at: datetime
    imported_by: str
    passages: int


class KbPassage(SQLModel, table=True):
    __tablename__ = "kb_passage"
    __table_args__ = (
        Index("ix_kb_passage_tsv", "tsv", postgresql_using="gin"),
        {"schema": "intake"},
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    document_id: str = Field(foreign_key="intake.kb_document.id", index=True)
    position: int
    section: str
    text: str
    terms: str  # jieba terms; a generated tsvector column indexes them
    tsv: str | None = Field(default=None, sa_column=_tsv())
    # Split again from the same document: kept for the tickets that cite it, not searched.
    retired_at: datetime | None = None


class KbEntry(SQLModel, table=True):
    """A question and its answer, kept by its owning unit (Art 10), versioned."""

    __tablename__ = "kb_entry"
    __table_args__ = (Index("ix_kb_entry_tsv", "tsv", postgresql_using="gin"), {"schema": "intake"})

    id: str = Field(primary_key=True)
    question: str
    answer: str
    owning_unit: str
    source_document_id: str | None = None
    section: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    version: int = 1
    review_status: str = "draft"  # draft | approved | retired
    terms: str
    tsv: str | None = Field(default=None, sa_column=_tsv())
    updated_at: datetime
    updated_by: str


class KbEntryVersion(SQLModel, table=True):
    __tablename__ = "kb_entry_version"
    __table_args__ = {"schema": "intake"}

    id: int | None = Field(default=None, primary_key=True)
    entry_id: str = Field(index=True)
    version: int
    question: str
    answer: str
    review_status: str
    valid_from: date | None = None
    valid_to: date | None = None
    changed_at: datetime
    changed_by: str
