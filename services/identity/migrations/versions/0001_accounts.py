"""identity schema: accounts, refresh tokens, the record of changes, sign-ins under way at
the city's identity provider; the outbox, inbox,
idempotency keys and notifications every service has.

Revision ID: identity_0001
Revises:
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from shared.migration_ops import (
    add_outbox_request_id_v4,
    create_idempotency_v1,
    create_notifications_v1,
    create_outbox_v1,
    drop_notifications_v1,
    drop_outbox_v1,
    index_outbox_retention_v3,
    order_outbox_per_destination_v2,
)

revision: str = "identity_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_outbox_v1("identity")
    order_outbox_per_destination_v2("identity")
    index_outbox_retention_v3("identity")
    create_idempotency_v1("identity")
    create_notifications_v1("identity")
    add_outbox_request_id_v4("identity")
    op.create_table(
        "account",
        sa.Column("username", sa.Text, primary_key=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("unit_id", sa.Text),
        sa.Column("district", sa.Text),
        sa.Column("password_hash", sa.Text),
        sa.Column("totp_secret", sa.Text),
        sa.Column("totp_last_step", sa.BigInteger),
        sa.Column("failed_sign_ins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("disabled_at", sa.DateTime(timezone=True)),
        sa.Column("signed_out_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        schema="identity",
    )
    op.create_index("ix_account_signed_out_at", "account", ["signed_out_at"], schema="identity")
    op.create_table(
        "refresh_token",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column(
            "username",
            sa.Text,
            sa.ForeignKey("identity.account.username", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        schema="identity",
    )
    op.create_index("ix_refresh_token_username", "refresh_token", ["username"], schema="identity")
    op.create_index(
        "ix_refresh_token_expires_at", "refresh_token", ["expires_at"], schema="identity"
    )
    op.create_table(
        "account_change",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("detail", JSONB, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.Text, nullable=False),
        schema="identity",
    )
    op.create_index("ix_account_change_username", "account_change", ["username"], schema="identity")
    op.create_table(
        "oidc_attempt",
        sa.Column("state", sa.Text, primary_key=True),
        sa.Column("nonce", sa.Text, nullable=False),
        sa.Column("verifier", sa.Text, nullable=False),
        sa.Column("redirect_uri", sa.Text, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        schema="identity",
    )
    op.create_index("ix_oidc_attempt_expires_at", "oidc_attempt", ["expires_at"], schema="identity")


def downgrade() -> None:
    op.drop_table("oidc_attempt", schema="identity")
    op.drop_table("account_change", schema="identity")
    op.drop_table("refresh_token", schema="identity")
    op.drop_table("account", schema="identity")
    drop_notifications_v1("identity")
    op.execute("DROP TABLE IF EXISTS identity.idempotency_key")
    drop_outbox_v1("identity")
