"""intake: the knowledge base — documents, passages, entries with versions; full-text search.

Revision ID: intake_0003
Revises: intake_0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "intake_0003"
down_revision: str | Sequence[str] | None = "intake_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "intake"
# Terms are segmented by jieba before they reach PostgreSQL; 'simple' keeps them as they are.
TSV = sa.Computed("to_tsvector('simple', terms)", persisted=True)


def upgrade() -> None:
    op.create_table(
        "kb_document",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("source_name", sa.Text, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False, unique=True),
        sa.Column("owning_unit", sa.Text),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.Text, nullable=False),
        sa.Column("passages", sa.Integer, nullable=False),
        schema=S,
    )
    op.create_table(
        "kb_passage",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "document_id", sa.Text, sa.ForeignKey(f"{S}.kb_document.id"), nullable=False, index=True
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("section", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("terms", sa.Text, nullable=False),
        sa.Column("tsv", postgresql.TSVECTOR, TSV),
        schema=S,
    )
    op.create_index("ix_kb_passage_tsv", "kb_passage", ["tsv"], schema=S, postgresql_using="gin")
    op.create_table(
        "kb_entry",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("owning_unit", sa.Text, nullable=False),
        sa.Column("source_document_id", sa.Text),
        sa.Column("section", sa.Text),
        sa.Column("valid_from", sa.Date),
        sa.Column("valid_to", sa.Date),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("review_status", sa.Text, nullable=False),
        sa.Column("terms", sa.Text, nullable=False),
        sa.Column("tsv", postgresql.TSVECTOR, TSV),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        schema=S,
    )
    op.create_index("ix_kb_entry_tsv", "kb_entry", ["tsv"], schema=S, postgresql_using="gin")
    op.create_table(
        "kb_entry_version",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("entry_id", sa.Text, nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("review_status", sa.Text, nullable=False),
        sa.Column("valid_from", sa.Date),
        sa.Column("valid_to", sa.Date),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        schema=S,
    )


def downgrade() -> None:
    for table in ("kb_entry_version", "kb_entry", "kb_passage", "kb_document"):
        op.drop_table(table, schema=S)
