"""sla: clocks by kind and start, so volume and KPIs read only the period asked for.

Revision ID: sla_0010
Revises: sla_0009
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "sla_0010"
down_revision: str | Sequence[str] | None = "sla_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_clock_kind_started_at", "clock", ["kind", "started_at"], schema="sla")


def downgrade() -> None:
    op.drop_index("ix_clock_kind_started_at", "clock", schema="sla")
