"""dispatch: units' notification channels and the notifications sent to them.

Revision ID: dispatch_0015
Revises: dispatch_0014
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from shared.migration_ops import create_notifications_v1, drop_notifications_v1

revision: str = "dispatch_0015"
down_revision: str | Sequence[str] | None = "dispatch_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_notifications_v1("dispatch")


def downgrade() -> None:
    drop_notifications_v1("dispatch")
