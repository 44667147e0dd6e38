"""identity: the relay reads undelivered events in order from an index of their own (its batch
stops at its size instead of sorting every pending event or passing every delivered one).

Revision ID: identity_0002
Revises: identity_0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from shared.migration_ops import index_outbox_pending_seq_v5, unindex_outbox_pending_seq_v5

revision: str = "identity_0002"
down_revision: str | Sequence[str] | None = "identity_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    index_outbox_pending_seq_v5("identity")


def downgrade() -> None:
    unindex_outbox_pending_seq_v5("identity")
