"""intake: the line that received a call and the line that transferred it (Art 7).

Revision ID: intake_0008
Revises: intake_0007
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "intake_0008"
down_revision: str | Sequence[str] | None = "intake_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "ticket",
        sa.Column("line", sa.Text, nullable=False, server_default="12345"),
        schema="intake",
    )
    op.add_column("ticket", sa.Column("transferred_from", sa.Text), schema="intake")


def downgrade() -> None:
    op.drop_column("ticket", "transferred_from", schema="intake")
    op.drop_column("ticket", "line", schema="intake")
