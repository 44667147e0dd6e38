"""dispatch: each ticket keeps the hash of its newest history entry, so that appending to the
chain reads the locked ticket row instead of the newest entry (a query per step).

Revision ID: dispatch_0014
Revises: dispatch_0013
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dispatch_0014"
down_revision: str | Sequence[str] | None = "dispatch_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("ticket", sa.Column("history_head", sa.Text), schema="dispatch")
    op.execute(
        """
        UPDATE dispatch.ticket t SET history_head = (
            SELECT e.hash FROM dispatch.ticket_event e
            WHERE e.ticket_id = t.id ORDER BY e.id DESC LIMIT 1
        )
        """
    )


def downgrade() -> None:
    op.drop_column("ticket", "history_head", schema="dispatch")
