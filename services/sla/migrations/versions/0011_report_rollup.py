"""sla: report rollups per day, the days a change made stale (marked by triggers), and the
indexes that let a day be recounted from the clock runs, steps, extensions and supervisions
(and a district's units be listed).

Revision ID: sla_0011
Revises: sla_0010
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sla_0011"
down_revision: str | Sequence[str] | None = "sla_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "sla"
MEASURES = [
    "tickets",
    "tickets_late",
    "received",
    "received_late",
    "closed",
    "closed_on_time",
    "closed_late",
    "days_late",
    "still_late",
    "returns_asked",
    "returns_upheld",
    "satisfied",
    "rated",
    "rehandled",
    "extended",
    "responses",
    "supervisions",
]

# Statement-level triggers with transition tables: one insert of marks per statement, so a
# bulk load costs a set-based query, not one per row. They name no vocabulary word: a change
# marks every day it touches, and the recount (sla.dashboard.rollup) decides what counts.
MARK_CLOCK_DAYS = f"""
CREATE FUNCTION {S}.mark_clock_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The days the changed runs stop or fall due, and the start of every run of their
    -- tickets: a ticket's first run carries measures (received, late) that a change to a
    -- later run can alter.
    INSERT INTO {S}.report_stale_day (day)
    SELECT v.day FROM changed c
    CROSS JOIN LATERAL (VALUES ({S}.gz_date(c.stopped_at)), (c.due_date)) AS v(day)
    WHERE v.day IS NOT NULL
    UNION
    SELECT {S}.gz_date(started_at) FROM {S}.clock
    WHERE ticket_id IN (SELECT ticket_id FROM changed);
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO {S}.report_stale_day (day)
        SELECT DISTINCT v.day FROM previous p
        CROSS JOIN LATERAL (VALUES ({S}.gz_date(p.stopped_at)), (p.due_date)) AS v(day)
        WHERE v.day IS NOT NULL;
    END IF;
    RETURN NULL;
END $$
"""
MARK_DAYS_OF = """
CREATE FUNCTION {s}.mark_{table}_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {s}.report_stale_day (day) SELECT DISTINCT {s}.gz_date({column}) FROM changed;
    RETURN NULL;
END $$
"""
MARKED = {"ticket_step": "at", "extension": "at", "supervision": "opened_at"}


def upgrade() -> None:
    op.create_table(
        "report_day",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("unit_id", sa.Text),
        sa.Column("district", sa.Text),
        sa.Column("category", sa.Text),
        *(sa.Column(m, sa.Integer, nullable=False) for m in MEASURES),
        sa.Column("response_hours", sa.Float, nullable=False),
        schema=S,
    )
    op.create_index("ix_report_day_day_unit_id", "report_day", ["day", "unit_id"], schema=S)
    op.create_table(
        "report_stale_day",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("day", sa.Date, nullable=False),
        schema=S,
    )
    op.create_index("ix_report_stale_day_day", "report_stale_day", ["day"], schema=S)
    # A day is recounted from these: runs ended, runs still late by due day, extensions and
    # supervisions by when they happened (steps have (action, at), starts (kind, started_at)).
    op.create_index("ix_clock_stopped_at", "clock", ["stopped_at"], schema=S)
    op.create_index(
        "ix_clock_late_due_date",
        "clock",
        ["due_date"],
        schema=S,
        postgresql_where=sa.text("state = 'running' AND breached_at IS NOT NULL"),
    )
    op.create_index("ix_extension_at", "extension", ["at"], schema=S)
    # The units of a district, one index probe each, for the KPI table of a district agency.
    op.create_index("ix_clock_district_unit_id", "clock", ["district", "unit_id"], schema=S)
    op.create_index("ix_supervision_opened_at", "supervision", ["opened_at"], schema=S)

    op.execute(MARK_CLOCK_DAYS)
    op.execute(
        f"CREATE TRIGGER mark_inserted_days AFTER INSERT ON {S}.clock"
        f" REFERENCING NEW TABLE AS changed"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {S}.mark_clock_days()"
    )
    op.execute(
        f"CREATE TRIGGER mark_updated_days AFTER UPDATE ON {S}.clock"
        f" REFERENCING OLD TABLE AS previous NEW TABLE AS changed"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {S}.mark_clock_days()"
    )
    for table, column in MARKED.items():
        op.execute(MARK_DAYS_OF.format(s=S, table=table, column=column))
        op.execute(
            f"CREATE TRIGGER mark_inserted_days AFTER INSERT ON {S}.{table}"
            f" REFERENCING NEW TABLE AS changed"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {S}.mark_{table}_days()"
        )
    # A supervision withdrawn stops counting on the day it was opened.
    op.execute(
        f"CREATE TRIGGER mark_updated_days AFTER UPDATE ON {S}.supervision"
        f" REFERENCING NEW TABLE AS changed"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {S}.mark_supervision_days()"
    )
    # What is already there is counted by the first report or the job (sla.dashboard.rollup).
    op.execute(
        f"""
        INSERT INTO {S}.report_stale_day (day)
        SELECT {S}.gz_date(started_at) FROM {S}.clock
        UNION SELECT {S}.gz_date(stopped_at) FROM {S}.clock WHERE stopped_at IS NOT NULL
        UNION SELECT due_date FROM {S}.clock
        UNION SELECT {S}.gz_date(at) FROM {S}.ticket_step
        UNION SELECT {S}.gz_date(at) FROM {S}.extension
        UNION SELECT {S}.gz_date(opened_at) FROM {S}.supervision
        """
    )


def downgrade() -> None:
    for table in ("clock", "supervision"):
        op.execute(f"DROP TRIGGER IF EXISTS mark_updated_days ON {S}.{table}")
    for table in ("clock", *MARKED):
        op.execute(f"DROP TRIGGER IF EXISTS mark_inserted_days ON {S}.{table}")
        op.execute(f"DROP FUNCTION IF EXISTS {S}.mark_{table}_days()")
    op.drop_index("ix_supervision_opened_at", "supervision", schema=S)
    op.drop_index("ix_clock_district_unit_id", "clock", schema=S)
    op.drop_index("ix_extension_at", "extension", schema=S)
    op.drop_index("ix_clock_late_due_date", "clock", schema=S)
    op.drop_index("ix_clock_stopped_at", "clock", schema=S)
    op.drop_table("report_stale_day", schema=S)
    op.drop_table("report_day", schema=S)
