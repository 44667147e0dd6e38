"""Citizens' channels: a submission is received once (numbered, sealed, photos cleaned), waits
for an agent's review, and becomes a ticket through the same path as a call; anyone holding
its number and the phone's last four digits can follow its progress."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import shlex
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from intake.citizens import photos, rules
from intake.citizens.models import (
    Attachment,
    Open311Client,
    RateWindow,
    SpentChallenge,
    Submission,
)
from intake.citizens.rules import AttachmentKind, SubmissionSource
from intake.citizens.schemas import AttachmentRead, Progress, Review, SubmissionRead
from intake.citizens.store import Store
from intake.privacy import Vault, is_mobile, mask_name, mask_phone, scrub, scrub_free_text
from intake.tickets import service as tickets
from intake.tickets.keeping import SUBMISSION_SEALED
from intake.tickets.models import Ticket
from intake.tickets.schemas import CallerIn, Channel, TicketCreate
from shared.auth import Principal
from shared.catalogue import catalogue, district_at
from shared.db import session_scope
from shared.errors import BadInput, Conflict, Forbidden, NotFound
from shared.geo import Point, PointIn
from shared.i18n import Lang
from shared.outbox import Outbox
from shared.vocabulary import TicketType

CHALLENGE_TTL = timedelta(minutes=10)
CHANNELS = {SubmissionSource.WEB: Channel.WEB, SubmissionSource.OPEN311: Channel.APP}
NOT_FOUND = NotFound(
    "no matter with this number and phone", zh="未找到该编号的事项，或手机号后四位不符"
)


# --- abuse limits --------------------------------------------------------------------------


def bucket(key: bytes, kind: str, value: str) -> str:
    """A rate window's name: what is counted, keyed-hashed (no address or phone is stored)."""
    return f"{kind}:" + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:24]


async def count(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    *,
    limit: int,
    seconds: int,
    now: datetime,
    what: str,
) -> None:
    """Count one request in its window and refuse it beyond ``limit`` (429). The count is
    its own transaction: a refused or failed request still counts."""
    started = rules.window_start(now, seconds)
    async with session_scope(sessions) as session:
        hits = await session.scalar(
            insert(RateWindow)
            .values(bucket=name, started_at=started, hits=1)
            .on_conflict_do_update(
                index_elements=["bucket", "started_at"], set_={"hits": col(RateWindow.hits) + 1}
            )
            .returning(col(RateWindow.hits))
        )
    rules.check_rate(
        hits or 0, limit=limit, window_ends=started + timedelta(seconds=seconds), now=now, what=what
    )


async def spend_challenge(
    session: AsyncSession, key: bytes, challenge: str, nonce: str, *, now: datetime, bits: int
) -> None:
    """Accept a solved challenge once."""
    challenge_id, expires = rules.checked_challenge(key, challenge, nonce, now=now, min_bits=bits)
    spent = await session.scalar(
        insert(SpentChallenge)
        .values(id=challenge_id, expires_at=expires)
        .on_conflict_do_nothing()
        .returning(col(SpentChallenge.id))
    )
    if spent is None:
        raise Forbidden(
            "this anti-abuse check was already used; reload the page and send again",
            code="challenge_failed",
            zh="防刷验证已使用过，请刷新页面后重新提交",
        )


async def prune(session: AsyncSession, *, now: datetime) -> int:
    """Delete rate windows over a day old and expired challenges (hourly)."""
    windows = await session.execute(
        delete(RateWindow).where(col(RateWindow.started_at) < now - timedelta(days=1))
    )
    spent = await session.execute(
        delete(SpentChallenge).where(col(SpentChallenge.expires_at) < now)
    )
    return int(windows.rowcount or 0) + int(spent.rowcount or 0)  # type: ignore[attr-defined]


# --- attachments ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    content: bytes
    content_type: str
    kind: AttachmentKind


async def scan(command: str | None, content: bytes) -> None:
    """Pipe the file to the configured scanner; a non-zero exit refuses it."""
    if not command:
        return
    process = await asyncio.create_subprocess_exec(
        *shlex.split(command),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await process.communicate(content)
    if process.returncode != 0:
        raise BadInput(
            "the file was refused by the virus scan", code="file_refused", zh="文件未通过病毒扫描"
        )


DOCUMENT_TYPES = {"application/pdf": b"%PDF-"}


async def prepared(
    content: bytes, declared_type: str | None, *, scan_command: str | None
) -> tuple[Upload, Point | None]:
    """A photo re-encoded without metadata (with the GPS it carried), or a PDF checked to be
    one — nothing else is taken — and passed by the virus scan if one is configured."""
    if declared_type in DOCUMENT_TYPES:
        if not content.startswith(DOCUMENT_TYPES[declared_type]):
            raise BadInput("the file is not a PDF", zh="文件不是 PDF 文档")
        upload, gps = Upload(content, declared_type, AttachmentKind.DOCUMENT), None
    else:
        # Decoding and re-encoding a phone's photo takes a few hundred milliseconds of CPU:
        # in a thread (Pillow releases the GIL), not on the event loop.
        image = await asyncio.to_thread(photos.clean, content)
        upload, gps = Upload(image.content, image.content_type, AttachmentKind.PHOTO), image.gps
    await scan(scan_command, upload.content)
    return upload, gps


async def attach(
    session: AsyncSession,
    store: Store,
    upload: Upload,
    *,
    added_by: str,
    now: datetime,
    submission_id: str | None = None,
    ticket_id: str | None = None,
    unit_id: str | None = None,
) -> Attachment:
    digest = hashlib.sha256(upload.content).hexdigest()
    await store.put(session, digest, upload.content)
    attachment = Attachment(
        id=str(uuid.uuid4()),
        submission_id=submission_id,
        ticket_id=ticket_id,
        kind=upload.kind.value,
        content_type=upload.content_type,
        size=len(upload.content),
        sha256=digest,
        store_key=digest,
        added_by=added_by,
        unit_id=unit_id,
        added_at=now,
    )
    session.add(attachment)
    await session.flush()
    return attachment


async def attachments_of(
    session: AsyncSession, *, ticket_id: str | None = None, submission_id: str | None = None
) -> list[Attachment]:
    query = select(Attachment).order_by(col(Attachment.added_at), col(Attachment.id))
    if ticket_id is not None:
        query = query.where(col(Attachment.ticket_id) == ticket_id)
    else:
        query = query.where(col(Attachment.submission_id) == submission_id)
    return list((await session.scalars(query)).all())


def read_attachment(row: Attachment) -> AttachmentRead:
    return AttachmentRead.model_validate(row, from_attributes=True)


# --- submissions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Matter:
    """What a citizen sent, whichever channel it came by."""

    source: SubmissionSource
    text: str
    phone: str | None
    contact_consent: bool
    ticket_type: TicketType | None = None
    category: str | None = None
    place: str | None = None
    point: PointIn | None = None
    share_place: bool = False
    name: str | None = None
    client_id: str | None = None
    media_url: str | None = None


async def receive(
    session: AsyncSession,
    vault: Vault,
    store: Store,
    matter: Matter,
    uploads: list[tuple[Upload, Point | None]],
    *,
    idempotency_key: str | None,
    now: datetime,
) -> tuple[Submission, bool]:
    """Number and keep a submission; a retry with the same key gets the first one back."""
    if idempotency_key:
        # A key is the sender's own: the application's, or the phone's behind the form.
        sender = matter.client_id or vault.phone_hash(matter.phone) or ""
        key = f"{matter.source.value}:{sender}:{idempotency_key}"
        earlier = await session.scalar(
            select(Submission).where(col(Submission.idempotency_key) == key)
        )
        if earlier is not None:
            return earlier, False
    if matter.category is not None:
        catalogue().check(matter.category)
    point = matter.point.wgs84() if matter.point else None
    if point is None and matter.share_place:
        point = next((gps for _, gps in uploads if gps is not None), None)
    submission = Submission(
        id=str(uuid.uuid4()),
        number=await tickets.next_number(session, now),
        token=secrets.token_urlsafe(12),
        idempotency_key=key if idempotency_key else None,
        source=matter.source.value,
        client_id=matter.client_id,
        ticket_type=matter.ticket_type.value if matter.ticket_type else None,
        category=matter.category,
        text=scrub(matter.text, name=matter.name, phone=matter.phone, address=None),
        text_sealed=vault.seal(matter.text),
        place=scrub_free_text(matter.place),
        latitude=point.lat if point else None,
        longitude=point.lon if point else None,
        caller_name=vault.seal(matter.name),
        caller_phone=vault.seal(matter.phone),
        caller_phone_hash=vault.phone_hash(matter.phone),
        pii_key_id=vault.key_id,
        contact_consent=matter.contact_consent,
        media_url=matter.media_url,
        received_at=now,
    )
    session.add(submission)
    await session.flush()
    for upload, _ in uploads:
        await attach(
            session, store, upload, added_by="citizen", now=now, submission_id=submission.id
        )
    return submission, True


async def get_submission(
    session: AsyncSession, submission_id: str, *, for_update: bool = False
) -> Submission:
    query = select(Submission).where(
        (col(Submission.id) == submission_id) | (col(Submission.number) == submission_id)
    )
    found = (await session.scalars(query.with_for_update() if for_update else query)).first()
    if found is None:
        raise NotFound(f"no submission {submission_id!r}", zh=f"没有群众来件 {submission_id}")
    return found


async def pending(
    session: AsyncSession, *, limit: int, offset: int, phone_hashes: list[str] | None = None
) -> tuple[list[Submission], int]:
    """The review queue: submissions no agent has reviewed, oldest first; with
    ``phone_hashes``, only those a caller sent from that phone (a caller asking on the line
    about a form they sent)."""
    waiting = [col(Submission.ticket_id).is_(None)]
    if phone_hashes is not None:
        waiting.append(col(Submission.caller_phone_hash).in_(phone_hashes))
    total = await session.scalar(select(func.count()).where(*waiting)) or 0
    query = (
        select(Submission)
        .where(*waiting)
        .order_by(col(Submission.received_at), col(Submission.id))
        .limit(limit)
        .offset(offset)
    )
    return list((await session.scalars(query)).all()), int(total)


async def read_submission(session: AsyncSession, vault: Vault, row: Submission) -> SubmissionRead:
    client = await session.get(Open311Client, row.client_id) if row.client_id else None
    return SubmissionRead(
        id=row.id,
        number=row.number,
        source=SubmissionSource(row.source),
        client_name=client.name if client else None,
        ticket_type=row.ticket_type,
        category=row.category,
        text=row.text,
        place=row.place,
        latitude=row.latitude,
        longitude=row.longitude,
        district=district_at(Point(lat=row.latitude, lon=row.longitude))
        if row.latitude is not None and row.longitude is not None
        else None,
        caller_name=mask_name(vault.open(row.caller_name)),
        caller_phone=mask_phone(vault.open(row.caller_phone)),
        contact_consent=row.contact_consent,
        media_url=row.media_url,
        received_at=row.received_at,
        ticket_id=row.ticket_id,
        reviewed_at=row.reviewed_at,
        reviewed_by=row.reviewed_by,
        attachments=[
            read_attachment(a) for a in await attachments_of(session, submission_id=row.id)
        ],
    )


async def review(
    session: AsyncSession,
    outbox: Outbox,
    vault: Vault,
    submission_id: str,
    body: Review,
    *,
    agent: Principal,
    now: datetime,
) -> Ticket:
    """Make the reviewed submission a ticket, numbered and timed as it arrived; a second
    review of the same submission is refused (the row is locked while the first runs)."""
    submission = await get_submission(session, submission_id, for_update=True)
    if submission.ticket_id is not None:
        raise Conflict(
            f"submission {submission.number} was already reviewed",
            code="already_reviewed",
            zh=f"群众来件 {submission.number} 已审核受理",
        )
    phone = vault.open(submission.caller_phone)
    given = TicketCreate(
        channel=CHANNELS[SubmissionSource(submission.source)],
        caller=CallerIn(
            name=vault.open(submission.caller_name),
            phone=phone,
            # A citizen who agreed to be contacted is told of progress by SMS at a mobile.
            sms_consent=submission.contact_consent and is_mobile(phone),
        ),
        text=vault.open(submission.text_sealed) or submission.text,
        place=body.place or submission.place,
        point=body.point
        or (
            PointIn(lat=submission.latitude, lon=submission.longitude)
            if submission.latitude is not None and submission.longitude is not None
            else None
        ),
        **body.model_dump(exclude={"place", "point"}),
    )
    ticket, _ = await tickets.create(
        session,
        outbox,
        vault,
        given,
        agent=agent,
        idempotency_key=f"submission:{submission.id}",
        now=now,
        number=submission.number,
        received_at=submission.received_at,
    )
    submission.ticket_id = ticket.id
    submission.reviewed_at, submission.reviewed_by = now, agent.subject
    # The ticket holds the citizen's data now: one copy to keep, re-seal and erase.
    for field in SUBMISSION_SEALED:
        setattr(submission, field, None)
    submission.caller_phone_hash = submission.pii_key_id = None
    for attachment in await attachments_of(session, submission_id=submission.id):
        attachment.ticket_id = ticket.id
    return ticket


# --- progress ------------------------------------------------------------------------------


async def progress(
    session: AsyncSession, vault: Vault, number: str, phone_tail: str, lang: Lang
) -> Progress:
    """The matter's progress if the phone's last four digits match; the same refusal whether
    the number is unknown or the digits are wrong (no oracle for numbers)."""
    ticket = await session.scalar(select(Ticket).where(col(Ticket.number) == number))
    source: Ticket | Submission | None = ticket
    if ticket is None:
        source = await session.scalar(select(Submission).where(col(Submission.number) == number))
    if source is None or not rules.phone_tail_matches(vault.open(source.caller_phone), phone_tail):
        raise NOT_FOUND
    stage = rules.public_stage(ticket.status if ticket else None)
    return Progress(
        number=source.number,
        stage=stage,
        stage_label=rules.stage_words(lang)[stage.value],
        received_at=source.received_at,
        ticket_type=source.ticket_type,
        category=source.category,
        unit_name=ticket.assigned_unit_name if ticket else None,
        due_at=ticket.due_at if ticket and not rules.is_closed(stage) else None,
        answer=(ticket.answer or ticket.told_caller) if ticket else None,
    )


# --- Open311 client applications ----------------------------------------------------------


def key_hash(api_key: str) -> str:
    return hashlib.sha256(b"open311|" + api_key.encode()).hexdigest()


async def register_client(
    session: AsyncSession, name: str, *, by: str, now: datetime
) -> tuple[Open311Client, str]:
    api_key = "o311_" + secrets.token_urlsafe(24)
    client = Open311Client(
        id=str(uuid.uuid4()),
        name=name,
        key_hash=key_hash(api_key),
        created_at=now,
        created_by=by,
    )
    session.add(client)
    await session.flush()
    return client, api_key


async def client_of_key(session: AsyncSession, api_key: str | None) -> Open311Client | None:
    if not api_key:
        return None
    found = await session.scalar(
        select(Open311Client).where(col(Open311Client.key_hash) == key_hash(api_key))
    )
    return found if found is not None and found.active else None
