"""sla: an event keeps the id of the request that caused it, which the relay sends on, so
that one id traces a call from intake through dispatch to sla.

Revision ID: sla_0021
Revises: sla_0020
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from shared.migration_ops import add_outbox_request_id_v4, drop_outbox_request_id_v4

revision: str = "sla_0021"
down_revision: str | Sequence[str] | None = "sla_0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_outbox_request_id_v4("sla")


def downgrade() -> None:
    drop_outbox_request_id_v4("sla")
