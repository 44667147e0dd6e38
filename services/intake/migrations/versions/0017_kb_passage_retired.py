"""intake: a knowledge-base passage can be retired — a document imported before the splitter
changed is split again at the next import, its old passages kept (tickets answered from them
cite their ids) but no longer searched.

Revision ID: intake_0017
Revises: intake_0016
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "intake_0017"
down_revision: str | Sequence[str] | None = "intake_0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "kb_passage", sa.Column("retired_at", sa.DateTime(timezone=True)), schema="intake"
    )


def downgrade() -> None:
    op.execute("DELETE FROM intake.kb_passage WHERE retired_at IS NOT NULL")
    op.drop_column("kb_passage", "retired_at", schema="intake")
