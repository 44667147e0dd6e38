"""dispatch: a ticket intake recorded as a repeat (Art 22) names the ticket it repeats.

Revision ID: dispatch_0005
Revises: dispatch_0004
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dispatch_0005"
down_revision: str | Sequence[str] | None = "dispatch_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("ticket", sa.Column("repeat_of", sa.Text), schema="dispatch")


def downgrade() -> None:
    op.drop_column("ticket", "repeat_of", schema="dispatch")
