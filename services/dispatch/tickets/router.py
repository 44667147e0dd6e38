"""Reading tickets: the agency's queue, a ticket, its history, a unit's poll."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from dispatch.tickets import repository, service
from dispatch.tickets.actions import (
    TicketReader,
    TicketRef,
    Viewer,
    read,
)
from dispatch.tickets.schemas import (
    ActionRead,
    ActionsRead,
    CallerRecord,
    CallerRecordEntry,
    HistoryEntry,
    HistoryRead,
    Queue,
    QueueCount,
    QueueItem,
    QueuePage,
    QueuesRead,
    ReturnRead,
    TicketPage,
    TicketRead,
    TicketSearchPage,
)
from dispatch.workflow import rules
from shared.auth import Principal, Role, require
from shared.db import session_scope
from shared.deps import AutocommitDep, ClockDep, SessionDep, SessionsDep
from shared.errors import BadInput, Forbidden, request_lang
from shared.i18n import message
from shared.schemas import Day, Instant
from shared.vocabulary import TicketStatus
from shared.workdays import end_of_day

router = APIRouter(tags=["tickets"])
BAD_CURSOR = "翻页游标无效，请从第一页重新查询"


AgencyReader = Annotated[
    Principal,
    Depends(require(Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN, Role.INSPECTOR)),
]


@router.get("/v1/queue", response_model=TicketSearchPage)
async def queue(
    session: SessionDep,
    principal: AgencyReader,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> TicketSearchPage:
    """Tickets awaiting dispatch, the soonest due first, each with its suggested unit and
    rule; paged (``count`` is the whole queue); a district agency's holds its district's."""
    rows, count = await repository.queue_page(
        session,
        None,
        scope=service.district_scope(principal),
        after=_after(cursor),
        limit=limit,
    )
    last = rows[-1] if len(rows) == limit else None
    return TicketSearchPage(
        count=count,
        items=[read(row) for row, _ in rows],
        next_cursor=_cursor(last[1], last[0].id) if last else None,
    )


Searcher = Annotated[
    Principal,
    Depends(require(Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN, Role.INSPECTOR, Role.UNIT)),
]


@router.get("/v1/tickets", response_model=TicketSearchPage)
async def search_tickets(
    session: SessionDep,
    principal: Searcher,
    number: Annotated[str | None, Query(max_length=30)] = None,
    q: Annotated[str | None, Query(max_length=100, description="words in the matter")] = None,
    unit: Annotated[str | None, Query(max_length=100)] = None,
    district: Annotated[str | None, Query(max_length=20)] = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    status: TicketStatus | None = None,
    from_: Annotated[Day | None, Query(alias="from", description="received on or after")] = None,
    to: Annotated[Day | None, Query(description="received on or before")] = None,
    ids: Annotated[
        str | None, Query(max_length=8000, description="comma-separated ids (a phone lookup's)")
    ] = None,
    overdue: bool | None = None,
    order: Annotated[
        Literal["received", "due"], Query(description="newest first, or least time left first")
    ] = "received",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> TicketSearchPage:
    """Find tickets by number, words, unit, district, category, status, lateness and the days
    they were received (Guangzhou days), newest first or least time left first, paged; a
    phone number is looked up at
    intake (``GET /v1/tickets?caller_phone=``) and its ids passed here. A unit searches its
    own tickets, a district agency its district's."""
    if from_ and to and to < from_:
        raise BadInput("'to' is before 'from'", zh="结束日期早于开始日期")
    conditions = repository.search_filters(
        number=number,
        words=q.strip() if q else None,
        unit=unit,
        district=district,
        category=category,
        status=status,
        received_from=end_of_day(from_ - timedelta(days=1)) if from_ else None,
        received_before=end_of_day(to) if to else None,
        ids=[i for i in ids.split(",") if i][:500] if ids is not None else None,
        overdue=overdue,
    )
    if principal.role is Role.UNIT:
        conditions.append(service.unit_scope(principal, principal.unit_id or ""))
    conditions += service.district_scope(principal)
    soonest_due = order == "due"
    rows, count = await repository.search(
        session, conditions=conditions, after=_after(cursor), limit=limit, soonest_due=soonest_due
    )
    last = rows[-1] if len(rows) == limit else None
    return TicketSearchPage(
        count=count,
        items=[read(r) for r in rows],
        next_cursor=_cursor(repository.search_key(last, soonest_due), last.id) if last else None,
    )


@router.get("/v1/queues", response_model=QueuesRead)
async def queues(session: SessionDep, principal: AgencyReader) -> QueuesRead:
    """The agency's desks and how many tickets wait on each (a district agency: its own)."""
    counts = await repository.queue_counts(session, scope=service.district_scope(principal))
    return QueuesRead(items=[QueueCount(queue=q, count=n) for q, n in counts.items()])


def _cursor(key: datetime, ticket_id: str) -> str:
    return base64.urlsafe_b64encode(f"{key.isoformat()}|{ticket_id}".encode()).decode()


def _after(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        key, _, ticket_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(key), ticket_id
    except ValueError:
        raise BadInput("cursor is not one this endpoint gave", zh=BAD_CURSOR) from None


@router.get("/v1/queues/{queue}", response_model=QueuePage)
async def queue_page(
    queue: Queue,
    session: SessionDep,
    principal: AgencyReader,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> QueuePage:
    """One desk, the least time left first (limits that run), else the longest waiting;
    paged with a cursor, never cut short silently (``count`` is the whole desk)."""
    rows, count = await repository.queue_page(
        session,
        queue,
        scope=service.district_scope(principal),
        after=_after(cursor),
        limit=limit,
    )
    returns = (
        await repository.pending_returns(session, [row.id for row, _ in rows])
        if queue is Queue.RETURN_APPLICATIONS
        else {}
    )
    items = [
        QueueItem(
            ticket=read(row),
            last_change=row.updated_at,
            due_at=None if key == repository.NO_LIMIT else key,
            return_request=ReturnRead.model_validate(returns[row.id])
            if row.id in returns
            else None,
        )
        for row, key in rows
    ]
    last = rows[-1] if len(rows) == limit else None
    return QueuePage(
        queue=queue,
        count=count,
        items=items,
        next_cursor=_cursor(last[1], last[0].id) if last else None,
    )


@router.get("/v1/legal-procedures", response_model=TicketPage)
async def legal_procedures(
    session: SessionDep,
    principal: Annotated[
        Principal,
        Depends(
            require(Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN, Role.INSPECTOR, Role.GUIDANCE)
        ),
    ],
    guidance_department: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> TicketPage:
    """Art 21: open tickets that wait on (or came out of) a legal procedure, the next
    progress report due first; a guidance department sees those it oversees."""
    if principal.role is Role.GUIDANCE:
        if guidance_department not in (None, principal.unit_id):
            raise Forbidden(
                "a guidance department sees only the matters it oversees",
                zh="业务指导部门只能查看其指导监督的事项",
            )
        guidance_department = principal.unit_id
    rows = await repository.legal_procedures(
        session,
        guidance_department=guidance_department,
        scope=service.district_scope(principal),
        limit=limit,
    )
    return TicketPage(items=[read(r) for r in rows], next_cursor=None)


@router.get("/v1/tickets/{ticket_id}", response_model=TicketRead)
async def get_ticket(
    ticket_id: TicketRef, session: SessionDep, principal: TicketReader
) -> TicketRead:
    return read(await service.get_ticket(session, ticket_id, principal=principal))


@router.get("/v1/tickets/{ticket_id}/actions", response_model=ActionsRead)
async def ticket_actions(
    ticket_id: TicketRef,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: Annotated[
        Principal, Depends(require(Role.DISPATCHER, Role.ADMIN, Role.UNIT, Role.SUB_UNIT))
    ],
) -> ActionsRead:
    """What this user may do with the ticket now, and for each thing it may not, the rule
    and its words (the workbench shows the action disabled with the explanation)."""
    row = await service.get_ticket(session, ticket_id, principal=principal)
    unit = principal.unit_id if principal.role is Role.UNIT else None
    agency = service.acts_as_agency(row, principal)
    sub_unit = principal.unit_id if principal.role is Role.SUB_UNIT else None
    found = rules.available_actions(
        service.state_of(row), unit=unit, agency=agency, at=clock.now(), sub_unit=sub_unit
    )
    lang = request_lang(request.scope)
    return ActionsRead(
        ticket_id=row.id,
        items=[
            ActionRead(
                action=action.value,
                allowed=refused is None,
                code=refused.code if refused else None,
                message=message(refused.code, refused.message, lang, zh=refused.zh)
                if refused
                else None,
            )
            for action, refused in found.items()
        ],
    )


@router.get("/v1/tickets/{ticket_id}/history", response_model=HistoryRead)
async def ticket_history(
    ticket_id: TicketRef, session: SessionDep, principal: TicketReader
) -> HistoryRead:
    """Every change of the ticket: who, role, unit, when, what, why (Art 26)."""
    await service.get_ticket(session, ticket_id, principal=principal)
    events = await service.history(session, ticket_id)
    return HistoryRead(
        ticket_id=ticket_id,
        chain_intact=service.chain_is_intact(events),
        items=[HistoryEntry.model_validate(e) for e in events],
    )


def _instant(recorded: str | None) -> datetime | None:
    """A time the history recorded, in UTC like every other time this API answers."""
    return datetime.fromisoformat(recorded).astimezone(UTC) if recorded else None


@router.get("/v1/tickets/{ticket_id}/caller-record", response_model=CallerRecord)
async def caller_record(
    ticket_id: TicketRef,
    session: SessionDep,
    principal: Annotated[
        Principal,
        Depends(
            require(
                Role.AGENT,
                Role.DISPATCHER,
                Role.SUPERVISOR,
                Role.ADMIN,
                Role.INSPECTOR,
                Role.UNIT,
            )
        ),
    ],
) -> CallerRecord:
    """What the caller is told on a progress call (Art 11(4)): due time, extensions with reason
    and new limit (Art 18), adjustments and new situations with what they were told (Art 17),
    the reply and its evaluation (Art 19, 20)."""
    row = await service.get_ticket(session, ticket_id, principal=principal)
    events = service.caller_facing(await service.history(session, ticket_id))
    return CallerRecord(
        ticket_id=row.id,
        number=row.number,
        status=row.status,
        line=row.line,
        handling_due_at=row.handling_due_at,
        progress_due_at=row.progress_due_at,
        legal_procedure=rules.LegalProcedure(row.legal_procedure) if row.legal_procedure else None,
        entries=[
            CallerRecordEntry(
                at=e.at,
                action=e.action,
                reason=e.reason,
                due_at=_instant(e.details.get("due_at")),
                told_caller=e.details.get("told_caller"),
            )
            for e in events
        ],
    )


@router.get("/v1/units/{unit_id}/tickets", response_model=TicketPage)
async def unit_tickets(
    unit_id: str,
    response: Response,
    sessions: SessionsDep,
    autocommit: AutocommitDep,
    principal: Viewer,
    status: TicketStatus | None = None,
    overdue: bool | None = None,
    due_before: Instant | None = None,
    category: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
) -> TicketPage | Response:
    """A unit's own and co-handled tickets in change order; 304 when nothing changed."""
    scope = service.poll_scope(principal, unit_id)
    filters = repository.PollFilters(status, overdue, due_before, category)
    try:
        after = int(cursor) if cursor else 0
    except ValueError:
        raise BadInput("cursor is not one this endpoint gave", zh=BAD_CURSOR) from None
    if not 0 <= after < 2**63:
        raise BadInput("cursor is not one this endpoint gave", zh=BAD_CURSOR)
    # Any change to a ticket the unit holds or held moves its last change: the same answer
    # for the same question until then, told without reading a ticket.
    async with autocommit.connect() as connection:
        newest = await service.last_change(connection, unit_id)
    basis = f"{scope}|{status}|{overdue}|{due_before}|{category}|{cursor}|{limit}|{newest}"
    etag = '"' + hashlib.sha256(basis.encode()).hexdigest()[:32] + '"'
    if if_none_match == etag:
        return Response(status_code=304, headers={"ETag": etag})
    async with session_scope(sessions) as session:
        rows = await service.poll(session, scope=scope, filters=filters, after=after, limit=limit)
    response.headers["ETag"] = etag
    next_cursor = str(rows[-1].change_seq) if len(rows) == limit else None
    return TicketPage(items=[read(r) for r in rows], next_cursor=next_cursor)
