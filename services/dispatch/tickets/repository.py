"""Every query of dispatch's ticket endpoints that is not a single ticket under lock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import any_, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dispatch.tickets.models import (
    Determination,
    FeedbackRecord,
    ReturnRequest,
    Revisit,
    Ticket,
    TicketEvent,
)
from dispatch.tickets.schemas import Queue
from dispatch.workflow.rules import DIFFICULT_AFTER_RETURNS
from shared.errors import NotFound
from shared.vocabulary import StepAction, TicketStatus

NO_LIMIT = datetime(9999, 12, 31, tzinfo=UTC)  # sorts a desk's tickets without a limit last


def _queue(queue: Queue | None) -> tuple[list[Any], Any]:
    """A desk's tickets and the time each is sorted by: the limit it runs against where one
    runs (soonest first), else the time of its last change (oldest first). ``None``: every
    ticket awaiting dispatch (``GET /v1/queue``)."""
    status = col(Ticket.status)
    waiting = col(Ticket.updated_at)
    difficult = col(Ticket.approved_returns) >= DIFFICULT_AFTER_RETURNS
    desks: dict[Queue | None, tuple[list[Any], Any]] = {
        None: ([status == TicketStatus.AWAITING_DISPATCH.value], col(Ticket.dispatch_due_at)),
        Queue.AWAITING_DISPATCH: (
            [status == TicketStatus.AWAITING_DISPATCH.value, ~difficult],
            col(Ticket.dispatch_due_at),
        ),
        Queue.DIFFICULT: (
            [status == TicketStatus.AWAITING_DISPATCH.value, difficult],
            col(Ticket.dispatch_due_at),
        ),
        Queue.RETURN_APPLICATIONS: ([status == TicketStatus.RETURN_REQUESTED.value], waiting),
        Queue.NEW_SITUATIONS: ([col(Ticket.new_situation_pending)], col(Ticket.handling_due_at)),
        Queue.FEEDBACK_REVIEW: ([status == TicketStatus.FEEDBACK_REVIEW.value], waiting),
        Queue.AWAITING_EVALUATION: ([status == TicketStatus.AWAITING_EVALUATION.value], waiting),
        Queue.UNSATISFIED: ([status == TicketStatus.UNSATISFIED.value], waiting),
    }
    return desks[queue]


def sort_key(queue: Queue | None) -> Any:
    return func.coalesce(_queue(queue)[1], literal(NO_LIMIT))


async def queue_counts(session: AsyncSession, *, scope: list[Any]) -> dict[Queue, int]:
    counts = {}
    for queue in Queue:
        conditions, _ = _queue(queue)
        query = select(func.count()).select_from(Ticket).where(*conditions, *scope)
        counts[queue] = int(await session.scalar(query) or 0)
    return counts


async def queue_page(
    session: AsyncSession,
    queue: Queue | None,
    *,
    scope: list[Any],
    after: tuple[datetime, str] | None,
    limit: int,
) -> tuple[list[tuple[Ticket, datetime]], int]:
    """One page of a desk (keyset on its sort time and the id) and the desk's whole count."""
    conditions, _ = _queue(queue)
    key = sort_key(queue)
    query = select(Ticket, key).where(*conditions, *scope)
    if after is not None:
        query = query.where(tuple_(key, col(Ticket.id)) > tuple_(literal(after[0]), after[1]))
    rows = (await session.execute(query.order_by(key, col(Ticket.id)).limit(limit))).all()
    total = await session.scalar(
        select(func.count()).select_from(Ticket).where(*conditions, *scope)
    )
    return [(row[0], row[1]) for row in rows], int(total or 0)


async def pending_returns(session: AsyncSession, ticket_ids: list[str]) -> dict[str, ReturnRequest]:
    query = select(ReturnRequest).where(
        col(ReturnRequest.ticket_id).in_(ticket_ids), col(ReturnRequest.decision).is_(None)
    )
    return {r.ticket_id: r for r in (await session.scalars(query)).all()}


async def legal_procedures(
    session: AsyncSession, *, guidance_department: str | None, scope: list[Any], limit: int
) -> list[Ticket]:
    """Open tickets with a legal procedure (Art 21), the next progress report due first."""
    query = (
        select(Ticket)
        .where(
            col(Ticket.legal_procedure).is_not(None),
            col(Ticket.status) != TicketStatus.CLOSED.value,
            *scope,
        )
        .order_by(col(Ticket.progress_due_at).asc().nulls_last(), col(Ticket.id))
        .limit(limit)
    )
    if guidance_department:
        query = query.where(col(Ticket.guidance_department) == guidance_department)
    return list((await session.scalars(query)).all())


async def return_request_locked(session: AsyncSession, return_id: int) -> ReturnRequest:
    query = select(ReturnRequest).where(col(ReturnRequest.id) == return_id).with_for_update()
    found = (await session.execute(query)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no return request {return_id}", zh=f"没有退回申请 {return_id}")
    return found


async def determination_locked(session: AsyncSession, determination_id: int) -> Determination:
    query = select(Determination).where(col(Determination.id) == determination_id)
    found = (await session.execute(query.with_for_update())).scalar_one_or_none()
    if found is None:
        raise NotFound(
            f"no determination {determination_id}", zh=f"没有认定记录 {determination_id}"
        )
    return found


async def determinations(
    session: AsyncSession, *, principle_status: str | None, scope: list[Any], limit: int
) -> list[Determination]:
    query = (
        select(Determination)
        .join(Ticket, col(Ticket.id) == col(Determination.ticket_id))
        .where(*scope)
        .order_by(col(Determination.decided_at).desc())
        .limit(limit)
    )
    if principle_status:
        query = query.where(col(Determination.principle_status) == principle_status)
    return list((await session.scalars(query)).all())


async def failed_revisits(session: AsyncSession, ticket_id: str) -> int:
    query = select(func.count()).where(
        col(Revisit.ticket_id) == ticket_id, col(Revisit.reached).is_(False)
    )
    return int(await session.scalar(query) or 0)


async def latest_feedback(
    session: AsyncSession, ticket_id: str, stage: str
) -> FeedbackRecord | None:
    query = (
        select(FeedbackRecord)
        .where(col(FeedbackRecord.ticket_id) == ticket_id, col(FeedbackRecord.stage) == stage)
        .order_by(col(FeedbackRecord.id).desc())
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def steps_recorded(session: AsyncSession, ticket_id: str, action: StepAction) -> int:
    query = select(func.count()).where(
        col(TicketEvent.ticket_id) == ticket_id, col(TicketEvent.action) == action.value
    )
    return int(await session.scalar(query) or 0)


@dataclass(frozen=True)
class PollFilters:
    """What a unit's poll may be narrowed to besides its scope."""

    status: TicketStatus | None = None
    overdue: bool | None = None
    due_before: datetime | None = None
    category: str | None = None

    def conditions(self, status: Any, overdue: Any) -> list[Any]:
        """The conditions, status and overdue on the given columns: the ticket's, or the
        copies an index of the poll's part holds."""
        found: list[Any] = []
        if self.status:
            found.append(status == self.status.value)
        if self.overdue is not None:
            # "= true", not "IS true": the partial index on overdue tickets serves only that.
            found.append(overdue == self.overdue)
        if self.due_before is not None:
            found.append(col(Ticket.handling_due_at) < self.due_before)
        if self.category:
            found.append(col(Ticket.category).startswith(self.category))
        return found


def held_by(unit: str) -> Any:
    """A unit's tickets: those it leads and those it co-handles."""
    return (col(Ticket.lead_unit) == unit) | (literal(unit) == any_(col(Ticket.co_handlers)))


def search_filters(
    *,
    number: str | None,
    words: str | None,
    unit: str | None,
    district: str | None,
    category: str | None,
    status: TicketStatus | None,
    received_from: datetime | None,
    received_before: datetime | None,
    ids: list[str] | None,
    overdue: bool | None = None,
) -> list[Any]:
    """The conditions of a ticket search; the words are matched as written, anywhere in the
    matter (Chinese has no spaces to split on)."""
    found: list[Any] = []
    if number:
        found.append(col(Ticket.number) == number)
    if words:
        escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        found.append(col(Ticket.summary).ilike(f"%{escaped}%", escape="\\"))
    if unit:
        found.append(held_by(unit))
    if district:
        found.append(col(Ticket.district) == district)
    if category:
        found.append(col(Ticket.category).startswith(category))
    if status:
        found.append(col(Ticket.status) == status.value)
    if received_from:
        found.append(col(Ticket.received_at) >= received_from)
    if received_before:
        found.append(col(Ticket.received_at) < received_before)
    if ids is not None:
        found.append(col(Ticket.id).in_(ids))
    if overdue is not None:
        found.append(col(Ticket.overdue).is_(overdue))
    return found


# A ticket with no handling due time yet sorts after every one that has one.
NO_DUE_TIME = datetime(9999, 12, 31, tzinfo=UTC)


def search_key(row: Ticket, soonest_due: bool) -> datetime:
    """The value a page's cursor carries: the due time or the received time."""
    return (row.handling_due_at or NO_DUE_TIME) if soonest_due else row.received_at


async def search(
    session: AsyncSession,
    *,
    conditions: list[Any],
    after: tuple[datetime, str] | None,
    limit: int,
    soonest_due: bool = False,
) -> tuple[list[Ticket], int]:
    """A page of matches and how many match in all: newest received first, or with
    ``soonest_due`` the least time left first (keyset on that time and the id)."""
    query = select(Ticket).where(*conditions)
    if soonest_due:
        key: Any = func.coalesce(col(Ticket.handling_due_at), literal(NO_DUE_TIME))
        if after is not None:
            query = query.where(tuple_(key, col(Ticket.id)) > tuple_(literal(after[0]), after[1]))
        order = (key.asc(), col(Ticket.id).asc())
    else:
        key = col(Ticket.received_at)
        if after is not None:
            query = query.where(tuple_(key, col(Ticket.id)) < tuple_(literal(after[0]), after[1]))
        order = (key.desc(), col(Ticket.id).desc())
    rows = (await session.scalars(query.order_by(*order).limit(limit))).all()
    total = await session.scalar(select(func.count()).select_from(Ticket).where(*conditions))
    return list(rows), int(total or 0)
