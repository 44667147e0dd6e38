"""Schema pieces every service's migrations create, frozen by version.

A migration calls a ``*_v1`` function; a later change to these tables is a new function
and a new migration, never an edit of ``v1`` (that would rewrite history).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


def notify_channel(schema: str) -> str:
    """The LISTEN/NOTIFY channel on which a schema's outbox announces new events."""
    return f"{schema}_outbox"


def create_outbox_v1(schema: str) -> None:
    """Outbox and inbox tables of a service, and the trigger that wakes its relay."""
    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.Uuid, nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("destination", sa.Text, nullable=False),
        sa.Column("ordering_key", sa.Text, nullable=True),
        sa.Column("payload", postgresql.JSONB, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.UniqueConstraint("event_id", "destination", name="uq_outbox_event_id_destination"),
        schema=schema,
    )
    # The relay reads only undelivered rows: keep those indexes small.
    op.create_index(
        "ix_outbox_pending_next_attempt_at",
        "outbox",
        ["next_attempt_at"],
        schema=schema,
        postgresql_where=sa.text("delivered_at IS NULL"),
    )
    op.create_index(
        "ix_outbox_pending_ordering_key_seq",
        "outbox",
        ["ordering_key", "seq"],
        schema=schema,
        postgresql_where=sa.text("delivered_at IS NULL"),
    )
    op.create_table(
        "inbox",
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        schema=schema,
    )
    channel = notify_channel(schema)
    op.execute(
        f"""
        CREATE FUNCTION {schema}.notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{channel}', '');
            RETURN NULL;
        END $$;
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER outbox_notify AFTER INSERT ON {schema}.outbox
        FOR EACH STATEMENT EXECUTE FUNCTION {schema}.notify_outbox();
        """
    )


def drop_outbox_v1(schema: str) -> None:
    """Undo :func:`create_outbox_v1`."""
    op.execute(f"DROP TRIGGER IF EXISTS outbox_notify ON {schema}.outbox")
    op.execute(f"DROP FUNCTION IF EXISTS {schema}.notify_outbox()")
    op.drop_table("inbox", schema=schema)
    op.drop_table("outbox", schema=schema)


def order_outbox_per_destination_v2(schema: str) -> None:
    """Order events per (destination, ordering key): one peer down never holds back another."""
    op.drop_index("ix_outbox_pending_ordering_key_seq", table_name="outbox", schema=schema)
    op.create_index(
        "ix_outbox_pending_destination_ordering_key_seq",
        "outbox",
        ["destination", "ordering_key", "seq"],
        schema=schema,
        postgresql_where=sa.text("delivered_at IS NULL"),
    )


def unorder_outbox_per_destination_v2(schema: str) -> None:
    """Undo :func:`order_outbox_per_destination_v2`."""
    op.drop_index(
        "ix_outbox_pending_destination_ordering_key_seq", table_name="outbox", schema=schema
    )
    op.create_index(
        "ix_outbox_pending_ordering_key_seq",
        "outbox",
        ["ordering_key", "seq"],
        schema=schema,
        postgresql_where=sa.text("delivered_at IS NULL"),
    )


def create_idempotency_v1(schema: str) -> None:
    """The table of remembered keys (migration step; see ``shared.migration_ops``)."""
    op.create_table(
        "idempotency_key",
        sa.Column("scope", sa.Text, primary_key=True),
        sa.Column("route", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("body_hash", sa.Text, nullable=False),
        sa.Column(
            "claimed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("status", sa.Integer),
        sa.Column("content_type", sa.Text),
        sa.Column("body", sa.LargeBinary),
        schema=schema,
    )
    op.create_index(
        "ix_idempotency_key_claimed_at", "idempotency_key", ["claimed_at"], schema=schema
    )


def index_outbox_retention_v3(schema: str) -> None:
    """Indexes by which delivered events and old inbox ids are pruned (``Outbox.prune``)."""
    op.create_index(
        "ix_outbox_delivered_at",
        "outbox",
        ["delivered_at"],
        schema=schema,
        postgresql_where=sa.text("delivered_at IS NOT NULL"),
    )
    op.create_index("ix_inbox_received_at", "inbox", ["received_at"], schema=schema)


def unindex_outbox_retention_v3(schema: str) -> None:
    """Undo :func:`index_outbox_retention_v3`."""
    op.drop_index("ix_inbox_received_at", table_name="inbox", schema=schema)
    op.drop_index("ix_outbox_delivered_at", table_name="outbox", schema=schema)


def create_notifications_v1(schema: str) -> None:
    """A service's notification records and its owners' channels (shared.notify)."""
    op.create_table(
        "notification_channel",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("secret_sealed", sa.Text, nullable=True),
        sa.Column("kinds", postgresql.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("active", sa.Boolean, nullable=False, server_default="true"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        schema=schema,
    )
    op.create_index(
        "ix_notification_channel_owner", "notification_channel", ["owner"], schema=schema
    )
    op.create_table(
        "notification",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("channel_id", sa.Text, nullable=False),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("ticket_id", sa.Text, nullable=True),
        sa.Column("params", postgresql.JSONB, nullable=False),
        sa.Column("urgent", sa.Boolean, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        schema=schema,
    )
    op.create_index("ix_notification_ticket_id", "notification", ["ticket_id"], schema=schema)
    op.create_index(
        "ix_notification_owner_created_at",
        "notification",
        ["owner", "created_at"],
        schema=schema,
    )


def drop_notifications_v1(schema: str) -> None:
    op.drop_table("notification", schema=schema)
    op.drop_table("notification_channel", schema=schema)


def add_outbox_request_id_v4(schema: str) -> None:
    """Events carry the id of the request that caused them (one trace across services)."""
    op.add_column("outbox", sa.Column("request_id", sa.Text), schema=schema)


def drop_outbox_request_id_v4(schema: str) -> None:
    op.drop_column("outbox", "request_id", schema=schema)


def index_outbox_pending_seq_v5(schema: str) -> None:
    """The undelivered events in order: the relay's batch walks these and stops at its size,
    not past every delivered event kept for retention, nor sorting every pending one."""
    op.create_index(
        "ix_outbox_pending_seq",
        "outbox",
        ["seq"],
        schema=schema,
        postgresql_where=sa.text("delivered_at IS NULL"),
    )


def unindex_outbox_pending_seq_v5(schema: str) -> None:
    op.drop_index("ix_outbox_pending_seq", table_name="outbox", schema=schema)
