"""dispatch: the relay reads undelivered events in order from an index of their own (its batch
stops at its size instead of sorting every pending event or passing every delivered one).

Revision ID: dispatch_0017
Revises: dispatch_0016
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from shared.migration_ops import index_outbox_pending_seq_v5, unindex_outbox_pending_seq_v5

revision: str = "dispatch_0017"
down_revision: str | Sequence[str] | None = "dispatch_0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    index_outbox_pending_seq_v5("dispatch")


def downgrade() -> None:
    unindex_outbox_pending_seq_v5("dispatch")
