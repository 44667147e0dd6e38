"""sla: notification records and channels (shared.notify).

Revision ID: sla_0013
Revises: sla_0012
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from shared.migration_ops import create_notifications_v1, drop_notifications_v1

revision: str = "sla_0013"
down_revision: str | Sequence[str] | None = "sla_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_notifications_v1("sla")


def downgrade() -> None:
    drop_notifications_v1("sla")
