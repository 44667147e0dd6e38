"""sla: outbox events ordered per (destination, ticket), not per ticket alone.

Revision ID: sla_0004
Revises: sla_0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from shared.migration_ops import order_outbox_per_destination_v2, unorder_outbox_per_destination_v2

revision: str = "sla_0004"
down_revision: str | Sequence[str] | None = "sla_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    order_outbox_per_destination_v2("sla")


def downgrade() -> None:
    unorder_outbox_per_destination_v2("sla")
