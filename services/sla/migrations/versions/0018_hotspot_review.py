"""sla: supervisors' decisions on a week's hotspots and on the clusters intake finds
(reviewed, or supervised: a supervision opened on each of its matters still being handled).

Revision ID: sla_0018
Revises: sla_0017
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sla_0018"
down_revision: str | Sequence[str] | None = "sla_0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hotspot_review",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("week", sa.Date, nullable=False),
        sa.Column("category", sa.Text),
        sa.Column("district", sa.Text),
        sa.Column("street", sa.Text),
        sa.Column("cluster", sa.Text),
        sa.Column("decision", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("supervisions", sa.Integer, nullable=False, server_default="0"),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Text, nullable=False),
        schema="sla",
    )
    op.create_index("ix_hotspot_review_week", "hotspot_review", ["week"], schema="sla")


def downgrade() -> None:
    op.drop_table("hotspot_review", schema="sla")
