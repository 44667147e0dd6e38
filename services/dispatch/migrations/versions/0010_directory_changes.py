"""dispatch: the directory's audit trail (units and routing rules created, updated,
deactivated, deleted); append-only like the tickets' history.

Revision ID: dispatch_0010
Revises: dispatch_0009
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "dispatch_0010"
down_revision: str | Sequence[str] | None = "dispatch_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "directory_change",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("entity", sa.Text, nullable=False),
        sa.Column("entity_id", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("before", JSONB),
        sa.Column("after", JSONB),
        schema="dispatch",
    )
    op.execute(
        """
        CREATE FUNCTION dispatch.directory_change_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the directory''s audit trail is append-only';
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER directory_change_append_only
        BEFORE UPDATE OR DELETE ON dispatch.directory_change
        FOR EACH ROW EXECUTE FUNCTION dispatch.directory_change_append_only()
        """
    )


def downgrade() -> None:
    op.drop_table("directory_change", schema="dispatch")
    op.execute("DROP FUNCTION IF EXISTS dispatch.directory_change_append_only()")
