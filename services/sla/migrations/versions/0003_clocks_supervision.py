"""sla: clocks and their changes, extensions, workflow steps, supervision.

Revision ID: sla_0003
Revises: sla_0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "sla_0003"
down_revision: str | Sequence[str] | None = "sla_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "sla"


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "clock",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("ticket_id", sa.Text, nullable=False, index=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("unit_id", sa.Text),
        sa.Column("ticket_type", sa.Text, nullable=False),
        sa.Column("category", sa.Text),
        sa.Column("district", sa.Text),
        _at("started_at"),
        sa.Column("working_days", sa.Integer, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        _at("due_at"),
        sa.Column("provisional", sa.Boolean, nullable=False),
        sa.Column("adjusted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("extensions_used", sa.Integer, nullable=False, server_default="0"),
        sa.Column("max_extensions", sa.Integer, nullable=False),
        sa.Column("extension_working_days", sa.Integer, nullable=False),
        sa.Column("limit_rule_id", sa.Integer, nullable=False),
        _at("breached_at", True),
        _at("stopped_at", True),
        sa.Column("stop_reason", sa.Text),
        sa.Column("working_days_late", sa.Integer),
        sa.CheckConstraint("state IN ('running', 'stopped')", name="state"),
        sa.CheckConstraint("extensions_used <= max_extensions", name="extensions"),
        schema=S,
    )
    # One running clock of a kind per ticket, whatever the replicas do.
    op.create_index(
        "uq_clock_running_kind",
        "clock",
        ["ticket_id", "kind"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("state = 'running'"),
    )
    # The breach scan reads only what is due and not yet breached: its cost follows that.
    op.create_index(
        "ix_clock_scan_due_at",
        "clock",
        ["due_at"],
        schema=S,
        postgresql_where=sa.text("state = 'running' AND breached_at IS NULL"),
    )
    op.create_index(
        "ix_clock_running_due_at",
        "clock",
        ["due_at"],
        schema=S,
        postgresql_where=sa.text("state = 'running'"),
    )
    op.create_index("ix_clock_unit_id_kind", "clock", ["unit_id", "kind"], schema=S)
    op.create_table(
        "clock_change",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "clock_id", sa.BigInteger, sa.ForeignKey(f"{S}.clock.id"), nullable=False, index=True
        ),
        _at("at"),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        _at("old_due_at", True),
        _at("new_due_at", True),
        schema=S,
    )
    op.create_table(
        "extension",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column(
            "clock_id", sa.BigInteger, sa.ForeignKey(f"{S}.clock.id"), nullable=False, index=True
        ),
        sa.Column("ticket_id", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.Text, nullable=False, unique=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        _at("at"),
        _at("old_due_at"),
        _at("new_due_at"),
        sa.Column("new_due_date", sa.Date, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        schema=S,
    )
    op.create_table(
        "ticket_step",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("ticket_id", sa.Text, nullable=False, index=True),
        _at("at"),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("unit_id", sa.Text),
        sa.Column("actor_unit_id", sa.Text),
        sa.Column("ticket_type", sa.Text, nullable=False),
        sa.Column("category", sa.Text),
        sa.Column("district", sa.Text),
        sa.Column("details", postgresql.JSONB, nullable=False),
        schema=S,
    )
    op.create_index("ix_ticket_step_action_at", "ticket_step", ["action", "at"], schema=S)
    op.create_table(
        "supervision",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("ticket_id", sa.Text, nullable=False, index=True),
        sa.Column("clock_id", sa.BigInteger),
        sa.Column("unit_id", sa.Text, index=True),
        sa.Column("district", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        _at("opened_at"),
        sa.Column("opened_by", sa.Text, nullable=False),
        sa.Column("response", sa.Text),
        _at("responded_at", True),
        sa.Column("responded_by", sa.Text),
        sa.Column("outcome", sa.Text),
        _at("closed_at", True),
        sa.Column("closed_by", sa.Text),
        schema=S,
    )
    op.execute(
        f"""
        CREATE FUNCTION {S}.gz_date(instant timestamptz) RETURNS date
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT (instant AT TIME ZONE 'Asia/Shanghai')::date $$
        """
    )


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {S}.gz_date(timestamptz)")
    for table in ("supervision", "ticket_step", "extension", "clock_change", "clock"):
        op.drop_table(table, schema=S)
