"""Art 25: a dump of the intake schema holds no caller's name, phone or address in clear."""

import asyncio
import subprocess
from pathlib import Path

import pgserver
from intake.app import build_app

from shared.auth import Role
from shared.db import make_engine
from tests.intake.conftest import CALL

PG_DUMP = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump"


async def test_a_dump_of_the_intake_schema_has_no_personal_data_in_clear(
    fresh_database_url, settings, clock, client_for
):
    engine = make_engine(fresh_database_url, pool_size=2)
    app = build_app(settings=settings, engine=engine, clock=clock, run_relay=False)
    try:
        async with client_for(app, Role.AGENT) as client:
            created = await client.post("/v1/tickets", json=CALL)
            await client.post(f"/v1/tickets/{created.json()['id']}/contact")
            contact = await client.get(f"/v1/tickets/{created.json()['id']}/contact")
        assert contact.json()["phone"] == "13812345678"  # it is there, sealed
    finally:
        await engine.dispose()
    dump = (
        await asyncio.to_thread(
            subprocess.run,
            [
                str(PG_DUMP),
                "--schema=intake",
                "--data-only",
                "--dbname",
                fresh_database_url.replace("postgresql+asyncpg", "postgresql"),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    ).stdout
    assert "COPY intake.ticket" in dump and created.json()["number"] in dump
    for personal in ("13812345678", "1381234", "李雷", "林和西路1号"):
        assert personal not in dump, personal


async def _contact(app, client_for, ticket_id: str) -> dict:
    async with client_for(app, Role.AGENT) as client:
        await client.post(f"/v1/tickets/{ticket_id}/contact")
        return (await client.get(f"/v1/tickets/{ticket_id}/contact")).json()


async def test_a_new_key_takes_over_and_rotation_reseals_what_the_old_one_sealed(
    make_app, settings, client_for, session
):
    """Art 25: the personal-data key is a ring. Under a new key with the old one retired,
    old tickets still open and their callers are still found; `rotate-pii-key`'s batches
    re-seal them, after which the old key can go."""
    from intake.privacy import key_id, vault_for
    from intake.tickets.keeping import reseal_batch
    from intake.tickets.models import Ticket
    from pydantic import SecretStr

    old, new = "o" * 44, "n" * 44
    before = make_app("intake", settings=settings.model_copy(update={"pii_key": SecretStr(old)}))
    ring = settings.model_copy(
        update={"pii_key": SecretStr(new), "pii_retired_keys": [SecretStr(old)]}
    )
    during, after = (
        make_app("intake", settings=ring),
        make_app("intake", settings=settings.model_copy(update={"pii_key": SecretStr(new)})),
    )
    async with client_for(before, Role.AGENT) as client:
        ticket_id = (await client.post("/v1/tickets", json=CALL)).json()["id"]
    sealed = await session.get(Ticket, ticket_id)
    assert sealed.pii_key_id == key_id(old)
    old_phone = sealed.caller_phone
    assert (await _contact(during, client_for, ticket_id))["phone"] == "13812345678"
    async with client_for(during, Role.AGENT) as client:
        found = await client.get("/v1/tickets", params={"caller_phone": "13812345678"})
    assert [t["id"] for t in found.json()["items"]] == [ticket_id]

    vault = vault_for(ring)
    assert await reseal_batch(session, vault, after="", limit=10) == ticket_id
    assert await reseal_batch(session, vault, after=ticket_id, limit=10) is None
    await session.commit()
    await session.refresh(sealed)
    assert sealed.pii_key_id == key_id(new) and sealed.caller_phone != old_phone
    assert sealed.caller_phone_hash == vault.phone_hash("13812345678")
    assert (await _contact(after, client_for, ticket_id))["name"] == "李雷"
    async with client_for(after, Role.AGENT) as client:
        found = await client.get("/v1/tickets", params={"caller_phone": "13812345678"})
    assert [t["id"] for t in found.json()["items"]] == [ticket_id]


async def test_callers_personal_data_is_erased_after_the_retention_period(
    intake_app, client_for, session, clock
):
    """Art 25: a closed ticket's caller data goes after the retention period; the matter,
    scrubbed, stays; an open ticket keeps its caller, however old."""
    from datetime import timedelta

    from intake.tickets.keeping import erase_expired
    from intake.tickets.models import Ticket

    async with client_for(intake_app, Role.AGENT) as client:
        closed = (await client.post("/v1/tickets", json=CALL)).json()["id"]
        still_open = (await client.post("/v1/tickets", json=CALL)).json()["id"]
    (await session.get(Ticket, closed)).status = "closed"
    await session.commit()
    clock.advance(timedelta(days=400))
    erased = await erase_expired(
        session, closed_before=clock.now() - timedelta(days=365), now=clock.now()
    )
    await session.commit()
    gone, kept = await session.get(Ticket, closed), await session.get(Ticket, still_open)
    await session.refresh(gone)
    assert erased == 1 and gone.pii_erased_at == clock.now()
    assert (gone.caller_name, gone.caller_phone, gone.caller_phone_hash, gone.text_sealed) == (
        None, None, None, None)  # fmt: skip
    assert gone.text and gone.category == "noise.construction"
    assert kept.caller_phone is not None
    contact = await _contact(intake_app, client_for, closed)
    assert "13812345678" not in str(contact)
