"""The transactional outbox, its relay and the inbox, on a real database."""

import asyncio
from collections import Counter
from datetime import timedelta
from typing import ClassVar

import httpx
import pytest
from sqlalchemy import case, func, select, text, update
from sqlalchemy.dialects import postgresql

from shared.clients.base import ServiceClient
from shared.db import make_engine, make_sessionmaker, session_scope
from shared.events import Event, EventBatch, EventEnvelope
from shared.outbox import FAILED_AFTER_ATTEMPTS, Outbox, Relay, backoff


class Ping(Event):
    type_name: ClassVar[str] = "test.ping.v1"
    n: int


@pytest.fixture
async def sessions(fresh_database_url):
    engine = make_engine(fresh_database_url, pool_size=4)
    yield make_sessionmaker(engine)
    await engine.dispose()


class Receiver:
    """Stands in for a peer's /v1/events/batch: records what arrives, can fail on demand."""

    def __init__(
        self,
        fail_first: int = 0,
        fail_keys: frozenset[str] = frozenset(),
        crash_keys: frozenset[str] = frozenset(),
    ) -> None:
        self.received: list[EventEnvelope] = []
        self.fail_first = fail_first  # whole requests answered 503
        self.fail_keys = set(fail_keys)  # events refused by a rule
        self.crash_keys = set(crash_keys)  # events whose handler raises
        self.arrived = asyncio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/events/batch"
        batch = EventBatch.model_validate_json(request.content)
        await asyncio.sleep(0.001)  # let concurrent relays interleave
        if self.fail_first > 0:
            self.fail_first -= 1
            return httpx.Response(503)
        results = []
        for envelope in batch.events:
            if envelope.ordering_key in self.fail_keys | self.crash_keys:
                poisoned = envelope.ordering_key in self.fail_keys
                error = "bad: poison" if poisoned else "failed: RuntimeError"
                results.append({"id": str(envelope.id), "status": "refused", "error": error})
                continue
            self.received.append(envelope)
            results.append({"id": str(envelope.id), "status": "applied"})
        self.arrived.set()
        return httpx.Response(200, json={"results": results})


def _client(peer: str, receiver) -> ServiceClient:
    return ServiceClient(
        peer=peer,
        base_url=f"http://{peer}",
        token=lambda: "t",
        retries=0,
        transport=httpx.MockTransport(receiver),
    )


def _relay(sessions, receiver, *, others: dict | None = None, **options) -> Relay:
    clients = {"dispatch": _client("dispatch", receiver)}
    clients.update({peer: _client(peer, r) for peer, r in (others or {}).items()})
    return Relay(
        outbox=Outbox("intake"), sessions=sessions, clients=clients, listen_dsn=None, **options
    )


async def _add(sessions, clock, *events: tuple[int, str | None], to: str = "dispatch") -> None:
    async with session_scope(sessions) as session:
        for n, key in events:
            await Outbox("intake").add(session, Ping(n=n), to=to, now=clock.now(), ordering_key=key)


async def _undelivered(sessions) -> int:
    table = Outbox("intake").outbox
    async with session_scope(sessions) as session:
        return await session.scalar(
            select(func.count()).select_from(table).where(table.c.delivered_at.is_(None))
        )


async def _make_due(sessions) -> None:
    table = Outbox("intake").outbox
    async with session_scope(sessions) as session:
        await session.execute(update(table).values(next_attempt_at=func.now()))


async def test_event_is_written_only_if_the_state_change_commits(sessions, clock):
    with pytest.raises(RuntimeError):
        async with session_scope(sessions) as session:
            await Outbox("intake").add(session, Ping(n=1), to="dispatch", now=clock.now())
            raise RuntimeError("the state change failed")
    assert await _undelivered(sessions) == 0
    await _add(sessions, clock, (2, None))
    assert await _undelivered(sessions) == 1


async def test_relay_delivers_each_event_with_its_contract(sessions, clock):
    receiver = Receiver()
    await _add(sessions, clock, (1, "T1"), (2, "T2"))
    assert await _relay(sessions, receiver).deliver_once() == 2
    assert [e.parse(Ping) for e in receiver.received] == [Ping(n=1), Ping(n=2)]
    assert receiver.received[0].source == "intake"
    assert receiver.received[0].occurred_at == clock.now()
    assert await _relay(sessions, receiver).deliver_once() == 0


async def test_failed_delivery_is_kept_and_retried_with_backoff(sessions, clock):
    receiver = Receiver(fail_first=1)
    await _add(sessions, clock, (1, None))
    relay = _relay(sessions, receiver)
    assert await relay.deliver_once() == 0
    table = Outbox("intake").outbox
    async with session_scope(sessions) as session:
        row = (await session.execute(select(table))).mappings().one()
        now = await session.scalar(select(func.now()))
    assert row["attempts"] == 1 and row["delivered_at"] is None
    assert "503" in row["last_error"]
    assert row["next_attempt_at"] > now
    assert await relay.deliver_once() == 0  # not due yet: back-off is respected
    await _make_due(sessions)
    assert await relay.deliver_once() == 1
    assert await _undelivered(sessions) == 0


async def test_a_peer_that_is_down_costs_one_attempt_per_batch(sessions, clock):
    receiver = Receiver(fail_first=1)
    await _add(sessions, clock, (1, "T1"), (2, "T2"), (3, "T3"))
    await _relay(sessions, receiver).deliver_once()
    table = Outbox("intake").outbox
    async with session_scope(sessions) as session:
        rows = (await session.execute(select(table).order_by(table.c.seq))).mappings().all()
    assert [r["attempts"] for r in rows] == [1, 0, 0]
    assert all(r["delivered_at"] is None for r in rows)
    assert len({r["next_attempt_at"] for r in rows}) == 1  # all wait for the same retry
    await _make_due(sessions)
    assert await _relay(sessions, receiver).deliver_once() == 3


def test_backoff_doubles_up_to_the_cap():
    assert backoff(1, cap_seconds=300).total_seconds() <= 1
    assert 6.4 <= backoff(4, cap_seconds=300).total_seconds() <= 8
    assert 240 <= backoff(30, cap_seconds=300).total_seconds() <= 300


async def test_events_of_one_key_arrive_in_order_even_when_one_fails(sessions, clock):
    receiver = Receiver(fail_keys=frozenset({"T1"}))
    await _add(sessions, clock, (1, "T1"), (2, "T1"), (3, "T2"))
    relay = _relay(sessions, receiver)
    await relay.deliver_once()
    assert [e.parse(Ping).n for e in receiver.received] == [3]  # T1's second waits for its first
    receiver.fail_keys.clear()
    await _make_due(sessions)
    await relay.deliver_once()
    await relay.deliver_once()
    assert [e.parse(Ping).n for e in receiver.received] == [3, 1, 2]


async def test_metrics_count_pending_and_failed(sessions, clock):
    from prometheus_client import CollectorRegistry

    from shared.outbox import RelayMetrics

    registry = CollectorRegistry()
    receiver = Receiver(fail_keys=frozenset({"T1", "T2"}))
    relay = _relay(sessions, receiver, metrics=RelayMetrics.register(registry))
    await _add(sessions, clock, (1, "T1"), (2, "T2"))
    for _ in range(FAILED_AFTER_ATTEMPTS):
        await _make_due(sessions)
        await relay.deliver_once()
    await relay.refresh_metrics()
    assert registry.get_sample_value("outbox_pending", {"destination": "dispatch"}) == 2
    assert registry.get_sample_value("outbox_failed", {"destination": "dispatch"}) == 2


async def test_two_relays_on_one_outbox_never_deliver_an_event_twice(sessions, clock):
    receiver = Receiver()
    await _add(sessions, clock, *[(n, f"T{n % 20}") for n in range(300)])
    first, second = (
        _relay(sessions, receiver, batch_size=7),
        _relay(sessions, receiver, batch_size=7),
    )

    async def drain(relay: Relay) -> int:
        total = 0
        while await _undelivered(sessions):
            total += await relay.deliver_once()
        return total

    delivered = await asyncio.gather(drain(first), drain(second))
    counts = Counter(e.id for e in receiver.received)
    assert len(counts) == 300
    assert max(counts.values()) == 1
    assert sum(delivered) == 300 and min(delivered) > 0  # both did part of the work
    per_key: dict[str, list[int]] = {}
    for envelope in receiver.received:
        per_key.setdefault(envelope.ordering_key, []).append(envelope.parse(Ping).n)
    assert all(ns == sorted(ns) for ns in per_key.values())


async def test_notify_wakes_the_relay_without_waiting_for_a_sweep(
    sessions, clock, fresh_database_url
):
    from shared.db import asyncpg_dsn

    receiver = Receiver()
    relay = _relay(sessions, receiver, sweep_seconds=60)
    relay.listen_dsn = asyncpg_dsn(fresh_database_url)
    running = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.5)  # first sweep done; the next would be a minute away
        await _add(sessions, clock, (1, None))
        for _ in range(100):
            if receiver.received:
                break
            await asyncio.sleep(0.05)
        assert [e.parse(Ping).n for e in receiver.received] == [1]
    finally:
        running.cancel()


async def test_a_receiver_that_is_down_holds_back_no_other_receivers_events(sessions, clock):
    """Ordering is per (destination, ticket): sla down never keeps intake uninformed."""

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    receiver = Receiver()
    relay = _relay(sessions, receiver, others={"sla": down})
    await _add(sessions, clock, (1, "T1"), to="sla")
    await _add(sessions, clock, (2, "T1"), (3, "T1"), (4, "T2"), to="dispatch")
    assert await relay.drain() == 3
    assert [e.parse(Ping).n for e in receiver.received] == [2, 4, 3]
    assert await _undelivered(sessions) == 1  # sla's event waits for sla


async def test_a_burst_of_one_tickets_events_leaves_in_one_sweep(sessions, clock):
    """Each event becomes eligible when the one before it is delivered: the relay goes again
    at once after a pass that delivered something, instead of one event per sweep."""
    receiver = Receiver()
    await _add(sessions, clock, *[(n, "T1") for n in range(10)])
    relay = _relay(sessions, receiver, sweep_seconds=3600)
    running = asyncio.create_task(relay.run())

    async def all_arrived() -> None:
        while len(receiver.received) < 10:
            receiver.arrived.clear()
            await receiver.arrived.wait()

    try:
        # The work takes milliseconds; a relay that waited for its hour-long sweep after
        # each event would still be at the second one when this gives up.
        await asyncio.wait_for(all_arrived(), timeout=120)
    finally:
        running.cancel()
    assert [e.parse(Ping).n for e in receiver.received] == list(range(10))


async def test_a_poisoned_event_holds_back_only_its_own_ticket_and_is_counted(sessions, clock):
    from prometheus_client import CollectorRegistry

    from shared.outbox import RelayMetrics

    registry = CollectorRegistry()
    receiver = Receiver(crash_keys=frozenset({"POISON"}))
    relay = _relay(sessions, receiver, metrics=RelayMetrics.register(registry))
    await _add(sessions, clock, (0, "POISON"), (1, "POISON"))
    await _add(sessions, clock, *[(n, f"T{n}") for n in range(2, 102)])
    assert await relay.drain() == 100
    table = Outbox("intake").outbox
    async with session_scope(sessions) as session:
        attempts = dict(
            (
                await session.execute(
                    select(table.c.ordering_key, table.c.attempts).where(
                        table.c.ordering_key.like("T%")
                    )
                )
            ).all()
        )
    assert set(attempts.values()) == {1}  # every unrelated ticket went through at once
    assert registry.get_sample_value("outbox_refused_total", {"destination": "dispatch"}) == 1
    for _ in range(FAILED_AFTER_ATTEMPTS - 1):
        await _make_due(sessions)
        await relay.drain()
    await relay.refresh_metrics()
    # The poison, kept for an operator.
    assert registry.get_sample_value("outbox_failed", {"destination": "dispatch"}) == 1
    async with session_scope(sessions) as session:
        [stuck] = await Outbox("intake").stuck(session)
        assert (stuck["ordering_key"], stuck["attempts"]) == ("POISON", FAILED_AFTER_ATTEMPTS)
        assert stuck["last_error"] == "failed: RuntimeError"  # the receiver's own words
    receiver.crash_keys.clear()  # the receiver is fixed; the operator replays the event
    async with session_scope(sessions) as session:
        assert await Outbox("intake").replay(session, [stuck["seq"]]) == 1
    assert await relay.drain() == 2
    assert [e.parse(Ping).n for e in receiver.received[-2:]] == [0, 1]


async def test_delivered_events_and_old_inbox_ids_are_pruned_and_nothing_else(sessions, clock):
    """Delivered events go after the outbox retention, inbox ids after the inbox's; an
    undelivered event stays however old, and an id still kept refuses its redelivery."""
    outbox = Outbox("intake")
    await _add(sessions, clock, (1, "T1"), (2, "T2"), (3, "T3"))
    await _relay(sessions, Receiver()).deliver_once()
    await _add(sessions, clock, (4, "T4"))  # never delivered
    envelopes = [
        EventEnvelope(
            type="test.ping.v1", source="dispatch", occurred_at=clock.now(), payload={"n": n}
        )
        for n in (5, 6)
    ]
    async with session_scope(sessions) as session:
        for envelope in envelopes:
            assert await outbox.receive(session, envelope, {})
        # Event 1 was delivered, and envelope 5 received, eight days ago; all else now.
        days_ago = func.now() - timedelta(days=8)
        await session.execute(
            update(outbox.outbox)
            .where(outbox.outbox.c.payload["n"].as_integer().in_([1, 4]))
            .values(
                delivered_at=case((outbox.outbox.c.delivered_at.is_not(None), days_ago)),
                created_at=days_ago,
            )
        )
        await session.execute(
            update(outbox.inbox)
            .where(outbox.inbox.c.event_id == envelopes[0].id)
            .values(received_at=days_ago)
        )
    async with session_scope(sessions) as session:
        pruned = await outbox.prune(
            session, delivered_for=timedelta(days=7), received_for=timedelta(days=7)
        )
        kept = (await session.scalars(select(outbox.outbox.c.payload["n"].as_integer()))).all()
        again = [await outbox.receive(session, e, {}) for e in envelopes]
    assert pruned == 2
    assert sorted(kept) == [2, 3, 4]
    assert again == [True, False]  # 5's id was forgotten; 6's still refuses the redelivery


async def test_an_event_carries_the_request_that_caused_it_to_its_handler_and_onwards(
    sessions, clock
):
    """One id traces a call across services: an event keeps the id of the request that
    wrote it; the receiver handles it under that id, so what it writes in turn keeps it."""
    import structlog

    with structlog.contextvars.bound_contextvars(request_id="in-7f3a"):
        await _add(sessions, clock, (1, "T1"))
    await _add(sessions, clock, (2, "T2"))  # outside any request: no id
    receiver = Receiver()
    assert await _relay(sessions, receiver).deliver_once() == 2
    assert [e.request_id for e in receiver.received] == ["in-7f3a", None]

    seen: list[str | None] = []

    async def handler(session, envelope) -> None:
        seen.append(structlog.contextvars.get_contextvars().get("request_id"))
        await Outbox("intake").add(session, Ping(n=9), to="sla", now=clock.now())

    with structlog.contextvars.bound_contextvars(request_id="batch-1"):
        async with session_scope(sessions) as session:
            await Outbox("intake").receive_all(
                session, receiver.received, {Ping.type_name: handler}
            )
        assert structlog.contextvars.get_contextvars()["request_id"] == "batch-1"
    assert seen == ["in-7f3a", "batch-1"]  # one without an id: the delivering request's
    table = Outbox("intake").outbox
    async with session_scope(sessions) as session:
        onwards = await session.scalars(
            select(table.c.request_id).where(table.c.destination == "sla").order_by(table.c.seq)
        )
        assert list(onwards) == ["in-7f3a", "batch-1"]


def _rows_compared(plan: dict) -> int:
    """Rows a plan's nodes read and threw away, over the whole tree."""
    own = plan.get("Rows Removed by Join Filter", 0) + plan.get("Rows Removed by Filter", 0)
    return own + sum(_rows_compared(child) for child in plan.get("Plans", []))


async def test_choosing_a_batch_reads_each_pending_event_once_whatever_the_statistics(
    sessions, clock
):
    """Statistics taken while the outbox was nearly empty once had the planner compare every
    pending event with every other to find the oldest of each ticket: 8 million rows thrown
    away for 2,850 pending, 2.9 s a batch, while a backlog built up."""
    async with session_scope(sessions) as session:
        await session.execute(text("ANALYZE intake.outbox"))
    pending = 2000
    await _add(sessions, clock, *[(n, f"T{n % 1000}") for n in range(pending)])
    statement = _relay(sessions, Receiver()).due.compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    async with session_scope(sessions) as session:
        explained = await session.scalar(text(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}"))
    assert _rows_compared(explained[0]["Plan"]) < 2 * pending
