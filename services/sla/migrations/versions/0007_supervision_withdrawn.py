"""sla: a supervision opened by a breach that is withdrawn (the act was on time) says when.

Revision ID: sla_0007
Revises: sla_0006
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sla_0007"
down_revision: str | Sequence[str] | None = "sla_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "supervision", sa.Column("withdrawn_at", sa.DateTime(timezone=True)), schema="sla"
    )


def downgrade() -> None:
    op.drop_column("supervision", "withdrawn_at", schema="sla")
