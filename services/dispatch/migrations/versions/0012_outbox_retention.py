"""dispatch: delivered events and old inbox ids are pruned after their retention; the indexes
that find them.

Revision ID: dispatch_0012
Revises: dispatch_0011
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from shared.migration_ops import index_outbox_retention_v3, unindex_outbox_retention_v3

revision: str = "dispatch_0012"
down_revision: str | Sequence[str] | None = "dispatch_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    index_outbox_retention_v3("dispatch")


def downgrade() -> None:
    unindex_outbox_retention_v3("dispatch")
