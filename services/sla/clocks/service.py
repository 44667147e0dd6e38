"""Clock flows: apply dispatch's steps, extend, adjust, scan for breaches, recompute.

Every change of a due time is recorded (``clock_change``) and announced to dispatch
(``clock.deadline_changed.v1``) in the same transaction.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DateTime, Select, String, bindparam, insert, literal, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.errors import BadInput, NotFound
from shared.events import (
    ClockBreached,
    ClockBreachWithdrawn,
    ClockDueSoon,
    DeadlineAdjustment,
    DeadlineChanged,
    TicketStepped,
)
from shared.outbox import Outbox
from shared.vocabulary import ClockAction, ClockKind, ClockState, StopKind
from shared.workdays import Deadline, WorkingCalendar, end_of_day, local_date
from sla.clocks import rules
from sla.clocks.models import ChangeAction, Clock, ClockChangeRecord, Extension, TicketStep
from sla.supervision.models import Supervision
from sla.supervision.rules import Method, Reason
from sla.time_limits import rules as time_limits_rules
from sla.time_limits import service as time_limits

RUNNING, STOPPED = ClockState.RUNNING.value, ClockState.STOPPED.value
CLOCKS, CHANGES = Clock.__table__, ClockChangeRecord.__table__  # type: ignore[attr-defined]
RECORD_STEP = TicketStep.__table__.insert()  # type: ignore[attr-defined]
TIMESTAMPTZ = DateTime(timezone=True)
SCAN_BATCH = 500


async def running_clock(
    session: AsyncSession, ticket_id: str, kind: ClockKind, *, lock: bool = False
) -> Clock | None:
    query = select(Clock).where(
        col(Clock.ticket_id) == ticket_id,
        col(Clock.kind) == kind.value,
        col(Clock.state) == RUNNING,
    )
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def ticket_clocks(session: AsyncSession, ticket_id: str) -> list[Clock]:
    query = select(Clock).where(col(Clock.ticket_id) == ticket_id).order_by(col(Clock.id))
    return list((await session.scalars(query)).all())


# The clocks whose due time is the one a caller asking for progress is given (intake keeps it).
CALLERS_DUE = frozenset({ClockKind.HANDLING, ClockKind.REHANDLING, ClockKind.FINAL_FEEDBACK})


async def _announce(
    session: AsyncSession,
    outbox: Outbox,
    clock: Clock,
    now: datetime,
    adjustment: DeadlineAdjustment | None = None,
) -> None:
    event = DeadlineChanged(
        ticket_id=clock.ticket_id,
        clock=ClockKind(clock.kind),
        due_at=clock.due_at,
        provisional=clock.provisional,
        adjustment=adjustment,
    )
    await _tell_due(session, outbox, event, now)


async def _tell_due(
    session: AsyncSession, outbox: Outbox, event: DeadlineChanged, now: datetime
) -> None:
    await outbox.add(session, event, to="dispatch", now=now, ordering_key=event.ticket_id)
    if event.clock in CALLERS_DUE:
        await outbox.add(session, event, to="intake", now=now, ordering_key=event.ticket_id)


def _note(
    clock: Clock,
    *,
    at: datetime,
    action: ChangeAction,
    reason: str,
    actor: str,
    old_due_at: datetime | None = None,
) -> ClockChangeRecord:
    assert clock.id is not None
    return ClockChangeRecord(
        clock_id=clock.id,
        at=at,
        action=action.value,
        reason=reason,
        actor=actor,
        old_due_at=old_due_at,
        new_due_at=clock.due_at,
    )


def _set_due(clock: Clock, deadline: Deadline) -> None:
    clock.due_date, clock.due_at, clock.provisional = (
        deadline.due_date,
        deadline.due_at,
        deadline.provisional,
    )


# A clock's start, built once (built per call, its some twenty values were coerced anew
# each time): the clock's INSERT does nothing where the one-running-clock index holds one,
# and its change record is selected from what that INSERT returned.
_STARTED_COLUMNS = (
    "ticket_id", "kind", "state", "unit_id", "ticket_type", "category", "district", "street",
    "started_at", "working_days", "hours", "due_date", "due_at", "provisional",
    "max_extensions", "extension_working_days", "limit_rule_id",
)  # fmt: skip
_STARTED = (
    postgresql.insert(CLOCKS)
    .values({name: bindparam(name) for name in _STARTED_COLUMNS})
    .on_conflict_do_nothing(
        index_elements=["ticket_id", "kind"], index_where=text("state = 'running'")
    )
    .returning(CLOCKS.c.id)
    .cte("started")
)
_START = (
    insert(CHANGES)
    .from_select(
        ["clock_id", "at", "action", "reason", "actor", "new_due_at"],
        select(
            _STARTED.c.id,
            bindparam("change_at", type_=TIMESTAMPTZ),
            literal(ChangeAction.START.value),
            bindparam("change_reason", type_=String),
            literal("dispatch"),
            bindparam("change_due_at", type_=TIMESTAMPTZ),
        ),
    )
    .returning(CHANGES.c.clock_id)
)


async def _start(
    session: AsyncSession,
    outbox: Outbox,
    calendar: WorkingCalendar,
    step: TicketStepped,
    kind: ClockKind,
    reason: str,
    now: datetime,
) -> None:
    """Start a clock of ``kind`` unless one is running: the one-running-clock index decides,
    in the INSERT itself (a lookup first was a round trip per ticket started)."""
    limit = await time_limits.resolve(
        session, clock_kind=kind, ticket_type=step.ticket_type, category=step.category, at=step.at
    )
    deadline = time_limits_rules.due(calendar, step.at, limit)
    # The clock's values as they are stored, not a Clock (building one cost a tenth of a step).
    values = {
        "ticket_id": step.ticket_id,
        "kind": kind.value,
        "state": RUNNING,
        "unit_id": step.unit_id,
        "ticket_type": step.ticket_type.value,
        "category": step.category,
        "district": step.district,
        "street": step.street,
        "started_at": step.at,
        "working_days": limit.working_days,
        "hours": limit.hours,
        "due_date": deadline.due_date,
        "due_at": deadline.due_at,
        "provisional": deadline.provisional,
        "max_extensions": limit.max_extensions,
        "extension_working_days": limit.extension_working_days,
        "limit_rule_id": limit.rule_id,
        "change_at": now,
        "change_reason": reason,
        "change_due_at": deadline.due_at,
    }
    # The clock and its change record in one statement; no row when one is running (Art 13–20
    # start each clock once per run).
    if await session.scalar(_START, values) is not None:
        due = DeadlineChanged(
            ticket_id=step.ticket_id,
            clock=kind,
            due_at=deadline.due_at,
            provisional=deadline.provisional,
        )
        await _tell_due(session, outbox, due, now)


def _stop(
    calendar: WorkingCalendar, clock: Clock, *, at: datetime, reason: str, kind: StopKind
) -> ClockChangeRecord:
    clock.state, clock.stopped_at, clock.stop_reason = STOPPED, at, reason
    clock.stop_kind = kind.value
    clock.working_days_late = rules.working_days_late(calendar, at, clock.due_date, clock.due_at)
    return _note(clock, at=at, action=ChangeAction.STOP, reason=reason, actor="dispatch")


async def apply_step(
    session: AsyncSession,
    outbox: Outbox,
    calendar: WorkingCalendar,
    step: TicketStepped,
    *,
    now: datetime,
) -> None:
    """Record a workflow step and make its clock changes (start, restart, stop, resume)."""
    # A statement of its own, not an ORM object flushed by the next one: nothing reads it back.
    await session.execute(
        RECORD_STEP,
        {
            "ticket_id": step.ticket_id,
            "number": step.number,
            "at": step.at,
            "action": step.action.value,
            "unit_id": step.unit_id,
            "actor_unit_id": step.actor_unit_id,
            "ticket_type": step.ticket_type.value,
            "category": step.category,
            "district": step.district,
            "street": step.street,
            "details": step.details,
        },
    )
    for change in step.changes:
        kind = change.clock
        if change.action is ClockAction.START:
            await _start(session, outbox, calendar, step, kind, change.reason, now)
            continue
        current = await running_clock(session, step.ticket_id, kind, lock=True)
        if change.action is ClockAction.RESTART:
            if current is not None:
                session.add(
                    _stop(
                        calendar,
                        current,
                        at=step.at,
                        reason=change.reason,
                        kind=StopKind.RESTARTED,
                    )
                )
                await session.flush()  # stopped before the new run's INSERT meets the index
            await _start(session, outbox, calendar, step, kind, change.reason, now)
        elif change.action is ClockAction.STOP and current is not None:
            assert change.stop_kind is not None  # the contract requires it on a stop
            session.add(
                _stop(calendar, current, at=step.at, reason=change.reason, kind=change.stop_kind)
            )
            if rules.breach_withdrawn(current.breached_at, current.due_at, act_at=step.at):
                await _withdraw_breach(session, outbox, current, act_at=step.at, now=now)
        elif change.action is ClockAction.RESUME and current is None:
            await _resume(session, outbox, step.ticket_id, kind, change.reason, now)
    await session.flush()


async def _withdraw_breach(
    session: AsyncSession, outbox: Outbox, clock: Clock, *, act_at: datetime, now: datetime
) -> None:
    """The scan marked the clock breached before the news of its on-time end arrived: the
    breach, its automatic supervision and dispatch's overdue flag are withdrawn, audited."""
    clock.breached_at = None
    session.add(
        _note(
            clock,
            at=now,
            action=ChangeAction.WITHDRAW_BREACH,
            reason=f"the act happened at {act_at.isoformat()}, before the due time",
            actor="sla",
        )
    )
    await session.execute(
        update(Supervision)
        .where(
            col(Supervision.clock_id) == clock.id,
            col(Supervision.opened_by) == "sla",
            col(Supervision.withdrawn_at).is_(None),
        )
        .values(withdrawn_at=now)
    )
    await outbox.add(
        session,
        ClockBreachWithdrawn(
            ticket_id=clock.ticket_id,
            clock=ClockKind(clock.kind),
            due_at=clock.due_at,
            act_at=act_at,
        ),
        to="dispatch",
        now=now,
        ordering_key=clock.ticket_id,
    )


async def _resume(
    session: AsyncSession,
    outbox: Outbox,
    ticket_id: str,
    kind: ClockKind,
    reason: str,
    now: datetime,
) -> None:
    # Art 19: non-compliant feedback does not restart the period: the last run goes on.
    last = (
        await session.scalars(
            select(Clock)
            .where(col(Clock.ticket_id) == ticket_id, col(Clock.kind) == kind.value)
            .order_by(col(Clock.id).desc())
            .limit(1)
            .with_for_update()
        )
    ).first()
    if last is None:
        return
    last.state, last.stopped_at, last.stop_reason, last.stop_kind = RUNNING, None, None, None
    last.working_days_late = None
    session.add(_note(last, at=now, action=ChangeAction.RESUME, reason=reason, actor="dispatch"))
    await _announce(session, outbox, last, now)


async def extend(
    session: AsyncSession,
    outbox: Outbox,
    calendar: WorkingCalendar,
    *,
    ticket_id: str,
    idempotency_key: str,
    reason: str,
    requested_by: str,
    now: datetime,
) -> Extension:
    """Art 18: add the handling length after the current due day, or refuse with the rule."""
    earlier = (
        await session.scalars(
            select(Extension).where(col(Extension.idempotency_key) == idempotency_key)
        )
    ).first()
    if earlier is not None:
        if earlier.ticket_id != ticket_id:
            raise BadInput(
                "this Idempotency-Key was used for another ticket's extension",
                code="idempotency_key_reused",
                zh="该 Idempotency-Key 已用于另一热线事项的延期",
            )
        return earlier
    handling = await running_clock(session, ticket_id, ClockKind.HANDLING, lock=True)
    rehandling = await running_clock(session, ticket_id, ClockKind.REHANDLING) is not None
    rules.check_extension(
        rules.RunningClock(
            ClockKind.HANDLING, handling.due_at, handling.extensions_used, handling.max_extensions
        )
        if handling
        else None,
        rehandling=rehandling,
        now=now,
    )
    assert handling is not None and handling.id is not None
    old_due_at = handling.due_at
    deadline = calendar.extend(handling.due_date, handling.extension_working_days)
    handling.extensions_used += 1
    _set_due(
        handling,
        Deadline(deadline.due_date, deadline.due_at, deadline.provisional or handling.provisional),
    )
    extension = Extension(
        clock_id=handling.id,
        ticket_id=ticket_id,
        idempotency_key=idempotency_key,
        reason=reason,
        requested_by=requested_by,
        at=now,
        old_due_at=old_due_at,
        new_due_at=handling.due_at,
        new_due_date=handling.due_date,
        number=handling.extensions_used,
    )
    session.add(extension)
    session.add(
        _note(
            handling,
            at=now,
            action=ChangeAction.EXTEND,
            reason=reason,
            actor=requested_by,
            old_due_at=old_due_at,
        )
    )
    await _announce(session, outbox, handling, now)
    await session.flush()
    return extension


async def adjust(
    session: AsyncSession,
    outbox: Outbox,
    calendar: WorkingCalendar,
    *,
    ticket_id: str,
    kind: ClockKind,
    due_date: date,
    reason: str,
    told_caller: str,
    actor: str,
    now: datetime,
) -> Clock:
    """Art 17: force majeure — the agency moves a running clock's due day, with its reason,
    and what the caller was told goes to the ticket's record."""
    clock = await running_clock(session, ticket_id, kind, lock=True)
    if clock is None:
        raise NotFound(
            f"no running {kind.value} clock for ticket {ticket_id}",
            zh=f"热线事项 {ticket_id} 没有计时中的该类时限",
        )
    if not calendar.is_working_day(due_date):
        raise BadInput(f"{due_date} is not a working day", zh=f"{due_date} 不是工作日")
    old_due_at = clock.due_at
    _set_due(
        clock, Deadline(due_date, end_of_day(due_date), not calendar.is_scheduled(due_date.year))
    )
    clock.adjusted = True
    if clock.breached_at and clock.due_at > now:
        clock.breached_at = None
    session.add(
        _note(
            clock,
            at=now,
            action=ChangeAction.ADJUST,
            reason=reason,
            actor=actor,
            old_due_at=old_due_at,
        )
    )
    await _announce(
        session, outbox, clock, now, DeadlineAdjustment(reason=reason, told_caller=told_caller)
    )
    await session.flush()
    return clock


def due_clocks(now: datetime, batch: int = SCAN_BATCH) -> Select[int | None]:
    """The breach scan's choice: running, not yet breached, due by ``now`` (its cost follows
    what is due, through the partial index ix_clock_scan_due_at), locked so that replicas
    scanning at once each take other clocks."""
    return (
        select(col(Clock.id))
        .where(
            col(Clock.state) == RUNNING,
            col(Clock.breached_at).is_(None),
            col(Clock.due_at) <= now,
        )
        .order_by(col(Clock.due_at))
        .limit(batch)
        .with_for_update(skip_locked=True)
    )


async def scan_breaches(
    session: AsyncSession, outbox: Outbox, *, now: datetime, batch: int = SCAN_BATCH
) -> int:
    """Mark one batch of clocks that fell due; safe with any number of replicas scanning.

    Set-based: four statements whatever the batch holds — the clocks, their change records,
    the supervisions they open (Art 23) and their events to dispatch — not a round trip per
    clock."""
    breached = sorted(
        (
            await session.execute(
                update(Clock)
                .where(col(Clock.id).in_(due_clocks(now, batch).scalar_subquery()))
                .values(breached_at=now)
                .returning(
                    col(Clock.id),
                    col(Clock.ticket_id),
                    col(Clock.kind),
                    col(Clock.unit_id),
                    col(Clock.district),
                    col(Clock.due_at),
                )
                .execution_options(synchronize_session=False)
            )
        ).all(),
        key=lambda clock: (clock.due_at, clock.id),  # events leave in due order per ticket
    )
    if not breached:
        return 0
    await session.execute(
        insert(ClockChangeRecord),
        [
            {
                "clock_id": clock.id,
                "at": now,
                "action": ChangeAction.BREACH.value,
                "reason": "due time passed",
                "actor": "sla",
                "new_due_at": clock.due_at,
            }
            for clock in breached
        ],
    )
    supervisions = [
        {
            "ticket_id": clock.ticket_id,
            "clock_id": clock.id,
            "unit_id": clock.unit_id,
            "district": clock.district,
            "reason": reason.value,
            "method": Method.ONLINE.value,
            "note": f"{clock.kind} due {clock.due_at.isoformat()} passed "
            f"({'Art 23(3)' if reason is Reason.LONG_RUNNING else 'Art 23(1)'})",
            "opened_at": now,
            "opened_by": "sla",
        }
        for clock in breached
        if (reason := rules.supervision_reason(ClockKind(clock.kind))) is not None
    ]
    if supervisions:
        await session.execute(insert(Supervision), supervisions)
    await outbox.add_many(
        session,
        [
            (
                ClockBreached(
                    ticket_id=clock.ticket_id, clock=ClockKind(clock.kind), due_at=clock.due_at
                ),
                clock.ticket_id,
            )
            for clock in breached
        ],
        to="dispatch",
        now=now,
    )
    return len(breached)


def due_soon_until(calendar: WorkingCalendar, now: datetime) -> datetime:
    """24:00 of the next working day: what falls due by then is due soon."""
    return end_of_day(calendar.add_working_days(local_date(now), 1))


async def warn_due_soon(
    session: AsyncSession,
    outbox: Outbox,
    *,
    now: datetime,
    until: datetime,
    batch: int = SCAN_BATCH,
) -> int:
    """Mark one batch of running clocks due by ``until`` (24:00 of the next working day) as
    warned of their due time; the units' own limits go to dispatch, which tells the units.
    The scan reads the index of clocks not yet warned of their present due time, so a
    clock is warned once per due time, and again when it moves (an extension, a restart)."""
    unwarned = (
        select(col(Clock.id))
        .where(
            col(Clock.state) == RUNNING,
            col(Clock.breached_at).is_(None),
            col(Clock.warned_due_at).is_distinct_from(col(Clock.due_at)),
            col(Clock.due_at) > now,
            col(Clock.due_at) <= until,
        )
        .order_by(col(Clock.due_at))
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    warned = (
        await session.execute(
            update(Clock)
            .where(col(Clock.id).in_(unwarned.scalar_subquery()))
            .values(warned_due_at=col(Clock.due_at))
            .returning(col(Clock.ticket_id), col(Clock.kind), col(Clock.due_at))
            .execution_options(synchronize_session=False)
        )
    ).all()
    await outbox.add_many(
        session,
        [
            (
                ClockDueSoon(ticket_id=c.ticket_id, clock=ClockKind(c.kind), due_at=c.due_at),
                c.ticket_id,
            )
            for c in sorted(warned, key=lambda c: c.due_at)
            if ClockKind(c.kind).warned_ahead
        ],
        to="dispatch",
        now=now,
    )
    return len(warned)


async def recompute_provisional(
    session: AsyncSession, outbox: Outbox, calendar: WorkingCalendar, *, now: datetime
) -> int:
    """After a calendar year loads: recompute running provisional clocks; return how many moved."""
    clocks = (
        await session.scalars(
            select(Clock)
            .where(col(Clock.state) == RUNNING, col(Clock.provisional), ~col(Clock.adjusted))
            .with_for_update()
        )
    ).all()
    moved = 0
    for clock in clocks:
        deadline = calendar.deadline(clock.started_at, clock.working_days)
        provisional = deadline.provisional
        for _ in range(clock.extensions_used):
            deadline = calendar.extend(deadline.due_date, clock.extension_working_days)
            provisional = provisional or deadline.provisional
        if (deadline.due_at, provisional) == (clock.due_at, clock.provisional):
            continue
        old_due_at = clock.due_at
        _set_due(clock, Deadline(deadline.due_date, deadline.due_at, provisional))
        session.add(
            _note(
                clock,
                at=now,
                action=ChangeAction.RECOMPUTE,
                reason="calendar year loaded",
                actor="sla",
                old_due_at=old_due_at,
            )
        )
        await _announce(session, outbox, clock, now)
        moved += 1
    await session.flush()
    return moved
