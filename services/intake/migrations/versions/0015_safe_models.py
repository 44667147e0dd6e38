"""intake: classifier models stored in skops' format, not as pickles; models stored before
are kept for the record but never loaded again (a new one is trained at the next migrate);
the record of activations.

Revision ID: intake_0015
Revises: intake_0014
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "intake_0015"
down_revision: str | Sequence[str] | None = "intake_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("classifier_model", sa.Column("format", sa.Text), schema="intake")
    op.execute("UPDATE intake.classifier_model SET format = 'joblib', active = false")
    op.alter_column("classifier_model", "format", nullable=False, schema="intake")
    op.create_table(
        "classifier_activation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.Text, nullable=False),
        sa.Column("forced", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("regressions", JSONB, nullable=False),
        schema="intake",
    )
    op.create_index("ix_classifier_activation_at", "classifier_activation", ["at"], schema="intake")


def downgrade() -> None:
    op.drop_table("classifier_activation", schema="intake")
    op.execute("DELETE FROM intake.classifier_model WHERE format = 'skops'")
    op.drop_column("classifier_model", "format", schema="intake")
