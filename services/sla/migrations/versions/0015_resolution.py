"""sla: the counts behind the resolution rate (解决率) — what callers said when rating, and
what the agency judged when it approved the feedback; every day already rolled up is marked
stale, so that it is recounted with them.

Revision ID: sla_0015
Revises: sla_0014
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sla_0015"
down_revision: str | Sequence[str] | None = "sla_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("solved", "partly_solved", "resolution_answered", "judged", "judged_solved")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column(
            "report_day",
            sa.Column(name, sa.Integer, nullable=False, server_default="0"),
            schema="sla",
        )
    op.execute("INSERT INTO sla.report_stale_day (day) SELECT DISTINCT day FROM sla.report_day")


def downgrade() -> None:
    for name in COLUMNS:
        op.drop_column("report_day", name, schema="sla")
