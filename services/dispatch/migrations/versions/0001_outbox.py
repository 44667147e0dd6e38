"""dispatch schema: the outbox and inbox.

Revision ID: dispatch_0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from shared.migration_ops import create_outbox_v1, drop_outbox_v1

revision: str = "dispatch_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_outbox_v1("dispatch")


def downgrade() -> None:
    drop_outbox_v1("dispatch")
