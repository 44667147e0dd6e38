"""sla: the street (街道) or town (镇) a matter is in, on its steps, clock runs and daily
counts, so the KPIs and hotspots can be read street by street; every day already rolled up
is marked stale, to be recounted with the column (runs and steps stored before this have no
street: dispatch did not send it).

Revision ID: sla_0017
Revises: sla_0016
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sla_0017"
down_revision: str | Sequence[str] | None = "sla_0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("clock", "ticket_step", "report_day")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("street", sa.Text), schema="sla")
    op.execute("INSERT INTO sla.report_stale_day (day) SELECT DISTINCT day FROM sla.report_day")


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "street", schema="sla")
