"""sla: the ticket's number on each step, so a ticket is found by the number quoted.

Revision ID: sla_0009
Revises: sla_0008
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sla_0009"
down_revision: str | Sequence[str] | None = "sla_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("ticket_step", sa.Column("number", sa.Text), schema="sla")
    op.create_index("ix_sla_ticket_step_number", "ticket_step", ["number"], schema="sla")


def downgrade() -> None:
    op.drop_index("ix_sla_ticket_step_number", "ticket_step", schema="sla")
    op.drop_column("ticket_step", "number", schema="sla")
