"""Contracts of what crosses the outbox between services.

An event's ``type`` names it with its version (``ticket.submitted.v1``); a new shape gets a
new name. Receivers ignore fields they do not know, so adding a field is not a new version.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field


class Event(BaseModel):
    """Base of every event payload; subclasses set ``type_name``."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    type_name: ClassVar[str]


EventT = TypeVar("EventT", bound=Event)


class EventEnvelope(BaseModel):
    """What the relay POSTs to a receiver's ``/v1/events``."""

    model_config = ConfigDict(extra="ignore")

    id: UUID = Field(default_factory=uuid4)
    type: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=50)
    occurred_at: datetime
    ordering_key: str | None = Field(default=None, max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict)

    def parse(self, event_class: builtins.type[EventT]) -> EventT:
        """The payload as its contract model."""
        return event_class.model_validate(self.payload)
