"""intake: whether the caller agreed to be told of the matter's progress by SMS.

Revision ID: intake_0011
Revises: intake_0010
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "intake_0011"
down_revision: str | Sequence[str] | None = "intake_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "ticket",
        sa.Column("sms_consent", sa.Boolean, nullable=False, server_default="false"),
        schema="intake",
    )


def downgrade() -> None:
    op.drop_column("ticket", "sms_consent", schema="intake")
