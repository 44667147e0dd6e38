"""dispatch: revisits — each attempt to reach a caller for their rating (Art 20).

Revision ID: dispatch_0007
Revises: dispatch_0006
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dispatch_0007"
down_revision: str | Sequence[str] | None = "dispatch_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revisit",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column(
            "ticket_id",
            sa.Text,
            sa.ForeignKey("dispatch.ticket.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("reached", sa.Boolean, nullable=False),
        sa.Column("note", sa.Text),
        schema="dispatch",
    )


def downgrade() -> None:
    op.drop_table("revisit", schema="dispatch")
