"""dispatch: the line that received a ticket, and the sub-centre or dual-number unit that
answers it and acts as the agency for its tickets (Art 7).

Revision ID: dispatch_0009
Revises: dispatch_0008
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dispatch_0009"
down_revision: str | Sequence[str] | None = "dispatch_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "ticket",
        sa.Column("line", sa.Text, nullable=False, server_default="12345"),
        schema="dispatch",
    )
    op.add_column("ticket", sa.Column("line_unit", sa.Text), schema="dispatch")


def downgrade() -> None:
    op.drop_column("ticket", "line_unit", schema="dispatch")
    op.drop_column("ticket", "line", schema="dispatch")
