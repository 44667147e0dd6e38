"""sla: each day's counts per unit and district, summed from report_day at each recount, so
the KPIs of every unit (the all-units table, the monthly ranking) read a row per unit,
district and day instead of one per street and category too; filled now from report_day.

Revision ID: sla_0020
Revises: sla_0019
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sla_0020"
down_revision: str | Sequence[str] | None = "sla_0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "sla"
MEASURES = [
    "tickets", "tickets_late", "received", "received_late", "closed", "closed_on_time",
    "closed_late", "days_late", "still_late", "returns_asked", "returns_upheld", "satisfied",
    "rated", "solved", "partly_solved", "resolution_answered", "judged", "judged_solved",
    "rehandled", "extended", "responses", "to_contact", "contacted_on_time", "supervisions",
]  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "report_unit_day",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("unit_id", sa.Text),
        sa.Column("district", sa.Text),
        *(sa.Column(m, sa.Integer, nullable=False) for m in MEASURES),
        sa.Column("response_hours", sa.Float, nullable=False),
        schema=S,
    )
    op.create_index(
        "ix_report_unit_day_day_unit_id", "report_unit_day", ["day", "unit_id"], schema=S
    )
    sums = ", ".join(f"sum({m})" for m in MEASURES)
    op.execute(
        f"INSERT INTO {S}.report_unit_day (day, unit_id, district, {', '.join(MEASURES)}, "
        f"response_hours) SELECT day, unit_id, district, {sums}, sum(response_hours) "
        f"FROM {S}.report_day GROUP BY day, unit_id, district"
    )


def downgrade() -> None:
    op.drop_table("report_unit_day", schema=S)
