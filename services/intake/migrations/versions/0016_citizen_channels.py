"""intake: citizens' own channels — submissions awaiting review, attachments and their bytes,
Open311 client applications, rate windows, spent challenges; a ticket's point and what a
caller asking for progress is told (unit name, due time, answer).

Revision ID: intake_0016
Revises: intake_0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "intake_0016"
down_revision: str | Sequence[str] | None = "intake_0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TICKET_COLUMNS = (
    ("latitude", sa.Float),
    ("longitude", sa.Float),
    ("assigned_unit_name", sa.Text),
    ("due_at", sa.DateTime(timezone=True)),
    ("answer", sa.Text),
)


def upgrade() -> None:
    for name, kind in TICKET_COLUMNS:
        op.add_column("ticket", sa.Column(name, kind), schema="intake")
    op.create_table(
        "submission",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("number", sa.Text, nullable=False, unique=True),
        sa.Column("token", sa.Text, nullable=False, unique=True),
        sa.Column("idempotency_key", sa.Text, unique=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("client_id", sa.Text),
        sa.Column("ticket_type", sa.Text),
        sa.Column("category", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("text_sealed", sa.Text),
        sa.Column("place", sa.Text),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("caller_name", sa.Text),
        sa.Column("caller_phone", sa.Text),
        sa.Column("caller_phone_hash", sa.Text),
        sa.Column("pii_key_id", sa.Text),
        sa.Column("contact_consent", sa.Boolean, nullable=False),
        sa.Column("media_url", sa.Text),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ticket_id", sa.Text, sa.ForeignKey("intake.ticket.id")),
        sa.Column("reviewed_at", sa.DateTime(timezone=True)),
        sa.Column("reviewed_by", sa.Text),
        schema="intake",
    )
    op.create_index(
        "ix_intake_submission_caller_phone_hash",
        "submission",
        ["caller_phone_hash"],
        schema="intake",
    )
    op.create_index("ix_submission_received_at", "submission", ["received_at"], schema="intake")
    op.create_index(
        "ix_submission_pending",
        "submission",
        ["received_at"],
        schema="intake",
        postgresql_where=sa.text("ticket_id IS NULL"),
    )
    op.create_table(
        "attachment",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("submission_id", sa.Text, sa.ForeignKey("intake.submission.id")),
        sa.Column("ticket_id", sa.Text, sa.ForeignKey("intake.ticket.id")),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("store_key", sa.Text, nullable=False),
        sa.Column("added_by", sa.Text, nullable=False),
        sa.Column("unit_id", sa.Text),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        schema="intake",
    )
    op.create_index(
        "ix_intake_attachment_submission_id", "attachment", ["submission_id"], schema="intake"
    )
    op.create_index("ix_intake_attachment_ticket_id", "attachment", ["ticket_id"], schema="intake")
    op.create_table(
        "blob",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("content", sa.LargeBinary, nullable=False),
        schema="intake",
    )
    op.create_table(
        "open311_client",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("key_hash", sa.Text, nullable=False, unique=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        schema="intake",
    )
    op.create_table(
        "rate_window",
        sa.Column("bucket", sa.Text, primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("hits", sa.Integer, nullable=False),
        schema="intake",
    )
    op.create_table(
        "spent_challenge",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        schema="intake",
    )
    op.create_index(
        "ix_intake_spent_challenge_expires_at", "spent_challenge", ["expires_at"], schema="intake"
    )


def downgrade() -> None:
    for table in ("spent_challenge", "rate_window", "open311_client", "blob", "attachment"):
        op.drop_table(table, schema="intake")
    op.drop_table("submission", schema="intake")
    for name, _ in TICKET_COLUMNS:
        op.drop_column("ticket", name, schema="intake")
