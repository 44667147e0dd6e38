"""intake: the relay reads undelivered events in order from an index of their own (its batch
stops at its size instead of sorting every pending event or passing every delivered one).

Revision ID: intake_0018
Revises: intake_0017
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from shared.migration_ops import index_outbox_pending_seq_v5, unindex_outbox_pending_seq_v5

revision: str = "intake_0018"
down_revision: str | Sequence[str] | None = "intake_0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    index_outbox_pending_seq_v5("intake")


def downgrade() -> None:
    unindex_outbox_pending_seq_v5("intake")
