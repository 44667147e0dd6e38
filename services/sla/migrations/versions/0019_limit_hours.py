"""sla: a contact limit may be in hours (round the clock, for the matters a city marks
urgent) instead of working days; the clock runs keep the hours they were given.

Revision ID: sla_0019
Revises: sla_0018
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sla_0019"
down_revision: str | Sequence[str] | None = "sla_0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("time_limit", "clock"):
        op.add_column(table, sa.Column("hours", sa.Integer), schema="sla")
    op.execute("ALTER TABLE sla.time_limit DROP CONSTRAINT working_days")
    op.execute(
        "ALTER TABLE sla.time_limit ADD CONSTRAINT length CHECK ("
        "(hours IS NULL AND working_days BETWEEN 1 AND 60) OR "
        "(clock_kind = 'contact' AND hours BETWEEN 1 AND 23 AND working_days = 0))"
    )


def downgrade() -> None:
    op.execute("DELETE FROM sla.time_limit WHERE hours IS NOT NULL")
    op.execute("ALTER TABLE sla.time_limit DROP CONSTRAINT length")
    op.execute(
        "ALTER TABLE sla.time_limit ADD CONSTRAINT working_days "
        "CHECK (working_days BETWEEN 1 AND 60)"
    )
    for table in ("time_limit", "clock"):
        op.drop_column(table, "hours", schema="sla")
