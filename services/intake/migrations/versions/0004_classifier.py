"""intake: trained classifier models.

Revision ID: intake_0004
Revises: intake_0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "intake_0004"
down_revision: str | Sequence[str] | None = "intake_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "classifier_model",
        sa.Column("version", sa.Text, primary_key=True),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trained_on", sa.Integer, nullable=False),
        sa.Column("metrics", postgresql.JSONB, nullable=False),
        sa.Column("blob", sa.LargeBinary, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        schema="intake",
    )


def downgrade() -> None:
    op.drop_table("classifier_model", schema="intake")
