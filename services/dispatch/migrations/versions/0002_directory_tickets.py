"""dispatch: unit directory, routing rules, tickets, returns, determinations, feedback, history.

Revision ID: dispatch_0002
Revises: dispatch_0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "dispatch_0002"
down_revision: str | Sequence[str] | None = "dispatch_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "dispatch"


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "unit",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("district", sa.Text),
        sa.Column("street", sa.Text),
        sa.Column("parent_id", sa.Text, sa.ForeignKey(f"{S}.unit.id"), index=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        schema=S,
    )
    op.create_table(
        "routing_rule",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("category", sa.Text),
        sa.Column("district", sa.Text),
        sa.Column("unit_id", sa.Text, sa.ForeignKey(f"{S}.unit.id"), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        _at("created_at"),
        sa.Column("created_by", sa.Text, nullable=False),
        schema=S,
    )
    op.execute(f"CREATE SEQUENCE {S}.ticket_change_seq")
    op.create_table(
        "ticket",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("number", sa.Text, nullable=False, unique=True),
        sa.Column("ticket_type", sa.Text, nullable=False),
        sa.Column("category", sa.Text),
        sa.Column("district", sa.Text),
        sa.Column("street", sa.Text),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("lead_unit", sa.Text),
        sa.Column("first_unit", sa.Text),
        sa.Column("co_handlers", postgresql.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("sub_unit", sa.Text),
        sa.Column("approved_returns", sa.Integer, nullable=False, server_default="0"),
        sa.Column("determined_unit", sa.Text),
        sa.Column("verification_open", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("status_before_return", sa.Text),
        sa.Column("status_before_review", sa.Text),
        sa.Column("rehandled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("suggested_unit", sa.Text),
        sa.Column("suggested_rule_id", sa.Integer),
        _at("received_at"),
        _at("dispatch_due_at", True),
        _at("verification_due_at", True),
        _at("handling_due_at", True),
        sa.Column("overdue", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("dispatch_overdue", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("long_running_plan", sa.Text),
        sa.Column("new_situation_pending", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("change_seq", sa.BigInteger, nullable=False),
        _at("created_at"),
        _at("updated_at"),
        schema=S,
    )
    # Units' polls: their tickets in change order; the agency's queue by dispatch due time.
    op.create_index(
        "ix_ticket_lead_unit_change_seq", "ticket", ["lead_unit", "change_seq"], schema=S
    )
    op.create_index("ix_ticket_sub_unit_change_seq", "ticket", ["sub_unit", "change_seq"], schema=S)
    op.create_index(
        "ix_ticket_co_handlers", "ticket", ["co_handlers"], schema=S, postgresql_using="gin"
    )
    op.create_index(
        "ix_ticket_queue",
        "ticket",
        ["dispatch_due_at"],
        schema=S,
        postgresql_where=sa.text("status = 'awaiting_dispatch'"),
    )
    op.create_table(
        "return_request",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column(
            "ticket_id", sa.Text, sa.ForeignKey(f"{S}.ticket.id"), nullable=False, index=True
        ),
        sa.Column("unit_id", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("basis", sa.Text, nullable=False),
        _at("requested_at"),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("decision", sa.Text),
        sa.Column("decision_reason", sa.Text),
        _at("decided_at", True),
        sa.Column("decided_by", sa.Text),
        schema=S,
    )
    op.create_table(
        "determination",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column(
            "ticket_id", sa.Text, sa.ForeignKey(f"{S}.ticket.id"), nullable=False, index=True
        ),
        sa.Column("dispute_kind", sa.Text, nullable=False),
        sa.Column("consulted_body", sa.Text, nullable=False),
        sa.Column("unit_id", sa.Text, nullable=False),
        sa.Column("co_handlers", postgresql.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("principle", sa.Text),
        sa.Column("routing_rule_id", sa.Integer),
        _at("decided_at"),
        sa.Column("decided_by", sa.Text, nullable=False),
        schema=S,
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column(
            "ticket_id", sa.Text, sa.ForeignKey(f"{S}.ticket.id"), nullable=False, index=True
        ),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("unit_id", sa.Text, nullable=False),
        sa.Column("handling_time", sa.Text, nullable=False),
        sa.Column("process", sa.Text, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("caller_reply", sa.Text, nullable=False),
        sa.Column("finding", sa.Text),
        _at("submitted_at"),
        sa.Column("submitted_by", sa.Text, nullable=False),
        sa.Column("approved", sa.Boolean),
        sa.Column("review_reason", sa.Text),
        _at("reviewed_at", True),
        sa.Column("reviewed_by", sa.Text),
        schema=S,
    )
    op.create_table(
        "ticket_event",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("ticket_id", sa.Text, nullable=False, index=True),
        _at("at"),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("unit_id", sa.Text),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("details", postgresql.JSONB, nullable=False),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
        schema=S,
    )
    # Art 26: the history is append-only; the hash chain shows any edit made around this.
    op.execute(
        f"""
        CREATE FUNCTION {S}.ticket_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'ticket history is append-only';
        END $$;
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER ticket_event_append_only BEFORE UPDATE OR DELETE ON {S}.ticket_event
        FOR EACH ROW EXECUTE FUNCTION {S}.ticket_event_append_only();
        """
    )


def downgrade() -> None:
    op.execute(f"DROP TRIGGER IF EXISTS ticket_event_append_only ON {S}.ticket_event")
    op.execute(f"DROP FUNCTION IF EXISTS {S}.ticket_event_append_only()")
    for table in (
        "ticket_event",
        "feedback",
        "determination",
        "return_request",
        "ticket",
        "routing_rule",
        "unit",
    ):
        op.drop_table(table, schema=S)
    op.execute(f"DROP SEQUENCE IF EXISTS {S}.ticket_change_seq")
