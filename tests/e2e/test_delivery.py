"""Events between real service processes: a receiver that is down delays work, never loses it."""

import asyncio
from typing import ClassVar

import httpx
from sqlalchemy import func, select, update

from shared.auth import Role, mint_token
from shared.db import make_engine, make_sessionmaker, session_scope
from shared.events import Event
from shared.outbox import Outbox
from shared.settings import Settings


class Probe(Event):
    type_name: ClassVar[str] = "test.probe.v1"
    n: int


async def _wait_for(condition) -> None:
    """Poll another process's progress (there is nothing in this process to await)."""
    async with asyncio.timeout(120):
        while not await condition():  # noqa: ASYNC110
            await asyncio.sleep(0.2)


async def test_events_survive_a_stopped_receiver_and_apply_once(stack, fresh_database_url, clock):
    engine = make_engine(fresh_database_url, pool_size=2)
    sessions = make_sessionmaker(engine)
    intake_outbox, dispatch_inbox = Outbox("intake").outbox, Outbox("dispatch").inbox
    # The probes: sla sends dispatch events of its own too (the 08:30 digest, Beijing time).
    probes = select(dispatch_inbox.c.event_id).where(dispatch_inbox.c.event_type == Probe.type_name)

    async def scalar(query):
        async with session_scope(sessions) as session:
            return await session.scalar(query)

    async def undelivered() -> int:
        return await scalar(select(func.count()).where(intake_outbox.c.delivered_at.is_(None)))

    try:
        stack["dispatch"].stop()
        async with session_scope(sessions) as session:
            for n in range(20):
                await Outbox("intake").add(
                    session, Probe(n=n), to="dispatch", now=clock.now(), ordering_key=f"T{n % 3}"
                )
        # intake's relay keeps trying and reports the backlog (its gauge is set after each
        # round of attempts, so it may lag the first attempt seen in the table).
        await _wait_for(lambda: _retried(scalar, intake_outbox))

        async def backlog_reported() -> bool:
            async with httpx.AsyncClient() as client:
                metrics = (await client.get(f"{stack['intake'].url}/metrics")).text
            return 'outbox_pending{destination="dispatch"} 20.0' in metrics

        await _wait_for(backlog_reported)
        assert await undelivered() == 20

        stack["dispatch"].start()
        await _wait_for(lambda: _none_left(undelivered))
        ids = set(await _all(sessions, select(intake_outbox.c.event_id)))
        assert set(await _all(sessions, probes)) == ids

        # A relay that died after posting and before recording it sends again: no second effect.
        async with session_scope(sessions) as session:
            await session.execute(
                update(intake_outbox)
                .where(intake_outbox.c.seq <= 5)
                .values(delivered_at=None, next_attempt_at=func.now())
            )
        await _wait_for(lambda: _none_left(undelivered))
        assert len(await _all(sessions, probes)) == 20
    finally:
        await engine.dispose()


async def _retried(scalar, outbox) -> bool:
    return (await scalar(select(func.max(outbox.c.attempts)))) >= 2


async def _none_left(undelivered) -> bool:
    return await undelivered() == 0


async def _all(sessions, query) -> list:
    async with session_scope(sessions) as session:
        return list((await session.scalars(query)).all())


def test_a_running_stack_moves_its_clock_forward(stack):
    token = mint_token(Settings(env="test"), role=Role.ADMIN, subject="e2e")
    headers = {"Authorization": f"Bearer {token}"}
    for service in ("intake", "dispatch", "sla"):
        url = stack[service].url
        before = httpx.get(f"{url}/v1/dev/clock", headers=headers).json()
        moved = httpx.post(f"{url}/v1/dev/clock/advance", json={"days": 2}, headers=headers)
        assert moved.status_code == 200
        assert moved.json()["offset_seconds"] == before["offset_seconds"] + 2 * 86400
