"""POST /v1/classify: suggestions for the agent, each with its confidence and evidence."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from intake.classify import service
from intake.classify.suggest import Guess, disposition_of, suggest
from intake.deps import ModelDep, VaultDep
from intake.kb.service import search
from intake.tickets.rules import Disposition
from shared.auth import Principal, Role, require
from shared.deps import ClockDep, SessionDep
from shared.workdays import local_date

router = APIRouter(tags=["classification"])
Agent = Annotated[Principal, Depends(require(Role.AGENT, Role.DISPATCHER))]


class ClassifyRequest(BaseModel):
    text: str = Field(min_length=1, max_length=5000)
    address: str | None = Field(default=None, max_length=300)
    caller_phone: str | None = Field(default=None, max_length=30)


class GuessRead(BaseModel):
    value: str | None
    confidence: float
    evidence: str
    low_confidence: bool
    alternatives: list[tuple[str, float]]
    words: list[str] = Field(description="the words of the call that weighed most")


class DispositionRead(BaseModel):
    value: Disposition
    emergency_number: str | None = None
    confidence: float
    low_confidence: bool = False
    evidence: str
    words: list[str] = Field(
        default_factory=list, description="the words that point to the case (an emergency's reason)"
    )
    related_ticket: str | None = Field(
        default=None, description="the number of the caller's ticket the call is about"
    )


def _read(guess: Guess) -> GuessRead:
    return GuessRead(
        value=guess.value,
        confidence=guess.confidence,
        evidence=guess.evidence,
        low_confidence=guess.low_confidence,
        alternatives=guess.alternatives,
        words=list(guess.words),
    )


class ClassifyRead(BaseModel):
    type: GuessRead
    disposition: DispositionRead
    category: GuessRead
    district: dict[str, Any]
    kb_matches: list[dict[str, Any]]
    related_tickets: list[dict[str, Any]]
    model_version: str


@router.post("/v1/classify", response_model=ClassifyRead)
async def classify(
    body: ClassifyRequest,
    session: SessionDep,
    model: ModelDep,
    vault: VaultDep,
    clock: ClockDep,
    _: Agent,
) -> ClassifyRead:
    """Suggest type, Art 11 disposition, category, district, answers and related tickets."""
    suggestion = suggest(model, body.text, address=body.address)
    related = await service.related(
        session,
        vault,
        phone=body.caller_phone,
        category=suggestion.category.value,
        text=body.text,
    )
    consultation = suggestion.ticket_type.value == "consultation"
    answers = await search(session, body.text, limit=3, today=local_date(clock.now()))
    place = suggestion.place
    return ClassifyRead(
        type=_read(suggestion.ticket_type),
        disposition=DispositionRead(**disposition_of(suggestion, related)),
        category=_read(suggestion.category),
        district={
            "value": place.district if place else None,
            "street": place.street if place else None,
            "evidence": place.evidence if place else None,
        },
        # Only answers that cover the question: no unrelated policy text beside a complaint.
        kb_matches=[a for a in answers if a["relevant"]][: 3 if consultation else 1],
        related_tickets=related,
        model_version=model.version,
    )
