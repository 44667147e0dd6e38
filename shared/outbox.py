"""The transactional outbox, its relay, and the receiving inbox.

A state change and the event announcing it are written in one transaction
(:meth:`Outbox.add`). The relay delivers undelivered events by HTTP POST, oldest first and
in order per (destination, ordering key), retrying with exponential back-off forever: an
event is never dropped. An event its receiver refuses holds back only the events of its
own key to the same destination; a peer that cannot be reached holds back its own events.
Several relays may run on one outbox (``FOR UPDATE SKIP LOCKED``). The receiver records
each event id in its inbox in the same transaction as the event's effect, so a redelivery
has no second effect.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    Select,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    delete,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.clients.base import ServiceClient
from shared.db import schema_metadata, session_scope
from shared.errors import DomainError, PeerFailed, PeerUnavailable
from shared.events import (
    Event,
    EventBatch,
    EventBatchResult,
    EventEnvelope,
    EventOutcome,
)
from shared.migration_ops import notify_channel

log = structlog.get_logger(__name__)

# An event still undelivered after this many attempts counts as failed in the metrics.
FAILED_AFTER_ATTEMPTS = 5

EventHandler = Callable[[AsyncSession, EventEnvelope], Awaitable[None]]


@dataclass(frozen=True)
class Outcome:
    """What became of one event its courier handled: ``done`` (delivered, or finished
    without delivery, ``error`` saying why), or not, to be tried again after back-off or,
    with ``retry_at``, not before then and without counting an attempt."""

    done: bool
    error: str | None = None
    retry_at: datetime | None = None


# Delivers the due events of destinations that are not services (notifications); an
# outcome per row, in order. Raising PeerUnavailable holds them all back together.
Courier = Callable[[AsyncSession, str, Sequence[Mapping[str, Any]]], Awaitable[list[Outcome]]]


class Outbox:
    """One service's outbox and inbox tables (created by its migrations)."""

    def __init__(self, schema: str) -> None:
        self.schema = schema
        metadata = schema_metadata(schema)
        self.outbox = Table(
            "outbox",
            metadata,
            Column("seq", BigInteger, primary_key=True),
            Column("event_id", Uuid, nullable=False),
            Column("event_type", Text, nullable=False),
            Column("destination", Text, nullable=False),
            Column("ordering_key", Text),
            Column("payload", JSONB, nullable=False),
            Column("occurred_at", DateTime(timezone=True), nullable=False),
            Column(
                "created_at", DateTime(timezone=True), nullable=False, server_default=func.now()
            ),
            Column("attempts", Integer, nullable=False, server_default="0"),
            Column(
                "next_attempt_at",
                DateTime(timezone=True),
                nullable=False,
                server_default=func.now(),
            ),
            Column("delivered_at", DateTime(timezone=True)),
            Column("last_error", Text),
            Column("request_id", Text),  # the request that caused it (traces across services)
            UniqueConstraint("event_id", "destination", name="uq_outbox_event_id_destination"),
            # The relay reads only undelivered rows: these stay small.
            Index(
                "ix_outbox_pending_next_attempt_at",
                "next_attempt_at",
                postgresql_where=text("delivered_at IS NULL"),
            ),
            Index("ix_outbox_pending_seq", "seq", postgresql_where=text("delivered_at IS NULL")),
            Index(
                "ix_outbox_pending_destination_ordering_key_seq",
                "destination",
                "ordering_key",
                "seq",
                postgresql_where=text("delivered_at IS NULL"),
            ),
            # Delivered events are pruned after their retention (prune).
            Index(
                "ix_outbox_delivered_at",
                "delivered_at",
                postgresql_where=text("delivered_at IS NOT NULL"),
            ),
        )
        self.inbox = Table(
            "inbox",
            metadata,
            Column("event_id", Uuid, primary_key=True),
            Column("event_type", Text, nullable=False),
            Column("source", Text, nullable=False),
            Column(
                "received_at", DateTime(timezone=True), nullable=False, server_default=func.now()
            ),
            Index("ix_inbox_received_at", "received_at"),
        )

    async def add(
        self,
        session: AsyncSession,
        event: Event,
        *,
        to: str,
        now: datetime,
        ordering_key: str | None = None,
    ) -> EventEnvelope:
        """Write an event for ``to`` in the caller's transaction; relayed after commit."""
        [envelope] = await self.add_many(session, [(event, ordering_key)], to=to, now=now)
        return envelope

    async def add_many(
        self,
        session: AsyncSession,
        events: Sequence[tuple[Event, str | None]],
        *,
        to: str,
        now: datetime,
    ) -> list[EventEnvelope]:
        """Write events (each with its ordering key) for ``to`` in one statement, in this
        order, in the caller's transaction."""
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        envelopes = [
            EventEnvelope(
                type=event.type_name,
                source=self.schema,
                occurred_at=now,
                ordering_key=ordering_key,
                payload=event.model_dump(mode="json"),
                request_id=request_id,
            )
            for event, ordering_key in events
        ]
        if envelopes:
            # Parameters beside the statement (not in it): compiled once, whatever the count.
            await session.execute(
                insert(self.outbox),
                [
                    {
                        "event_id": envelope.id,
                        "event_type": envelope.type,
                        "destination": to,
                        "ordering_key": envelope.ordering_key,
                        "payload": envelope.payload,
                        "occurred_at": now,
                        "request_id": request_id,
                    }
                    for envelope in envelopes
                ],
            )
        return envelopes

    async def receive(
        self,
        session: AsyncSession,
        envelope: EventEnvelope,
        handlers: dict[str, EventHandler],
    ) -> bool:
        """Apply an incoming event once; False if its id was processed before."""
        [applied] = await self.receive_all(session, [envelope], handlers)
        return applied

    async def receive_all(
        self,
        session: AsyncSession,
        envelopes: Sequence[EventEnvelope],
        handlers: dict[str, EventHandler],
    ) -> list[bool]:
        """Apply incoming events in order, each once; for each, False if its id was
        processed before. One statement records them all in the inbox; if a handler fails,
        the caller rolls the whole transaction back."""
        unseen = {
            envelope.id: {
                "event_id": envelope.id,
                "event_type": envelope.type,
                "source": envelope.source,
            }
            for envelope in envelopes
        }
        fresh = set(
            await session.scalars(
                insert(self.inbox)
                .values(list(unseen.values()))
                .on_conflict_do_nothing(index_elements=["event_id"])
                .returning(self.inbox.c.event_id)
            )
        )
        applied = []
        for envelope in envelopes:
            first_time = envelope.id in fresh
            fresh.discard(envelope.id)  # the same event twice in one batch applies once
            if first_time:
                await self._apply(session, envelope, handlers)
            applied.append(first_time)
        return applied

    @staticmethod
    async def _apply(
        session: AsyncSession, envelope: EventEnvelope, handlers: dict[str, EventHandler]
    ) -> None:
        handler = handlers.get(envelope.type)
        # Handled under the id of the request that caused the event: its logs, and the
        # events it adds in turn, carry that id on to the next service.
        traced = {"request_id": envelope.request_id} if envelope.request_id else {}
        with structlog.contextvars.bound_contextvars(**traced):
            if handler is None:
                # Recorded so that it is not redelivered forever; a newer sender may know more.
                log.warning("event_type_unknown", event_type=envelope.type, source=envelope.source)
            else:
                await handler(session, envelope)

    async def stuck(self, session: AsyncSession, *, limit: int = 100) -> list[dict[str, Any]]:
        """Undelivered events that have failed at least once, oldest first (for operators)."""
        table = self.outbox
        rows = await session.execute(
            select(
                table.c.seq,
                table.c.event_id,
                table.c.event_type,
                table.c.destination,
                table.c.ordering_key,
                table.c.attempts,
                table.c.next_attempt_at,
                table.c.last_error,
            )
            .where(table.c.delivered_at.is_(None), table.c.attempts > 0)
            .order_by(table.c.seq)
            .limit(limit)
        )
        return [dict(row) for row in rows.mappings()]

    async def replay(self, session: AsyncSession, seqs: list[int] | None = None) -> int:
        """Make undelivered events (these, or every one) due now; return how many."""
        table = self.outbox
        query = update(table).where(table.c.delivered_at.is_(None))
        if seqs is not None:
            query = query.where(table.c.seq.in_(seqs))
        result = await session.execute(query.values(next_attempt_at=func.now()))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def prune(
        self,
        session: AsyncSession,
        *,
        delivered_for: timedelta,
        received_for: timedelta,
        batch: int = 10_000,
    ) -> int:
        """Delete up to ``batch`` events delivered longer than ``delivered_for`` ago and as
        many inbox ids received longer than ``received_for`` ago; how many rows went. An
        undelivered event is never deleted. An inbox id must outlive any redelivery of its
        event: one comes only from a sender that crashed between its POST and its commit,
        and is sent again as soon as that sender is back."""
        deleted = 0
        # The database's own time, as it stamped both columns (a moved dev clock is not it).
        for table, column, age in (
            (self.outbox, self.outbox.c.delivered_at, delivered_for),
            (self.inbox, self.inbox.c.received_at, received_for),
        ):
            before = func.clock_timestamp() - age
            key = next(iter(table.primary_key.columns))
            oldest = select(key).where(column < before).order_by(column).limit(batch)
            result = await session.execute(delete(table).where(key.in_(oldest.scalar_subquery())))
            deleted += int(result.rowcount)  # type: ignore[attr-defined]
        return deleted

    async def counts(self, session: AsyncSession) -> dict[str, tuple[int, int]]:
        """By destination (a service, or a kind of destination): (pending, failed), the
        undelivered events and those of them retried many times."""
        destination = self.outbox.c.destination
        rows = await session.execute(
            select(
                destination,
                func.count(),
                func.count().filter(self.outbox.c.attempts >= FAILED_AFTER_ATTEMPTS),
            )
            .where(self.outbox.c.delivered_at.is_(None))
            .group_by(destination)
        )
        found: dict[str, tuple[int, int]] = {}
        for to, pending, failed in rows:
            before = found.get(_label(to), (0, 0))
            found[_label(to)] = (before[0] + int(pending), before[1] + int(failed))
        return found


def _label(destination: str) -> str:
    """A metric's destination label: a service, or a kind of destination (not one label per
    notification channel)."""
    return destination.split(":", 1)[0]


def backoff(attempts: int, *, cap_seconds: float) -> timedelta:
    """Exponential back-off with jitter: 1 s, 2 s, 4 s … up to ``cap_seconds``."""
    base = min(cap_seconds, 2.0 ** max(attempts - 1, 0))
    return timedelta(seconds=base * random.uniform(0.8, 1.0))


@dataclass
class RelayMetrics:
    pending: Gauge
    failed: Gauge
    delivered: Counter
    refused: Counter

    @classmethod
    def register(cls, registry: CollectorRegistry) -> RelayMetrics:
        return cls(
            pending=Gauge(
                "outbox_pending", "Undelivered outbox events", ["destination"], registry=registry
            ),
            failed=Gauge(
                "outbox_failed",
                f"Undelivered outbox events tried {FAILED_AFTER_ATTEMPTS} or more times",
                ["destination"],
                registry=registry,
            ),
            delivered=Counter(
                "outbox_delivered", "Outbox events delivered", ["destination"], registry=registry
            ),
            refused=Counter(
                "outbox_refused",
                "Deliveries a reachable receiver refused or failed on (the event is retried)",
                ["destination"],
                registry=registry,
            ),
        )


def due_events(table: Table, batch_size: int) -> Select[Any]:
    """The relay's next batch: the oldest due events, locked, skipping those another relay
    holds. Per destination and ordering key only the oldest undelivered event is eligible, so
    a receiver sees a ticket's events in the order they happened even with several relays,
    and a receiver that is down holds back no other receiver's events."""
    earlier = table.alias("earlier")
    # OFFSET 0 keeps the check a lookup per row: turned into an anti-join, it was planned on
    # the statistics of a table that had been nearly empty as a nested loop comparing every
    # pending event with every other (2.9 s a batch at 2,850 pending).
    blocked = (
        select(literal(1))
        .where(
            earlier.c.destination == table.c.destination,
            earlier.c.ordering_key == table.c.ordering_key,
            earlier.c.seq < table.c.seq,
            earlier.c.delivered_at.is_(None),
        )
        .offset(0)
        .exists()
    )
    return (
        select(table)
        .where(table.c.delivered_at.is_(None), table.c.next_attempt_at <= func.now(), ~blocked)
        .order_by(table.c.seq)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    )


class Relay:
    """Delivers a service's outbox; wakes on NOTIFY and sweeps every ``sweep_seconds``."""

    def __init__(
        self,
        *,
        outbox: Outbox,
        sessions: async_sessionmaker[AsyncSession],
        clients: dict[str, ServiceClient],
        listen_dsn: str | None,
        couriers: Mapping[str, Courier] | None = None,
        metrics: RelayMetrics | None = None,
        batch_size: int = 50,
        sweep_seconds: float = 5.0,
        max_backoff_seconds: float = 300.0,
    ) -> None:
        self.outbox = outbox
        self.sessions = sessions
        self.clients = clients
        self.couriers = dict(couriers or {})  # by destination prefix, e.g. "notify:"
        self.listen_dsn = listen_dsn
        self.metrics = metrics
        self.batch_size = batch_size
        self.sweep_seconds = sweep_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.due = due_events(outbox.outbox, batch_size)
        self._wake = asyncio.Event()

    async def deliver_once(self) -> int:
        """Deliver one batch of due events; return how many were delivered."""
        delivered = 0
        async with session_scope(self.sessions) as session:
            rows = (await session.execute(self.due)).mappings().all()
            by_destination: dict[str, list[Any]] = {}
            for row in rows:
                by_destination.setdefault(row["destination"], []).append(row)
            for destination, batch in by_destination.items():
                delivered += await self._deliver(session, destination, batch)
        return delivered

    async def _deliver(self, session: AsyncSession, destination: str, rows: list[Any]) -> int:
        """Hand one destination's events to its courier (a service's: one POSTed batch);
        record each event's fate."""
        courier = next(
            (c for prefix, c in self.couriers.items() if destination.startswith(prefix)),
            self._post,
        )
        try:
            outcomes = await courier(session, destination, rows)
        except PeerUnavailable as exc:  # the peer is down: its events wait together
            at = await self._retry_later(session, rows[0], error=exc)
            for row in rows[1:]:
                await self._retry_later(session, row, error="peer unavailable", at=at)
            return 0
        except DomainError as exc:  # the batch as a whole failed or was refused
            for row in rows:
                await self._refused(session, row, exc)
            return 0
        table = self.outbox.outbox
        delivered, notes = [], []
        for row, outcome in zip(rows, outcomes, strict=True):
            if outcome.done:
                delivered.append(row["seq"])
                if outcome.error:  # finished undelivered: the reason stays on the row
                    notes.append({"seq": row["seq"], "note": outcome.error[:1000]})
            elif outcome.retry_at:
                at, error = outcome.retry_at, outcome.error or "deferred"
                await self._retry_later(session, row, error=error, at=at)
            else:
                await self._refused(session, row, outcome.error or "refused")
        if delivered:
            await session.execute(
                update(table)
                .where(table.c.seq.in_(delivered))
                .values(delivered_at=func.now(), attempts=table.c.attempts + 1, last_error=None)
            )
            if self.metrics:
                self.metrics.delivered.labels(_label(destination)).inc(len(delivered))
        for note in notes:
            await session.execute(
                update(table).where(table.c.seq == note["seq"]).values(last_error=note["note"])
            )
        return len(delivered)

    async def drain(self) -> int:
        """Deliver batches until a pass delivers nothing; return how many were delivered.

        A ticket's next event becomes eligible once the one before it is delivered, so a
        pass that delivered something goes again at once instead of waiting for a sweep.
        """
        total = 0
        while delivered := await self.deliver_once():
            total += delivered
        return total

    async def _post(
        self, session: AsyncSession, destination: str, rows: Sequence[Mapping[str, Any]]
    ) -> list[Outcome]:
        """A service's courier: the events as one batch to its inbox."""
        client = self.clients.get(destination)
        if client is None:
            raise PeerUnavailable(f"no client for destination {destination!r}")
        batch = EventBatch(
            events=[
                EventEnvelope(
                    id=row["event_id"],
                    type=row["event_type"],
                    source=self.outbox.schema,
                    occurred_at=row["occurred_at"],
                    ordering_key=row["ordering_key"],
                    payload=row["payload"],
                    request_id=row["request_id"],
                )
                for row in rows
            ]
        )
        response = await client.request(
            "POST", "/v1/events/batch", json=batch.model_dump(mode="json")
        )
        results = EventBatchResult.model_validate_json(response.content).results
        if [r.id for r in results] != [e.id for e in batch.events]:
            raise PeerFailed(f"{destination} answered for other events than it was sent")
        return [
            Outcome(done=False, error=r.error or "refused")
            if r.status is EventOutcome.REFUSED
            else Outcome(done=True)
            for r in results
        ]

    async def _refused(self, session: AsyncSession, row: Any, error: DomainError | str) -> None:
        if self.metrics:
            self.metrics.refused.labels(_label(row["destination"])).inc()
        await self._retry_later(session, row, error=error)

    async def _retry_later(
        self,
        session: AsyncSession,
        row: Any,
        *,
        error: DomainError | str,
        at: datetime | None = None,
    ) -> datetime:
        """Keep the event for a later attempt; ``at`` defers it without counting an attempt."""
        table = self.outbox.outbox
        attempts = row["attempts"] + (0 if at else 1)
        if at is None:
            now: datetime = (await session.execute(select(func.now()))).scalar_one()
            at = now + backoff(attempts, cap_seconds=self.max_backoff_seconds)
            log.warning(
                "outbox_delivery_failed",
                seq=row["seq"],
                event_id=str(row["event_id"]),
                event_type=row["event_type"],
                destination=row["destination"],
                attempts=attempts,
                error=str(error),
            )
        message = f"{error.code}: {error.message}" if isinstance(error, DomainError) else error
        await session.execute(
            update(table)
            .where(table.c.seq == row["seq"])
            .values(attempts=attempts, next_attempt_at=at, last_error=message[:1000])
        )
        return at

    async def refresh_metrics(self) -> None:
        if self.metrics is None:
            return
        async with session_scope(self.sessions) as session:
            counts = await self.outbox.counts(session)
        # A destination that has caught up reads 0, not a stale figure or nothing.
        for gauge in (self.metrics.pending, self.metrics.failed):
            gauge.clear()
        for destination in {*self.clients, *counts}:
            pending, failed = counts.get(_label(destination), (0, 0))
            self.metrics.pending.labels(_label(destination)).set(pending)
            self.metrics.failed.labels(_label(destination)).set(failed)

    async def run(self) -> None:
        """Deliver until cancelled; a failure of the database only delays delivery."""
        listener = asyncio.create_task(self._listen()) if self.listen_dsn else None
        try:
            while True:
                try:
                    await self.drain()
                    await self.refresh_metrics()
                except Exception as exc:  # the loop must outlive a database restart
                    log.error("outbox_relay_error", error=f"{type(exc).__name__}: {exc}")
                self._wake.clear()
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.sweep_seconds)
        finally:
            if listener:
                listener.cancel()

    async def _listen(self) -> None:
        while True:
            try:
                await self._listen_until_disconnected()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox_listen_failed", error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(self.sweep_seconds)

    async def _listen_until_disconnected(self) -> None:
        assert self.listen_dsn
        connection = await asyncpg.connect(self.listen_dsn)
        closed = asyncio.Event()
        connection.add_termination_listener(lambda *_: closed.set())
        try:
            await connection.add_listener(
                notify_channel(self.outbox.schema), lambda *_: self._wake.set()
            )
            self._wake.set()  # catch up on anything written while not listening
            await closed.wait()
        finally:
            await connection.close()
