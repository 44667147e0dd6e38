"""intake's typed dependencies: the vault for callers' personal data, the classifier."""

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from intake.classify.model import TrainedModel
from intake.classify.service import ModelCache
from intake.privacy import Vault
from intake.tickets.models import Ticket
from shared.deps import SessionDep, ticket_resolver


async def get_vault(request: Request) -> Vault:
    return request.app.state.vault


VaultDep = Annotated[Vault, Depends(get_vault)]


async def get_model_cache(request: Request) -> ModelCache:
    return request.app.state.model_cache


async def get_model(
    cache: Annotated[ModelCache, Depends(get_model_cache)], session: SessionDep
) -> TrainedModel:
    """The active classifier (503 classifier_not_ready while the process warms up)."""
    return await cache.get(session)


ModelDep = Annotated[TrainedModel, Depends(get_model)]


async def _id_of_number(session: AsyncSession, number: str) -> str | None:
    return await session.scalar(select(col(Ticket.id)).where(col(Ticket.number) == number))


# A ticket in a path: its id or the number a caller reads out (GZ…).
TicketRef = Annotated[str, Depends(ticket_resolver(_id_of_number))]
