"""sla: the due time a clock's unit was warned of (due within the next working day), the
index the due-soon scan reads (running clocks not yet warned of their present due time), and
the days the supervisors' digest went out.

Revision ID: sla_0014
Revises: sla_0013
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sla_0014"
down_revision: str | Sequence[str] | None = "sla_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("clock", sa.Column("warned_due_at", sa.DateTime(timezone=True)), schema="sla")
    op.create_index(
        "ix_clock_unwarned_due_at",
        "clock",
        ["due_at"],
        schema="sla",
        postgresql_where=sa.text(
            "state = 'running' AND breached_at IS NULL AND warned_due_at IS DISTINCT FROM due_at"
        ),
    )

    op.create_table(
        "digest_day",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        schema="sla",
    )


def downgrade() -> None:
    op.drop_table("digest_day", schema="sla")
    op.drop_index("ix_clock_unwarned_due_at", "clock", schema="sla")
    op.drop_column("clock", "warned_due_at", schema="sla")
