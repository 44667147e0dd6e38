"""sla: how a clock run ended as a typed column (stop_kind), not prose in stop_reason.

Runs stopped before this revision are classified from the reason texts dispatch sent then:
"restart: …" was a restart, "return approved…" an approved return, anything else work done.

Revision ID: sla_0005
Revises: sla_0004
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sla_0005"
down_revision: str | Sequence[str] | None = "sla_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("clock", sa.Column("stop_kind", sa.Text), schema="sla")
    op.execute(
        """
        UPDATE sla.clock SET stop_kind = CASE
            WHEN stop_reason LIKE 'restart:%' THEN 'restarted'
            WHEN stop_reason LIKE 'return approved%' THEN 'returned'
            ELSE 'completed' END
        WHERE state = 'stopped'
        """
    )
    op.create_check_constraint(
        "stop_kind",
        "clock",
        "(state = 'running' AND stop_kind IS NULL) OR "
        "(state = 'stopped' AND stop_kind IN ('completed', 'returned', 'restarted'))",
        schema="sla",
    )


def downgrade() -> None:
    op.drop_constraint("stop_kind", "clock", schema="sla")
    op.drop_column("clock", "stop_kind", schema="sla")
