"""dispatch: remembered Idempotency-Keys (per caller, route and key) with their first answer.

Revision ID: dispatch_0004
Revises: dispatch_0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

from shared.migration_ops import create_idempotency_v1

revision: str = "dispatch_0004"
down_revision: str | Sequence[str] | None = "dispatch_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_idempotency_v1("dispatch")


def downgrade() -> None:
    op.drop_table("idempotency_key", schema="dispatch")
