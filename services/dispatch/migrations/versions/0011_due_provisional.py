"""dispatch: whether the ticket's handling due time is provisional (its year's holiday
schedule not loaded yet), so that every screen can mark it.

Revision ID: dispatch_0011
Revises: dispatch_0010
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dispatch_0011"
down_revision: str | Sequence[str] | None = "dispatch_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "ticket",
        sa.Column("due_provisional", sa.Boolean, nullable=False, server_default=sa.false()),
        schema="dispatch",
    )


def downgrade() -> None:
    op.drop_column("ticket", "due_provisional", schema="dispatch")
