"""sla: the time a unit has to first contact the caller (响应, the State Council's hotline
guidance beside the Measures): one working day for every matter unless the city sets a
row of its own for a type or category; and the daily counts behind the response rate
(every day already rolled up is marked stale, to be recounted with them).

Revision ID: sla_0016
Revises: sla_0015
Create Date: 2026-12-06
"""

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision: str = "sla_0016"
down_revision: str | Sequence[str] | None = "sla_0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IN_FORCE = datetime(2022, 11, 1, tzinfo=timezone(timedelta(hours=8)))
REASON = "响应: the unit contacts the caller within 1 working day of receiving the matter"
COLUMNS = ("to_contact", "contacted_on_time")


def upgrade() -> None:
    limits = sa.table(
        "time_limit",
        sa.column("clock_kind", sa.Text),
        sa.column("working_days", sa.Integer),
        sa.column("max_extensions", sa.Integer),
        sa.column("effective_from", sa.DateTime(timezone=True)),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("created_by", sa.Text),
        sa.column("reason", sa.Text),
        schema="sla",
    )
    op.bulk_insert(
        limits,
        [
            {
                "clock_kind": "contact",
                "working_days": 1,
                "max_extensions": 0,
                "effective_from": IN_FORCE,
                "created_at": IN_FORCE,
                "created_by": "hotline guidance",
                "reason": REASON,
            }
        ],
    )

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
    op.execute(
        sa.text(
            "DELETE FROM sla.time_limit WHERE clock_kind = 'contact' AND reason = :r"
        ).bindparams(r=REASON)
    )
