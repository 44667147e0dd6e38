"""intake: the dispatched tickets by the time they were received, which a week's clusters
read four weeks of (intake.clusters).

Revision ID: intake_0012
Revises: intake_0011
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "intake_0012"
down_revision: str | Sequence[str] | None = "intake_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_ticket_submitted_received_at",
        "ticket",
        ["received_at"],
        schema="intake",
        postgresql_where=sa.text("outcome = 'submitted'"),
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_submitted_received_at", "ticket", schema="intake")
