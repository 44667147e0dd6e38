"""dispatch: a ticket waiting on a legal procedure, its guidance department, and when its
next progress report is due (Art 21).

Revision ID: dispatch_0008
Revises: dispatch_0007
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dispatch_0008"
down_revision: str | Sequence[str] | None = "dispatch_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for name, kind in (
        ("legal_procedure", sa.Text),
        ("legal_procedure_reference", sa.Text),
        ("guidance_department", sa.Text),
        ("progress_due_at", sa.DateTime(timezone=True)),
    ):
        op.add_column("ticket", sa.Column(name, kind), schema="dispatch")
    op.create_index(
        "ix_ticket_guidance_department",
        "ticket",
        ["guidance_department"],
        schema="dispatch",
        postgresql_where=sa.text("legal_procedure IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_guidance_department", "ticket", schema="dispatch")
    for name in ("progress_due_at", "guidance_department", "legal_procedure_reference"):
        op.drop_column("ticket", name, schema="dispatch")
    op.drop_column("ticket", "legal_procedure", schema="dispatch")
