"""sla: remembered Idempotency-Keys (per caller, route and key) with their first answer.

Revision ID: sla_0006
Revises: sla_0005
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

from shared.migration_ops import create_idempotency_v1

revision: str = "sla_0006"
down_revision: str | Sequence[str] | None = "sla_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_idempotency_v1("sla")


def downgrade() -> None:
    op.drop_table("idempotency_key", schema="sla")
