"""sla: Art 21 — a handling period paused for a legal procedure, and the period of the
progress reports while it waits.

Art 21 says "定期" without a number; the default is one standard handling period (10
working days, Art 17(2)), a row of the limits table like every other (docs/decisions.md).

Revision ID: sla_0008
Revises: sla_0007
Create Date: 2026-11-24
"""

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision: str = "sla_0008"
down_revision: str | Sequence[str] | None = "sla_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IN_FORCE = datetime(2022, 11, 1, tzinfo=timezone(timedelta(hours=8)))
REASON = "Art 21: progress reported every 10 working days while a legal procedure runs"


STOP_KINDS = "'completed', 'returned', 'restarted'"


def _stop_kinds(kinds: str) -> None:
    op.drop_constraint("stop_kind", "clock", schema="sla", type_="check")
    op.create_check_constraint(
        "stop_kind",
        "clock",
        f"(state = 'running' AND stop_kind IS NULL) OR "
        f"(state = 'stopped' AND stop_kind IN ({kinds}))",
        schema="sla",
    )


def upgrade() -> None:
    _stop_kinds(STOP_KINDS + ", 'paused'")
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
                "clock_kind": "progress_report",
                "working_days": 10,
                "max_extensions": 0,
                "effective_from": IN_FORCE,
                "created_at": IN_FORCE,
                "created_by": "Order No. 191",
                "reason": REASON,
            }
        ],
    )


def downgrade() -> None:
    _stop_kinds(STOP_KINDS)
    op.execute(
        sa.text(
            "DELETE FROM sla.time_limit WHERE clock_kind = 'progress_report' AND reason = :r"
        ).bindparams(r=REASON)
    )
