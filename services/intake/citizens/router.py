"""Citizens' channels: the public endpoints behind 我要反映 and 办理进度 (no sign-in; held to
rate limits and a proof of work), the agents' review queue, attachments, and the admins'
register of Open311 applications."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, Response, UploadFile
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from intake.citizens import service
from intake.citizens.models import Attachment, Open311Client
from intake.citizens.rules import SubmissionSource, issue_challenge
from intake.citizens.schemas import (
    AttachmentRead,
    ChallengeRead,
    Open311ClientCreate,
    Open311ClientList,
    Open311ClientRead,
    Progress,
    PublicForm,
    PublicSubmission,
    Receipt,
    Review,
    SubmissionPage,
    SubmissionRead,
)
from intake.citizens.store import Store
from intake.deps import TicketRef, VaultDep
from intake.tickets import service as tickets
from intake.tickets.models import Ticket
from intake.tickets.schemas import TicketRead
from shared.auth import Principal, Role, require
from shared.deps import ClockDep, OutboxDep, SessionDep, SettingsDep
from shared.errors import BadInput, Forbidden, NotFound, request_lang
from shared.geo import Point
from shared.service import category_tree
from shared.settings import Settings

public = APIRouter(tags=["citizens"])
router = APIRouter(tags=["citizens"])
Agent = Annotated[Principal, Depends(require(Role.AGENT))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
# Who may see a ticket's attachments: its readers at intake and the unit holding it.
AttachmentReader = Annotated[
    Principal,
    Depends(
        require(Role.AGENT, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN, Role.INSPECTOR, Role.UNIT)
    ),
]
Attacher = Annotated[Principal, Depends(require(Role.AGENT, Role.UNIT))]


def _store(request: Request) -> Store:
    return request.app.state.store


StoreDep = Annotated[Store, Depends(_store)]


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _key(request: Request) -> bytes:
    return request.app.state.challenge_key


async def _limit(request: Request, what: str, who: str, limit: int, seconds: int) -> None:
    """Count the request against ``who`` (an address, a phone, a number) on this route."""
    await service.count(
        request.app.state.sessions,
        service.bucket(_key(request), f"{request.url.path}:{what}", who),
        limit=limit,
        seconds=seconds,
        now=request.app.state.clock.now(),
        what=what,
    )


@public.get("/v1/public/form", response_model=PublicForm)
async def form(request: Request, settings: SettingsDep) -> PublicForm:
    """The categories (in the request's language) and how many photos the form takes."""
    return PublicForm(
        photos_max=settings.public_photos_max, categories=category_tree(request_lang(request.scope))
    )


@public.get("/v1/public/challenge", response_model=ChallengeRead)
async def challenge(request: Request, settings: SettingsDep, clock: ClockDep) -> ChallengeRead:
    """A proof-of-work challenge for the public form (solved in the browser, spent once)."""
    now = clock.now()
    bits = settings.public_challenge_bits
    return ChallengeRead(
        challenge=issue_challenge(_key(request), now=now, bits=bits, ttl=service.CHALLENGE_TTL),
        bits=bits,
        expires_at=now + service.CHALLENGE_TTL,
    )


async def read_uploads(
    files: list[UploadFile], settings: Settings
) -> list[tuple[service.Upload, Point | None]]:
    if len(files) > settings.public_photos_max:
        raise BadInput(
            f"at most {settings.public_photos_max} photos",
            zh=f"最多上传 {settings.public_photos_max} 张照片",
        )
    scan_command = settings.attachment_scan_command
    return [
        await service.prepared(await file.read(), file.content_type, scan_command=scan_command)
        for file in files
    ]


@public.post("/v1/public/submissions", response_model=Receipt, status_code=201)
async def submit(
    request: Request,
    response: Response,
    body: Annotated[PublicSubmission, Form()],
    session: SessionDep,
    vault: VaultDep,
    store: StoreDep,
    settings: SettingsDep,
    clock: ClockDep,
    photos: Annotated[list[UploadFile], File(description="photos of the matter")] = [],  # noqa: B006
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)
    ] = None,
) -> Receipt:
    """我要反映: a citizen's matter, numbered at once and queued for an agent's review; it
    reaches no unit before that. Photos are re-encoded without their metadata."""
    now = clock.now()
    await _limit(request, "address", _address(request), settings.public_submissions_per_minute, 60)
    phone = vault.phone_hash(body.phone) or body.phone
    await _limit(request, "phone", phone, settings.public_submissions_per_phone_per_day, 86400)
    await service.spend_challenge(
        session,
        _key(request),
        body.challenge,
        body.nonce,
        now=now,
        bits=settings.public_challenge_bits,
    )
    uploads = await read_uploads(photos, settings)
    submission, created = await service.receive(
        session,
        vault,
        store,
        service.Matter(
            source=SubmissionSource.WEB,
            text=body.text,
            phone=body.phone,
            contact_consent=body.contact_consent,
            ticket_type=body.ticket_type,
            category=body.category,
            place=body.place,
            point=body.point(),
            share_place=body.share_place,
            name=body.name,
        ),
        uploads,
        idempotency_key=idempotency_key,
        now=now,
    )
    if not created:
        response.status_code = 200
    return Receipt(
        number=submission.number, received_at=submission.received_at, photos=len(uploads)
    )


@public.get("/v1/public/progress", response_model=Progress)
async def progress(
    request: Request,
    session: SessionDep,
    vault: VaultDep,
    settings: SettingsDep,
    number: Annotated[str, Query(min_length=4, max_length=30)],
    phone_tail: Annotated[str, Query(pattern=r"^\d{4}$", description="the phone's last 4 digits")],
) -> Progress:
    """办理进度: status, handling unit, due date and the answer, for the number and the last
    four digits of the phone left with it; nothing personal."""
    number = number.strip().upper()
    await _limit(request, "address", _address(request), settings.public_progress_per_minute, 60)
    await _limit(request, "number", number, settings.public_progress_per_number_per_hour, 3600)
    return await service.progress(session, vault, number, phone_tail, request_lang(request.scope))


# --- the agents' review queue ----------------------------------------------------------------


@router.get("/v1/submissions", response_model=SubmissionPage)
async def review_queue(
    session: SessionDep,
    vault: VaultDep,
    _: Agent,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    caller_phone: Annotated[str | None, Query(min_length=5, max_length=30)] = None,
) -> SubmissionPage:
    """Citizens' submissions awaiting review, oldest first (the whole count in ``total``);
    ``caller_phone``: only those sent from that phone (found by its keyed hash)."""
    hashes = vault.phone_hashes(caller_phone) if caller_phone else None
    rows, total = await service.pending(session, limit=limit, offset=offset, phone_hashes=hashes)
    return SubmissionPage(
        items=[await service.read_submission(session, vault, r) for r in rows], total=total
    )


@router.get("/v1/submissions/{submission_id}", response_model=SubmissionRead)
async def get_submission(
    submission_id: str, session: SessionDep, vault: VaultDep, _: Agent
) -> SubmissionRead:
    row = await service.get_submission(session, submission_id)
    return await service.read_submission(session, vault, row)


@router.post("/v1/submissions/{submission_id}/review", response_model=TicketRead, status_code=201)
async def review(
    submission_id: str,
    body: Review,
    session: SessionDep,
    outbox: OutboxDep,
    vault: VaultDep,
    clock: ClockDep,
    agent: Agent,
) -> TicketRead:
    """Take a submission as a ticket: closed at intake (Art 11), answered (Art 13) or
    submitted to dispatch, keeping its number and the time it arrived."""
    ticket = await service.review(
        session, outbox, vault, submission_id, body, agent=agent, now=clock.now()
    )
    return tickets.read(ticket, vault)


# --- attachments ---------------------------------------------------------------------------


def _may_see(principal: Principal, ticket: Ticket) -> bool:
    if principal.role is Role.UNIT:
        return principal.unit_id is not None and principal.unit_id == ticket.assigned_unit
    return principal.sees_district(ticket.district)


async def _ticket_for(session: AsyncSession, ticket_id: str, principal: Principal) -> Ticket:
    ticket = await tickets.get(session, ticket_id)
    if not _may_see(principal, ticket):
        raise Forbidden(
            "only the ticket's readers and the unit holding it see its attachments",
            zh="只有可查阅该热线事项的人员和承办单位可以查看其附件",
        )
    return ticket


@router.get("/v1/tickets/{ticket_id}/attachments", response_model=list[AttachmentRead])
async def ticket_attachments(
    ticket_id: TicketRef, session: SessionDep, principal: AttachmentReader
) -> list[AttachmentRead]:
    ticket = await _ticket_for(session, ticket_id, principal)
    rows = await service.attachments_of(session, ticket_id=ticket.id)
    return [service.read_attachment(a) for a in rows]


@router.post("/v1/tickets/{ticket_id}/attachments", response_model=AttachmentRead, status_code=201)
async def add_attachment(
    ticket_id: TicketRef,
    file: Annotated[UploadFile, File(description="a photo, or a PDF document")],
    session: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    clock: ClockDep,
    principal: Attacher,
) -> AttachmentRead:
    """A photo or PDF on a ticket: the agent's, or the handling unit's evidence for its
    feedback; photos are re-encoded without metadata like citizens'."""
    ticket = await _ticket_for(session, ticket_id, principal)
    upload, _ = await service.prepared(
        await file.read(), file.content_type, scan_command=settings.attachment_scan_command
    )
    row = await service.attach(
        session,
        store,
        upload,
        added_by=f"{principal.role.value}:{principal.subject}",
        unit_id=principal.unit_id,
        ticket_id=ticket.id,
        now=clock.now(),
    )
    return service.read_attachment(row)


@router.get("/v1/attachments/{attachment_id}", response_class=Response)
async def attachment_content(
    attachment_id: str, session: SessionDep, store: StoreDep, principal: AttachmentReader
) -> Response:
    """The file itself, under the access rules of its ticket (a submission's: agents)."""
    row = await session.get(Attachment, attachment_id)
    if row is None:
        raise NotFound(f"no attachment {attachment_id!r}", zh=f"没有附件 {attachment_id}")
    if row.ticket_id is not None:
        await _ticket_for(session, row.ticket_id, principal)
    elif principal.role is not Role.AGENT:
        raise Forbidden("a submission's files are the agents'", zh="待审核来件的附件仅话务员可查看")
    content = await store.get(session, row.store_key)
    if content is None:
        raise NotFound("the file is missing from the store", zh="附件文件缺失")
    return Response(
        content,
        media_type=row.content_type,
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )


# --- Open311 applications --------------------------------------------------------------------


def _client(row: Open311Client, api_key: str | None = None) -> Open311ClientRead:
    return Open311ClientRead(
        id=row.id,
        name=row.name,
        active=row.active,
        created_at=row.created_at,
        created_by=row.created_by,
        api_key=api_key,
    )


@router.post("/v1/open311/clients", response_model=Open311ClientRead, status_code=201)
async def register_client(
    body: Open311ClientCreate, session: SessionDep, clock: ClockDep, admin: Admin
) -> Open311ClientRead:
    """Register an application that may post requests; its api_key is shown this once."""
    row, api_key = await service.register_client(
        session, body.name, by=admin.subject, now=clock.now()
    )
    return _client(row, api_key)


@router.get("/v1/open311/clients", response_model=Open311ClientList)
async def list_clients(session: SessionDep, _: Admin) -> Open311ClientList:
    rows = await session.scalars(select(Open311Client).order_by(col(Open311Client.created_at)))
    return Open311ClientList(items=[_client(r) for r in rows])


@router.delete("/v1/open311/clients/{client_id}", response_model=Open311ClientRead)
async def withdraw_client(client_id: str, session: SessionDep, _: Admin) -> Open311ClientRead:
    """Withdraw an application's key: its posts are refused from now on."""
    row = await session.get(Open311Client, client_id)
    if row is None:
        raise NotFound(f"no Open311 client {client_id!r}", zh=f"没有 Open311 应用 {client_id}")
    row.active = False
    return _client(row)
