"""Idempotency-Key on every create of every service: a retry answers the first result.

A request that changes something (POST, PUT, PATCH) and carries ``Idempotency-Key`` is
remembered per caller, route and key, with a hash of its body:

- the first request claims the key, runs, and — if it succeeded (2xx) — its answer is
  stored; a failed request releases the key, so a corrected retry runs again;
- a retry with the same body gets the stored answer (``Idempotent-Replayed: true``);
- the same key with another body is refused: 422 ``idempotency_key_reused``;
- a retry while the first is still running is told so: 409 ``idempotency_request_in_progress``
  with ``Retry-After``. A claim left by a process that died mid-request is taken over after
  :data:`STALE_CLAIM`; one its process could not give up (the database went away before the
  request ended) is taken over by that process's next retry at once.

Keys are scoped to the caller (role, unit, subject) and the route, so one caller's key never
answers another's request. Pure ASGI: nothing of the request is changed on the way through.
Each service's migrations create the table (``migration_ops.create_idempotency_v1``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    func,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import bearer_token, decode_token
from shared.db import DriverStatement, schema_metadata, session_scope
from shared.errors import DomainError, send_error
from shared.settings import Settings

HEADER = b"idempotency-key"
MAX_KEY_LENGTH = 200
STALE_CLAIM = timedelta(minutes=2)
WRITES = frozenset({"POST", "PUT", "PATCH"})


def idempotency_table(schema: str) -> Table:
    return Table(
        "idempotency_key",
        schema_metadata(schema),
        Column("scope", Text, primary_key=True),
        Column("route", Text, primary_key=True),
        Column("key", Text, primary_key=True),
        Column("body_hash", Text, nullable=False),
        Column("claimed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("status", Integer),
        Column("content_type", Text),
        Column("body", LargeBinary),
        Index("ix_idempotency_key_claimed_at", "claimed_at"),
    )


async def forget_older_than(
    sessions: async_sessionmaker[AsyncSession], schema: str, age: timedelta
) -> int:
    """Delete remembered keys claimed longer than ``age`` ago; return how many."""
    t = idempotency_table(schema)
    async with session_scope(sessions) as session:
        # clock_timestamp: the time of the statement, not of its transaction's start.
        cutoff = func.clock_timestamp() - age
        result = await session.execute(delete(t).where(t.c.claimed_at < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]


class IdempotencyMiddleware:
    """Answers a retried write from what its first attempt answered."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        schema: str,
        settings: Settings,
        sessions: Callable[[], async_sessionmaker[AsyncSession]],
        autocommit: Callable[[], AsyncEngine],
    ) -> None:
        self.app = app
        self.table = idempotency_table(schema)
        self.settings = settings
        # Looked up per request, so tests can bind their own. A claim and a settlement are a
        # statement each, run without BEGIN and COMMIT (two round trips apiece).
        self.sessions = sessions
        self.autocommit = autocommit
        # Built once and sent through the driver: built per request, the claim and the
        # settlement cost more to build than to send.
        t = self.table
        self._this = this = and_(
            t.c.scope == bindparam("the_scope"),
            t.c.route == bindparam("the_route"),
            t.c.key == bindparam("the_key"),
        )
        self._claiming = DriverStatement(
            insert(t)
            .values(
                scope=bindparam("the_scope"),
                route=bindparam("the_route"),
                key=bindparam("the_key"),
                body_hash=bindparam("body_hash"),
                claimed_at=func.now(),
            )
            .on_conflict_do_nothing()
            .returning(t.c.claimed_at)
        )
        self._settling = DriverStatement(
            sa.update(t)
            .where(this)
            .values(
                status=bindparam("status"),
                content_type=bindparam("content_type"),
                body=bindparam("body"),
            )
        )
        self._giving_up = DriverStatement(delete(t).where(this))
        # Claims this process could not settle or give up, by scope, route and key, with the
        # time each was claimed: no request of this process runs them any more.
        self._abandoned: dict[tuple[str, str, str], datetime] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        raw_key = headers.get(HEADER)
        caller = self._caller(headers)
        if raw_key is None or caller is None:  # no key, or no valid token: the app decides
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1")
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            await send_error(
                send,
                scope,
                422,
                "bad_idempotency_key",
                "Idempotency-Key: 1–200 printable characters",
            )
            return
        body = await _read_body(receive)
        route = f"{scope['method']} {scope['path']}"
        body_hash = hashlib.sha256(body).hexdigest()
        claimed = await self._claim(caller, route, key, body_hash)
        if isinstance(claimed, dict):  # the earlier request's row
            await self._answer_earlier(scope, send, claimed, body_hash)
            return
        captured = _Captured(send)
        try:
            await self.app(scope, _replay(body, receive), captured.send)
        finally:
            try:
                await self._settle(caller, route, key, captured)
            except BaseException:
                self._abandon((caller, route, key), claimed)
                raise

    def _caller(self, headers: dict[bytes, bytes]) -> str | None:
        token = bearer_token(headers.get(b"authorization", b"").decode("latin-1"))
        if token is None:
            return None
        try:
            principal = decode_token(self.settings, token)
        except DomainError:
            return None
        return f"{principal.role.value}:{principal.unit_id or ''}:{principal.subject}"

    def _abandon(self, claim: tuple[str, str, str], claimed_at: datetime) -> None:
        # Past STALE_CLAIM any process takes the claim over: no need to remember it longer.
        oldest = claimed_at - STALE_CLAIM
        for earlier in [c for c, at in self._abandoned.items() if at < oldest]:
            del self._abandoned[earlier]
        self._abandoned[claim] = claimed_at

    async def _claim(
        self, caller: str, route: str, key: str, body_hash: str
    ) -> datetime | dict[str, Any]:
        """Claim the key (when it was claimed), or the earlier request's row."""
        this = {"the_scope": caller, "the_route": route, "the_key": key}
        async with self.autocommit().connect() as connection:
            claimed = await self._claiming.fetchval(connection, this | {"body_hash": body_hash})
        if claimed is not None:
            return claimed
        t = self.table
        async with session_scope(self.sessions()) as session:
            found = await session.execute(sa.select(t).where(self._this).with_for_update(), this)
            row = found.mappings().one_or_none()
            if row is None:  # its first attempt failed and gave the key up meanwhile
                return await self._claim(caller, route, key, body_hash)
            now = (await session.execute(sa.select(func.now()))).scalar_one()
            running = row["status"] is None
            stale = running and row["claimed_at"] < now - STALE_CLAIM
            abandoned = running and self._abandoned.get((caller, route, key)) == row["claimed_at"]
            if (stale or abandoned) and row["body_hash"] == body_hash:
                # Its first attempt died mid-request: run again (any effect it committed is
                # guarded by the endpoint's own rules and keys).
                self._abandoned.pop((caller, route, key), None)
                retaken = await session.execute(
                    sa.update(t)
                    .where(self._this)
                    .values(claimed_at=func.now())
                    .returning(t.c.claimed_at),
                    this,
                )
                return retaken.scalar_one()
            return dict(row)

    async def _answer_earlier(
        self, scope: Scope, send: Send, row: dict[str, Any], body_hash: str
    ) -> None:
        if row["body_hash"] != body_hash:
            await send_error(
                send,
                scope,
                422,
                "idempotency_key_reused",
                "this Idempotency-Key was used for another request: use a new key",
            )
        elif row["status"] is None:
            await send_error(
                send,
                scope,
                409,
                "idempotency_request_in_progress",
                "the first request with this Idempotency-Key is still running",
                headers={"Retry-After": "1"},
            )
        else:
            await send(
                {
                    "type": "http.response.start",
                    "status": row["status"],
                    "headers": [
                        (b"content-type", (row["content_type"] or "application/json").encode()),
                        (b"idempotent-replayed", b"true"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": row["body"] or b""})

    async def _settle(self, caller: str, route: str, key: str, captured: _Captured) -> None:
        this = {"the_scope": caller, "the_route": route, "the_key": key}
        async with self.autocommit().connect() as connection:
            if captured.status is not None and 200 <= captured.status < 300:
                body = bytes(captured.body)
                answer = {"status": captured.status, "content_type": captured.content_type}
                await self._settling.fetchval(connection, this | answer | {"body": body})
            else:  # nothing was done: a corrected retry may run
                await self._giving_up.fetchval(connection, this)


class _Captured:
    """Passes the response through and keeps a copy of it."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status: int | None = None
        self.content_type: str | None = None
        self.body = bytearray()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            for name, value in message.get("headers", []):
                if name.lower() == b"content-type":
                    self.content_type = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            self.body.extend(message.get("body", b""))
        await self._send(message)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then whatever the client does next (a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
