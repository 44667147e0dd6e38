"""sla: loaded calendar years and days; the time-limits table with the Measures' defaults.

Revision ID: sla_0002
Revises: sla_0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision: str = "sla_0002"
down_revision: str | Sequence[str] | None = "sla_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Order No. 191 is in force from 2022-11-01 (Art 30).
IN_FORCE = datetime(2022, 11, 1, tzinfo=timezone(timedelta(hours=8)))
DEFAULT_LIMITS = [
    # (clock_kind, ticket_type, working_days, max_extensions, reason)
    ("dispatch", None, 1, 0, "Art 13: dispatch within 1 working day"),
    ("verification", None, 2, 0, "Art 14: return only within 2 working days"),
    ("handling", "consultation", 2, 2, "Art 17(1): consultations within 2 working days"),
    ("handling", None, 10, 2, "Art 17(2): other matters within 10 working days"),
    ("final_feedback", None, 3, 0, "Art 21: final feedback 3 working days after the procedure"),
]


def upgrade() -> None:
    op.create_table(
        "calendar_year",
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("revision", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.Text, nullable=False),
        schema="sla",
    )
    op.create_table(
        "calendar_day",
        sa.Column("day_date", sa.Date, primary_key=True),
        sa.Column("year", sa.Integer, nullable=False, index=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.CheckConstraint("kind IN ('holiday', 'makeup_workday')", name="kind"),
        sa.CheckConstraint("extract(year FROM day_date) = year", name="in_year"),
        schema="sla",
    )
    limits = op.create_table(
        "time_limit",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("clock_kind", sa.Text, nullable=False, index=True),
        sa.Column("ticket_type", sa.Text, nullable=True),
        sa.Column("category", sa.Text, nullable=True),
        sa.Column("working_days", sa.Integer, nullable=False),
        sa.Column("max_extensions", sa.Integer, nullable=False, server_default="0"),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.CheckConstraint("working_days BETWEEN 1 AND 60", name="working_days"),
        sa.CheckConstraint("max_extensions BETWEEN 0 AND 2", name="max_extensions"),
        schema="sla",
    )
    op.bulk_insert(
        limits,
        [
            {
                "clock_kind": kind,
                "ticket_type": ticket_type,
                "category": None,
                "working_days": days,
                "max_extensions": extensions,
                "effective_from": IN_FORCE,
                "created_at": IN_FORCE,
                "created_by": "Order No. 191",
                "reason": reason,
            }
            for kind, ticket_type, days, extensions, reason in DEFAULT_LIMITS
        ],
    )


def downgrade() -> None:
    op.drop_table("time_limit", schema="sla")
    op.drop_table("calendar_day", schema="sla")
    op.drop_table("calendar_year", schema="sla")
