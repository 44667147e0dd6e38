"""Reference data every stack starts with: Guangzhou's unit directory and routing rules, and
the policy documents the knowledge base answers consultations from (``data/kb``)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from shared.db import make_engine, make_sessionmaker, session_scope

DATA = Path("data")


def load_all(database_url: str, *, data_dir: Path = DATA) -> dict[str, int]:
    """Load (idempotently) every service's shipped reference data; return what was loaded."""
    return asyncio.run(_load_all(database_url, data_dir))


async def _load_all(database_url: str, data_dir: Path) -> dict[str, int]:
    from dispatch.directory.service import load_reference
    from intake.kb.service import import_document

    engine = make_engine(database_url, pool_size=1, application_name="load-reference")
    now = datetime.now(UTC)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            units, rules = await load_reference(session, now=now)
            imported = 0
            index = data_dir / "kb" / "index.json"
            for document in json.loads(index.read_text())["documents"] if index.exists() else []:
                _, _, created = await import_document(
                    session,
                    title=document["title"],
                    source_name=document["file"],
                    raw=(data_dir / "kb" / document["file"]).read_text(),
                    owning_unit=document.get("owning_unit"),
                    actor="reference",
                    now=now,
                )
                imported += created
    finally:
        await engine.dispose()
    return {"units": units, "routing_rules_added": rules, "kb_documents_added": imported}
