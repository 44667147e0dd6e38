"""Background work of sla: the breach scan and the reports' recount (APScheduler), and the inbox
handler."""

from __future__ import annotations

import asyncio

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import State

from shared.db import session_scope
from shared.events import EventEnvelope, TicketStepped
from shared.outbox import EventHandler
from shared.workdays import local_date
from sla.clocks import service
from sla.dashboard import rollup
from sla.supervision import digest

log = structlog.get_logger(__name__)


async def scan_once(state: State) -> int:
    """Scan until nothing more is due, then warn of what falls due by the end of the next
    working day; each batch is its own transaction. Answers how many clocks were breached."""
    total = 0
    while True:
        async with session_scope(state.sessions) as session:
            found = await service.scan_breaches(session, state.outbox, now=state.clock.now())
        total += found
        if found < service.SCAN_BATCH:
            break
    while True:
        now = state.clock.now()
        async with session_scope(state.sessions) as session:
            calendar = await state.calendar_cache.get(session)
            until = service.due_soon_until(calendar, now)
            warned = await service.warn_due_soon(session, state.outbox, now=now, until=until)
        if warned < service.SCAN_BATCH:
            return total


async def send_digest(state: State) -> bool:
    """Today's supervisors' digest, once its time has come (one replica sends it)."""
    now = state.clock.now()
    if getattr(state, "digest_sent_on", None) == local_date(now):
        return False
    async with session_scope(state.sessions) as session:
        sent = await digest.send_if_due(
            session, state.outbox, now=now, at=state.settings.sla_digest_at
        )
    if sent or digest.due(now, state.settings.sla_digest_at):
        state.digest_sent_on = local_date(now)  # by this replica or another
    return sent


async def refresh_reports(state: State) -> int:
    """Recount the report days changed since the last recount (sla.dashboard.rollup)."""
    async with session_scope(state.sessions) as session:
        return await rollup.refresh(session)


async def run_scheduler(app: FastAPI) -> None:
    """The breach scan every ``sla_scan_seconds`` (replicas share work via SKIP LOCKED), then
    the supervisors' digest once its time has come; the reports' recount every
    ``sla_report_refresh_seconds`` (one replica at a time)."""
    scheduler = AsyncIOScheduler()

    async def scan() -> None:
        try:
            breached = await scan_once(app.state)
            if breached:
                log.info("breaches_found", count=breached)
        except Exception as exc:  # the next run tries again
            log.error("breach_scan_failed", error=f"{type(exc).__name__}: {exc}")
            return
        try:  # after the scan, so that the digest counts what fell due by now
            if await send_digest(app.state):
                log.info("digest_sent")
        except Exception as exc:  # the next run tries again (the day's claim rolled back)
            log.error("digest_failed", error=f"{type(exc).__name__}: {exc}")

    async def recount() -> None:
        try:
            days = await refresh_reports(app.state)
            if days:
                log.info("report_days_recounted", count=days)
        except Exception as exc:  # the marks stay; the next run or report recounts
            log.error("report_recount_failed", error=f"{type(exc).__name__}: {exc}")

    settings = app.state.settings
    for job, seconds in (
        (scan, settings.sla_scan_seconds),
        (recount, settings.sla_report_refresh_seconds),
    ):
        scheduler.add_job(
            job, "interval", seconds=seconds, max_instances=1, coalesce=True, id=job.__name__
        )
    scheduler.start()
    try:
        await asyncio.Event().wait()
    finally:
        scheduler.shutdown(wait=False)


def handlers(state: State) -> dict[str, EventHandler]:
    async def stepped(session: AsyncSession, envelope: EventEnvelope) -> None:
        calendar = await state.calendar_cache.get(session)
        await service.apply_step(
            session, state.outbox, calendar, envelope.parse(TicketStepped), now=state.clock.now()
        )

    return {TicketStepped.type_name: stepped}
