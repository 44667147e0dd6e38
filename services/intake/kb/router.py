"""/v1/kb: search for agents, entries for their owning units, document import."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from intake.kb import service
from intake.kb.models import KbEntry
from shared.auth import Principal, Role, authenticated, require
from shared.deps import ClockDep, SessionDep
from shared.errors import BadInput, Forbidden
from shared.workdays import local_date

router = APIRouter(prefix="/v1/kb", tags=["knowledge base"])
Reader = Annotated[Principal, Depends(authenticated)]
Keeper = Annotated[Principal, Depends(require(Role.UNIT, Role.ADMIN))]
Reviewer = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.ADMIN))]


class DocumentImport(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    source_name: str = Field(min_length=1, max_length=300)
    text: str = Field(min_length=1, max_length=2_000_000, description="raw, as extracted")
    owning_unit: str | None = None


class DocumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    source_name: str
    owning_unit: str | None
    imported_at: datetime
    passages: int


class DocumentImported(DocumentRead):
    created: bool
    leftover_artefacts: list[str]


class Hit(BaseModel):
    kind: str
    id: str
    text: str
    source: str
    section: str | None
    score: float = Field(description="BM25: orders the texts that cover the question alike")
    sentence: str = Field(description="the sentence of the text that answers the question")
    coverage: float = Field(description="the share of the question's weight the text carries")
    relevant: bool = Field(description="covers enough of the question to count as an answer")


class SearchRead(BaseModel):
    query: str
    items: list[Hit]
    answered: bool = Field(description="false: the knowledge base has no good answer")


class ReviewStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    RETIRED = "retired"


class EntryWrite(BaseModel):
    question: str = Field(min_length=1, max_length=1000)
    answer: str = Field(min_length=1, max_length=10000)
    source_document_id: str | None = None
    section: str | None = Field(default=None, max_length=300)
    valid_from: date | None = None
    valid_to: date | None = None
    owning_unit: str | None = Field(default=None, description="admins only; units own theirs")


class EntryReview(BaseModel):
    status: ReviewStatus


class EntryVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    question: str
    answer: str
    review_status: str
    changed_at: datetime
    changed_by: str


class EntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    question: str
    answer: str
    owning_unit: str
    source_document_id: str | None
    section: str | None
    valid_from: date | None
    valid_to: date | None
    version: int
    review_status: str
    updated_at: datetime
    versions: list[EntryVersionRead] = []


@router.get("/search", response_model=SearchRead)
async def search(
    session: SessionDep,
    clock: ClockDep,
    _: Reader,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
) -> SearchRead:
    """The entries and passages that best answer a caller's question (Art 10)."""
    hits = await service.search(session, q, limit=limit, today=local_date(clock.now()))
    return SearchRead(
        query=q, items=[Hit(**h) for h in hits], answered=any(h["relevant"] for h in hits)
    )


@router.post("/documents", response_model=DocumentImported, status_code=201)
async def import_document(
    body: DocumentImport, session: SessionDep, clock: ClockDep, principal: Keeper
) -> DocumentImported:
    """Import a policy document as extracted from PDF: repaired, split, indexed."""
    owner = principal.unit_id if principal.role is Role.UNIT else body.owning_unit
    document, leftovers, created = await service.import_document(
        session,
        title=body.title,
        source_name=body.source_name,
        raw=body.text,
        owning_unit=owner,
        actor=principal.subject,
        now=clock.now(),
    )
    return DocumentImported(
        **DocumentRead.model_validate(document).model_dump(),
        created=created,
        leftover_artefacts=leftovers,
    )


@router.get("/documents", response_model=list[DocumentRead])
async def list_documents(session: SessionDep, _: Reader) -> list[DocumentRead]:
    return [DocumentRead.model_validate(d) for d in await service.list_documents(session)]


def _check_dates(body: EntryWrite) -> None:
    if body.valid_from and body.valid_to and body.valid_to < body.valid_from:
        raise BadInput("valid_to is before valid_from", zh="失效日期早于生效日期")


@router.post("/entries", response_model=EntryRead, status_code=201)
async def add_entry(
    body: EntryWrite, session: SessionDep, clock: ClockDep, principal: Keeper
) -> EntryRead:
    """A unit adds an answer it owns; it is searchable once reviewed and approved."""
    _check_dates(body)
    owner = principal.unit_id if principal.role is Role.UNIT else body.owning_unit
    if not owner:
        raise BadInput("name the owning unit", zh="请指定负责维护的单位")
    entry = KbEntry(
        id=str(uuid.uuid4()),
        owning_unit=owner,
        terms="",
        updated_at=clock.now(),
        updated_by=principal.subject,
        **body.model_dump(exclude={"owning_unit"}),
    )
    await service.save_entry(session, entry, by=principal.subject, now=clock.now())
    return await _read(session, entry)


@router.put("/entries/{entry_id}", response_model=EntryRead)
async def update_entry(
    entry_id: str, body: EntryWrite, session: SessionDep, clock: ClockDep, principal: Keeper
) -> EntryRead:
    """A new version of the entry, by its owning unit; it goes back to review."""
    _check_dates(body)
    entry = await service.get_entry(session, entry_id, lock=True)
    if principal.role is Role.UNIT and entry.owning_unit != principal.unit_id:
        raise Forbidden(
            "only the owning unit maintains this entry", zh="只有负责维护的单位可以修改该条目"
        )
    for field, value in body.model_dump(exclude={"owning_unit"}).items():
        setattr(entry, field, value)
    entry.version += 1
    entry.review_status = ReviewStatus.DRAFT.value
    await service.save_entry(session, entry, by=principal.subject, now=clock.now())
    return await _read(session, entry)


@router.post("/entries/{entry_id}/review", response_model=EntryRead)
async def review_entry(
    entry_id: str, body: EntryReview, session: SessionDep, clock: ClockDep, principal: Reviewer
) -> EntryRead:
    entry = await service.get_entry(session, entry_id, lock=True)
    entry.review_status = body.status.value
    await service.save_entry(session, entry, by=principal.subject, now=clock.now())
    return await _read(session, entry)


class EntriesRead(BaseModel):
    items: list[EntryRead]


@router.get("/entries", response_model=EntriesRead)
async def list_entries(
    session: SessionDep, _: Reader, review_status: ReviewStatus | None = None
) -> EntriesRead:
    """The entries, oldest change first; ``review_status=draft``: those awaiting review."""
    entries = await service.list_entries(
        session, review_status=review_status.value if review_status else None
    )
    return EntriesRead(items=[EntryRead.model_validate(e) for e in entries])


@router.get("/entries/{entry_id}", response_model=EntryRead)
async def get_entry(entry_id: str, session: SessionDep, _: Reader) -> EntryRead:
    return await _read(session, await service.get_entry(session, entry_id))


async def _read(session: SessionDep, entry: KbEntry) -> EntryRead:
    versions = [
        EntryVersionRead.model_validate(v) for v in await service.versions(session, entry.id)
    ]
    return EntryRead.model_validate(entry).model_copy(update={"versions": versions})
