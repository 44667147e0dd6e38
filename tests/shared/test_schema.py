"""The table models and the migrations describe one schema: Alembic's autogenerate, run
against the migrated database, finds nothing to change (no index it would drop, no foreign
key it does not know, no column of another type)."""

from importlib import import_module

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, Text
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from shared.db import SERVICES, make_engine
from shared.idempotency import idempotency_table
from shared.notify import Notifications
from shared.outbox import Outbox


def _declared(schema: str) -> MetaData:
    """Every table the code declares in ``schema``: its models, outbox, inbox, keys,
    notifications."""
    for service in SERVICES:
        import_module(f"{service}.app")  # registers every model of the service

    metadata = MetaData()
    for table in SQLModel.metadata.tables.values():
        if table.schema == schema:
            table.to_metadata(metadata)
    outbox = Outbox(schema)
    notifications = Notifications(schema)
    for table in (
        outbox.outbox,
        outbox.inbox,
        idempotency_table(schema),
        notifications.channels,
        notifications.records,
    ):
        table.to_metadata(metadata)
    return metadata


def _same_type(context, inspected_column, metadata_column, inspected_type, metadata_type):
    # SQLModel declares str as AutoString (an unbounded VARCHAR); the migrations say TEXT.
    if isinstance(inspected_type, Text) and isinstance(metadata_type, AutoString):
        return False
    return None  # Alembic's own comparison


@pytest.mark.parametrize("schema", SERVICES)
async def test_models_and_migrations_agree(database_url, schema):
    metadata = _declared(schema)

    def differences(connection):
        context = MigrationContext.configure(
            connection,
            opts={
                "include_schemas": True,
                "include_name": lambda name, kind, _: kind != "schema" or name == schema,
                "include_object": lambda obj, name, kind, reflected, _: name != "alembic_version",
                "compare_type": _same_type,
            },
        )
        return compare_metadata(context, metadata)

    engine = make_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            found = await connection.run_sync(differences)
    finally:
        await engine.dispose()
    assert found == []
