"""intake: tickets with sealed personal data, callers' notes, contact reads.

Revision ID: intake_0002
Revises: intake_0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "intake_0002"
down_revision: str | Sequence[str] | None = "intake_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "intake"


def upgrade() -> None:
    op.execute(f"CREATE SEQUENCE {S}.ticket_number_seq")
    op.create_table(
        "ticket",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("number", sa.Text, nullable=False, unique=True),
        sa.Column("idempotency_key", sa.Text, unique=True),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("ticket_type", sa.Text, nullable=False),
        sa.Column("category", sa.Text),
        sa.Column("district", sa.Text),
        sa.Column("street", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("text_sealed", sa.Text),
        sa.Column("place", sa.Text),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("disposition", sa.Text, nullable=False),
        sa.Column("emergency_number", sa.Text),
        sa.Column("told_caller", sa.Text),
        sa.Column("related_ticket_id", sa.Text, sa.ForeignKey(f"{S}.ticket.id")),
        sa.Column("kb_entry_id", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("assigned_unit", sa.Text),
        sa.Column("caller_name", sa.Text),
        sa.Column("caller_phone", sa.Text),
        sa.Column("caller_phone_hash", sa.Text, index=True),
        sa.Column("caller_address", sa.Text),
        sa.Column("flags", postgresql.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("agent", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )
    op.create_table(
        "caller_note",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column(
            "ticket_id", sa.Text, sa.ForeignKey(f"{S}.ticket.id"), nullable=False, index=True
        ),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.Text, nullable=False),
        schema=S,
    )
    op.create_table(
        "contact_access",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("ticket_id", sa.Text, nullable=False, index=True),
        sa.Column("accessed_by", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("unit_id", sa.Text),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )


def downgrade() -> None:
    for table in ("contact_access", "caller_note", "ticket"):
        op.drop_table(table, schema=S)
    op.execute(f"DROP SEQUENCE IF EXISTS {S}.ticket_number_seq")
