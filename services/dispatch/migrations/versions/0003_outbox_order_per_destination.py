"""dispatch: outbox events ordered per (destination, ticket), not per ticket alone.

Revision ID: dispatch_0003
Revises: dispatch_0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from shared.migration_ops import order_outbox_per_destination_v2, unorder_outbox_per_destination_v2

revision: str = "dispatch_0003"
down_revision: str | Sequence[str] | None = "dispatch_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    order_outbox_per_destination_v2("dispatch")


def downgrade() -> None:
    unorder_outbox_per_destination_v2("dispatch")
