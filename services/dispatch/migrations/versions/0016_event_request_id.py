"""dispatch: an event keeps the id of the request that caused it, which the relay sends on, so
that one id traces a call from intake through dispatch to sla.

Revision ID: dispatch_0016
Revises: dispatch_0015
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from shared.migration_ops import add_outbox_request_id_v4, drop_outbox_request_id_v4

revision: str = "dispatch_0016"
down_revision: str | Sequence[str] | None = "dispatch_0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_outbox_request_id_v4("dispatch")


def downgrade() -> None:
    drop_outbox_request_id_v4("dispatch")
