"""intake: which key sealed a ticket's personal data (the key ring's rotation re-seals the
rows of other keys) and when it was erased after the retention period.

Revision ID: intake_0013
Revises: intake_0012
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "intake_0013"
down_revision: str | Sequence[str] | None = "intake_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("ticket", sa.Column("pii_key_id", sa.Text), schema="intake")
    op.add_column("ticket", sa.Column("pii_erased_at", sa.DateTime(timezone=True)), schema="intake")
    # The retention job reads closed tickets whose personal data is still kept.
    op.create_index(
        "ix_ticket_pii_kept_updated_at",
        "ticket",
        ["updated_at"],
        schema="intake",
        postgresql_where=sa.text("pii_erased_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_pii_kept_updated_at", "ticket", schema="intake")
    op.drop_column("ticket", "pii_erased_at", schema="intake")
    op.drop_column("ticket", "pii_key_id", schema="intake")
