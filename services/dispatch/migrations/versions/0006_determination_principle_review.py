"""dispatch: a determination's principle is proposed, then approved or rejected (Art 16 ¶3).

A principle recorded as a routing rule before this revision counts as approved.

Revision ID: dispatch_0006
Revises: dispatch_0005
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dispatch_0006"
down_revision: str | Sequence[str] | None = "dispatch_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "dispatch"


def upgrade() -> None:
    op.add_column("determination", sa.Column("principle_status", sa.Text), schema=S)
    op.add_column(
        "determination",
        sa.Column("principle_reviewed_at", sa.DateTime(timezone=True)),
        schema=S,
    )
    op.add_column("determination", sa.Column("principle_reviewed_by", sa.Text), schema=S)
    op.add_column("determination", sa.Column("principle_review_reason", sa.Text), schema=S)
    op.execute(
        "UPDATE dispatch.determination SET principle_status = 'approved'"
        " WHERE routing_rule_id IS NOT NULL"
    )


def downgrade() -> None:
    for column in (
        "principle_review_reason",
        "principle_reviewed_by",
        "principle_reviewed_at",
        "principle_status",
    ):
        op.drop_column("determination", column, schema=S)
