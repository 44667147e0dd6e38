"""dispatch: for units' polls, a log of changes per unit (so that "nothing changed" is one
index probe, and a ticket leaving a unit counts) and the co-handled tickets of each unit in
change order (a GIN index on the array finds them, but cannot give them in order): both
written by triggers on ticket.

Revision ID: dispatch_0013
Revises: dispatch_0012
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dispatch_0013"
down_revision: str | Sequence[str] | None = "dispatch_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "dispatch"

# Statement-level, with transition tables: one insert per statement, whatever it changed.
# Every unit a changed ticket names, before or after the change, as lead, co-handler or
# sub-unit, gets a row; its id (not the ticket's change number, which an earlier statement of
# the same flush may not have moved yet) is what the ETag reads.
LOG_UNIT_CHANGES = f"""
CREATE FUNCTION {S}.log_unit_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {S}.unit_change (unit_id)
    SELECT DISTINCT u.unit_id FROM changed c
    CROSS JOIN LATERAL unnest(ARRAY[c.lead_unit, c.sub_unit] || c.co_handlers) AS u(unit_id)
    WHERE u.unit_id IS NOT NULL;
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO {S}.unit_change (unit_id)
        SELECT DISTINCT u.unit_id FROM previous p
        CROSS JOIN LATERAL unnest(ARRAY[p.lead_unit, p.sub_unit] || p.co_handlers) AS u(unit_id)
        WHERE u.unit_id IS NOT NULL;
    END IF;
    RETURN NULL;
END $$
"""
# Rewritten for every changed ticket by every statement, so the last statement of a flush
# (the one that moves change_seq) leaves the rows as the ticket stands.
KEEP_CO_HANDLING = f"""
CREATE FUNCTION {S}.keep_co_handling() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {S}.co_handling WHERE ticket_id IN (SELECT id FROM changed);
    INSERT INTO {S}.co_handling (ticket_id, unit_id, change_seq, status, overdue)
    SELECT DISTINCT c.id, u.unit_id, c.change_seq, c.status, c.overdue FROM changed c
    CROSS JOIN LATERAL unnest(c.co_handlers) AS u(unit_id);
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "unit_change",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("unit_id", sa.Text, nullable=False),
        schema=S,
    )
    op.create_index("ix_unit_change_unit_id_id", "unit_change", ["unit_id", "id"], schema=S)
    op.create_table(
        "co_handling",
        sa.Column("ticket_id", sa.Text, primary_key=True),
        sa.Column("unit_id", sa.Text, primary_key=True),
        sa.Column("change_seq", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("overdue", sa.Boolean, nullable=False),
        schema=S,
    )
    # A unit's poll, whole or by status or overdue, each in change order.
    for table, unit in (("co_handling", "unit_id"), ("ticket", "lead_unit")):
        op.create_index(
            f"ix_{table}_{unit}_status_change_seq", table, [unit, "status", "change_seq"], schema=S
        )
        op.create_index(
            f"ix_{table}_overdue_{unit}_change_seq",
            table,
            [unit, "change_seq"],
            schema=S,
            postgresql_where=sa.text("overdue"),
        )
    op.create_index(
        "ix_co_handling_unit_id_change_seq", "co_handling", ["unit_id", "change_seq"], schema=S
    )
    op.execute(
        f"""
        INSERT INTO {S}.co_handling (ticket_id, unit_id, change_seq, status, overdue)
        SELECT DISTINCT t.id, u.unit_id, t.change_seq, t.status, t.overdue FROM {S}.ticket t
        CROSS JOIN LATERAL unnest(t.co_handlers) AS u(unit_id)
        """
    )
    op.execute(KEEP_CO_HANDLING)
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER keep_{event.lower()}ed_co_handling AFTER {event} ON {S}.ticket"
            f" REFERENCING NEW TABLE AS changed"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {S}.keep_co_handling()"
        )
    op.execute(LOG_UNIT_CHANGES)
    op.execute(
        f"CREATE TRIGGER log_inserted_unit_changes AFTER INSERT ON {S}.ticket"
        f" REFERENCING NEW TABLE AS changed"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {S}.log_unit_changes()"
    )
    op.execute(
        f"CREATE TRIGGER log_updated_unit_changes AFTER UPDATE ON {S}.ticket"
        f" REFERENCING OLD TABLE AS previous NEW TABLE AS changed"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {S}.log_unit_changes()"
    )
    # A first change for every unit that holds a ticket now.
    op.execute(
        f"""
        INSERT INTO {S}.unit_change (unit_id)
        SELECT DISTINCT u.unit_id FROM {S}.ticket t
        CROSS JOIN LATERAL unnest(ARRAY[t.lead_unit, t.sub_unit] || t.co_handlers) AS u(unit_id)
        WHERE u.unit_id IS NOT NULL
        """
    )


def downgrade() -> None:
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS keep_{event}ed_co_handling ON {S}.ticket")
    op.execute(f"DROP FUNCTION IF EXISTS {S}.keep_co_handling()")
    op.drop_table("co_handling", schema=S)
    op.drop_index("ix_ticket_overdue_lead_unit_change_seq", "ticket", schema=S)
    op.drop_index("ix_ticket_lead_unit_status_change_seq", "ticket", schema=S)
    op.execute(f"DROP TRIGGER IF EXISTS log_updated_unit_changes ON {S}.ticket")
    op.execute(f"DROP TRIGGER IF EXISTS log_inserted_unit_changes ON {S}.ticket")
    op.execute(f"DROP FUNCTION IF EXISTS {S}.log_unit_changes()")
    op.drop_table("unit_change", schema=S)
