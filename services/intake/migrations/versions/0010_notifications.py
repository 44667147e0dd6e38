"""intake: notification records and channels (shared.notify).

Revision ID: intake_0010
Revises: intake_0009
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from shared.migration_ops import create_notifications_v1, drop_notifications_v1

revision: str = "intake_0010"
down_revision: str | Sequence[str] | None = "intake_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_notifications_v1("intake")


def downgrade() -> None:
    drop_notifications_v1("intake")
