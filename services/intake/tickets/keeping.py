"""How long and under which key callers' personal data is kept (Art 25): re-sealing under
the key ring's current key, and erasure after the retention period. The matter itself —
its scrubbed words, category, place and history — stays."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from intake.citizens.models import Submission
from intake.privacy import Vault
from intake.tickets.models import Ticket
from intake.tickets.rules import CLOSED_STATUSES

SEALED = ("text_sealed", "caller_name", "caller_phone", "caller_address")
# A submission holds a citizen's data only until it is reviewed (the ticket holds it then).
SUBMISSION_SEALED = ("text_sealed", "caller_name", "caller_phone")


async def reseal_batch(
    session: AsyncSession, vault: Vault, *, after: str, limit: int
) -> str | None:
    """Re-seal with the current key the personal data of up to ``limit`` tickets after id
    ``after`` that another key sealed, and rehash their callers' phones; the last id looked
    at, or None when there is none left. Rows are locked, skipping any a call is writing."""
    rows = (
        await session.scalars(
            select(Ticket)
            .where(col(Ticket.id) > after)
            .order_by(col(Ticket.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for ticket in rows:
        if ticket.pii_key_id == vault.key_id or ticket.pii_erased_at is not None:
            continue
        for field in SEALED:
            setattr(ticket, field, vault.reseal(getattr(ticket, field)))
        ticket.caller_phone_hash = vault.phone_hash(vault.open(ticket.caller_phone))
        ticket.pii_key_id = vault.key_id
    await session.flush()
    return rows[-1].id if rows else None


async def erase_expired(session: AsyncSession, *, closed_before: datetime, now: datetime) -> int:
    """Erase the callers' personal data of tickets closed before ``closed_before``; how many.
    The caller can then no longer be found by phone, told by SMS or contacted."""
    result = await session.execute(
        update(Ticket)
        .where(
            col(Ticket.pii_erased_at).is_(None),
            col(Ticket.updated_at) < closed_before,
            col(Ticket.status).in_(CLOSED_STATUSES),
            or_(
                *(col(getattr(Ticket, f)).is_not(None) for f in SEALED),
                col(Ticket.caller_phone_hash).is_not(None),
            ),
        )
        .values(
            **dict.fromkeys(SEALED),
            caller_phone_hash=None,
            sms_consent=False,
            pii_erased_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def reseal_submissions(session: AsyncSession, vault: Vault) -> int:
    """Re-seal with the current key what citizens sent that waits for review; how many."""
    rows = (
        await session.scalars(
            select(Submission)
            .where(
                col(Submission.ticket_id).is_(None),
                col(Submission.pii_key_id).is_not(None),
                col(Submission.pii_key_id) != vault.key_id,
            )
            .with_for_update(skip_locked=True)
        )
    ).all()
    for row in rows:
        for field in SUBMISSION_SEALED:
            setattr(row, field, vault.reseal(getattr(row, field)))
        row.caller_phone_hash = vault.phone_hash(vault.open(row.caller_phone))
        row.pii_key_id = vault.key_id
    await session.flush()
    return len(rows)


async def erase_unreviewed(session: AsyncSession, *, received_before: datetime) -> int:
    """Erase what citizens sent that no agent reviewed within the retention period (a
    submission left unreviewed that long was abandoned); how many."""
    result = await session.execute(
        update(Submission)
        .where(
            col(Submission.ticket_id).is_(None),
            col(Submission.received_at) < received_before,
            col(Submission.pii_key_id).is_not(None),
        )
        .values(**dict.fromkeys(SUBMISSION_SEALED), caller_phone_hash=None, pii_key_id=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
