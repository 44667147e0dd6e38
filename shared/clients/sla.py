"""Typed calls to sla that need an answer on the spot."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from shared.clients.base import ServiceClient
from shared.errors import PeerRefused, RuleViolation


class ExtensionGranted(BaseModel):
    """sla's answer to an extension: the new due time (Art 18)."""

    ticket_id: str
    due_at: datetime
    due_date: str
    extensions_used: int
    provisional: bool = False


class SlaClient:
    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    async def request_extension(
        self, *, ticket_id: str, reason: str, requested_by: str, idempotency_key: str
    ) -> ExtensionGranted:
        """Ask sla to extend the handling clock; a refusal keeps sla's rule code (409)."""
        try:
            response = await self._client.request(
                "POST",
                f"/v1/tickets/{ticket_id}/extensions",
                json={"reason": reason, "requested_by": requested_by},
                headers={"Idempotency-Key": idempotency_key},
            )
        except PeerRefused as refused:
            if refused.status_code == 409:
                raise RuleViolation(refused.code, refused.message) from None
            raise
        return ExtensionGranted.model_validate(response.json())
