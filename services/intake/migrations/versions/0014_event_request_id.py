"""intake: an event keeps the id of the request that caused it, which the relay sends on, so
that one id traces a call from intake through dispatch to sla.

Revision ID: intake_0014
Revises: intake_0013
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from shared.migration_ops import add_outbox_request_id_v4, drop_outbox_request_id_v4

revision: str = "intake_0014"
down_revision: str | Sequence[str] | None = "intake_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_outbox_request_id_v4("intake")


def downgrade() -> None:
    drop_outbox_request_id_v4("intake")
