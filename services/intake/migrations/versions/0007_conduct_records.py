"""intake: warnings of the rules (Art 12 ¶2) and referrals of malicious use (Art 27).

Revision ID: intake_0007
Revises: intake_0006
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "intake_0007"
down_revision: str | Sequence[str] | None = "intake_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conduct_record",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column(
            "ticket_id", sa.Text, sa.ForeignKey("intake.ticket.id"), nullable=False, index=True
        ),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("referred_to", sa.Text),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        schema="intake",
    )


def downgrade() -> None:
    op.drop_table("conduct_record", schema="intake")
