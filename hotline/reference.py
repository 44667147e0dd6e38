"""Reference data every stack starts with: Guangzhou's unit directory and routing rules, the
policy documents the knowledge base answers consultations from (``data/kb``), and the first
classifier trained on the shipped corpus."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from shared.db import standalone_session

DATA = Path("data")


def load_all(database_url: str, *, data_dir: Path = DATA) -> dict[str, int]:
    """Load (idempotently) every service's shipped reference data; return what was loaded."""
    return asyncio.run(_load_all(database_url, data_dir))


async def _load_all(database_url: str, data_dir: Path) -> dict[str, int]:
    from dispatch.directory.service import load_reference
    from intake.classify.service import ensure_active_model
    from intake.kb.service import import_document

    now = datetime.now(UTC)
    index = data_dir / "kb" / "index.json"
    documents = json.loads(index.read_text())["documents"] if index.exists() else []
    async with standalone_session(database_url, application_name="load-reference") as session:
        units, rules = await load_reference(session, now=now)
        imported = 0
        for document in documents:
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
        # The first classifier is trained here, not in a request (about a second of CPU).
        trained = await ensure_active_model(session, now=now) is not None
    return {
        "units": units,
        "routing_rules_added": rules,
        "kb_documents_added": imported,
        "classifier_trained": int(trained),
    }
