"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2), in JSON and XML.

Services are the category catalogue's leaves. A posted request is a submission like the
public form's: it gets its number (the service_request_id) and a token at once and waits for
an agent's review. Only what may be published is: a request's words and place are shown
once an agent has reviewed it as an ordinary matter for a unit; before that, or when its
disposition is confidential (Art 11), only its status. Tickets taken by phone are not
requests of this API. Errors use the standard's shape with its HTTP codes.
Conformance: docs/open311.md.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlmodel import col

from intake.citizens import rules, service
from intake.citizens.models import Submission
from intake.citizens.rules import SubmissionSource
from intake.deps import VaultDep
from intake.privacy import valid_phone
from intake.tickets.models import Ticket
from shared.catalogue import Category, catalogue
from shared.deps import ClockDep, SessionDep, SettingsDep
from shared.errors import DomainError
from shared.geo import PointIn
from shared.i18n import Lang
from shared.vocabulary import TicketStatus

router = APIRouter(prefix="/open311/v2", tags=["open311"])
SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_DAYS = 90  # the standard's widest date range, and the default one
MAX_REQUESTS = 1000  # the most one GET requests answers (newest first)
# The XML element of each list's items (the standard's names).
ITEM = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "errors": "error",
}


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        self.status, self.description = status, description


def _xml(parent: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _xml(ET.SubElement(parent, key), item)
    elif isinstance(value, list):
        for item in value:
            _xml(ET.SubElement(parent, ITEM.get(parent.tag, "item")), item)
    elif isinstance(value, bool):
        parent.text = "true" if value else "false"
    elif value is not None:
        parent.text = str(value)


def answer(fmt: str, root: str, value: Any, status: int = 200) -> Response:
    """``value`` as JSON, or as XML under ``root`` (lists become the standard's item tags)."""
    if fmt == "xml":
        element = ET.Element(root)
        _xml(element, value)
        body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(element, encoding="utf-8")
        return Response(body, status_code=status, media_type="text/xml; charset=utf-8")
    return Response(
        json.dumps(value, ensure_ascii=False).encode(),
        status_code=status,
        media_type="application/json",
    )


def error(fmt: str, status: int, description: str) -> Response:
    return answer(fmt, "errors", [{"code": status, "description": description}], status)


def _format(fmt: str) -> str:
    if fmt not in ("json", "xml"):
        raise Open311Error(404, f"unknown format {fmt!r}: json or xml")
    return fmt


def _when(at: datetime | None) -> str | None:
    return at.astimezone(SHANGHAI).isoformat(timespec="seconds") if at else None


def _date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Open311Error(
            400, f"{name} is not a w3 date-time (2026-12-01T00:00:00+08:00)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)


def _service(category: Category) -> dict[str, Any]:
    top = catalogue().categories[category.parent] if category.parent else category
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.help,
        "metadata": False,  # no category needs attributes beyond the standard's fields
        "type": "realtime",  # the number is given at once (a token too)
        "keywords": ", ".join(category.keywords),
        "group": top.name,
    }


def _leaf(code: str | None) -> Category:
    found = catalogue().categories.get(code or "")
    if found is None or found.parent is None:
        raise Open311Error(
            404 if code else 400, f"no service {code!r}" if code else "service_code required"
        )
    return found


async def _guarded(fmt: str, work: Any) -> Response:
    """Run ``work``; any refusal comes back in the standard's error shape."""
    shape = fmt if fmt in ("json", "xml") else "json"  # an unknown format is told in JSON
    try:
        return await work(_format(fmt))
    except Open311Error as exc:
        return error(shape, exc.status, exc.description)
    except DomainError as exc:
        return error(shape, exc.status_code, exc.message)


@router.get("/services.{fmt}")
async def services(fmt: str) -> Response:
    """The service list: every leaf of the category catalogue."""

    async def work(fmt: str) -> Response:
        leaves = [c for c in catalogue().categories.values() if c.parent is not None]
        return answer(fmt, "services", [_service(c) for c in leaves])

    return await _guarded(fmt, work)


@router.get("/services/{code}.{fmt}")
async def service_definition(code: str, fmt: str) -> Response:
    """A service's definition: no extra attributes (its metadata is false)."""

    async def work(fmt: str) -> Response:
        leaf = _leaf(code)
        return answer(fmt, "service_definition", {"service_code": leaf.code, "attributes": []})

    return await _guarded(fmt, work)


def _stages(request: Request) -> dict[str, str]:
    """The stages' words, in the language asked for (``?locale=en``; Chinese by default)."""
    lang = Lang.EN if request.query_params.get("locale", "").startswith("en") else Lang.ZH
    return rules.stage_words(lang)


def _request(
    submission: Submission, ticket: Ticket | None, stages: dict[str, str]
) -> dict[str, Any]:
    stage = rules.public_stage(ticket.status if ticket else None)
    shown = ticket is not None and rules.publishable(ticket.outcome, ticket.disposition)
    code = (ticket.category if ticket else None) or submission.category
    category = catalogue().categories.get(code or "")
    return {
        "service_request_id": submission.number,
        "status": "closed" if rules.is_closed(stage) else "open",
        "status_notes": stages[stage.value],
        "service_name": category.name if category else None,
        "service_code": code,
        "description": ticket.text if shown and ticket else None,
        "agency_responsible": ticket.assigned_unit_name if ticket else None,
        "service_notice": None,
        "requested_datetime": _when(submission.received_at),
        "updated_datetime": _when(ticket.updated_at if ticket else submission.received_at),
        "expected_datetime": _when(ticket.due_at if ticket else None),
        "address": (ticket.place or submission.place) if shown and ticket else None,
        "address_id": None,
        "zipcode": None,
        "lat": (ticket.latitude if ticket else None) if shown else None,
        "long": (ticket.longitude if ticket else None) if shown else None,
        "media_url": None,  # photos are seen by staff only
    }


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@router.get("/requests.{fmt}")
async def requests(
    request: Request,
    fmt: str,
    session: SessionDep,
    clock: ClockDep,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    jurisdiction_id: str | None = None,
) -> Response:
    """Requests sent through the public channels: by ids (which override every other filter),
    or by service codes, status (open, closed) and dates (at most 90 days; the last 90 by
    default), newest first, at most 1,000."""

    async def work(fmt: str) -> Response:
        query = select(Submission, Ticket).join(
            Ticket, col(Ticket.id) == col(Submission.ticket_id), isouter=True
        )
        ids = _split(service_request_id)
        if ids:
            query = query.where(col(Submission.number).in_(ids[:MAX_REQUESTS]))
        else:
            end = _date(end_date, "end_date") or clock.now()
            start = _date(start_date, "start_date") or end - timedelta(days=MAX_DAYS)
            if end - start > timedelta(days=MAX_DAYS) or start > end:
                raise Open311Error(400, f"the date range may span at most {MAX_DAYS} days")
            query = query.where(
                col(Submission.received_at) >= start, col(Submission.received_at) <= end
            )
            codes = _split(service_code)
            if codes:
                code = col(Ticket.category).is_not(None)
                query = query.where(
                    (code & col(Ticket.category).in_(codes))
                    | (~code & col(Submission.category).in_(codes))
                )
            states = set(_split(status))
            if states - {"open", "closed"}:
                raise Open311Error(400, "status is open or closed (comma separated)")
            if len(states) == 1:
                closed = col(Ticket.status).in_(CLOSED_STATUSES)
                query = query.where(
                    closed if states == {"closed"} else ~closed | (col(Ticket.id).is_(None))
                )
        query = query.order_by(col(Submission.received_at).desc()).limit(MAX_REQUESTS)
        rows = (await session.execute(query)).all()
        stages = _stages(request)
        return answer(fmt, "service_requests", [_request(s, t, stages) for s, t in rows])

    return await _guarded(fmt, work)


@router.get("/requests/{request_id}.{fmt}")
async def one_request(
    request: Request,
    request_id: str,
    fmt: str,
    session: SessionDep,
    jurisdiction_id: str | None = None,
) -> Response:
    async def work(fmt: str) -> Response:
        row = (
            await session.execute(
                select(Submission, Ticket)
                .join(Ticket, col(Ticket.id) == col(Submission.ticket_id), isouter=True)
                .where(col(Submission.number) == request_id)
            )
        ).first()
        if row is None:
            raise Open311Error(404, f"no service request {request_id!r}")
        return answer(fmt, "service_requests", [_request(row[0], row[1], _stages(request))])

    return await _guarded(fmt, work)


@router.get("/tokens/{token}.{fmt}")
async def token(token: str, fmt: str, session: SessionDep) -> Response:
    """The service_request_id of a token (given at once here, so always found)."""

    async def work(fmt: str) -> Response:
        found = await session.scalar(select(Submission).where(col(Submission.token) == token))
        if found is None:
            raise Open311Error(404, f"no token {token!r}")
        return answer(
            fmt, "service_requests", [{"service_request_id": found.number, "token": found.token}]
        )

    return await _guarded(fmt, work)


@router.post("/requests.{fmt}")
async def post_request(
    request: Request,
    fmt: str,
    session: SessionDep,
    vault: VaultDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Response:
    """A new request from a registered application (form-encoded, as the standard says); it
    waits for an agent's review like the public form's."""

    async def work(fmt: str) -> Response:
        form = await request.form()
        field = {k: v for k, v in form.items() if isinstance(v, str)}
        client = await service.client_of_key(session, field.get("api_key"))
        if client is None:
            raise Open311Error(403, "invalid api_key")
        now = clock.now()
        await service.count(
            request.app.state.sessions,
            f"open311:{client.id}",
            limit=settings.open311_requests_per_minute,
            seconds=60,
            now=now,
            what="application",
        )
        leaf = _leaf(field.get("service_code"))
        point = _point(field.get("lat"), field.get("long"))
        place = field.get("address_string") or field.get("address_id")
        if point is None and not place:
            raise Open311Error(400, "a location is required: lat and long, or address_string")
        description = field.get("description", "").strip()
        if not description or len(description) > 4000:
            raise Open311Error(400, "description is required (at most 4,000 characters)")
        phone = field.get("phone") or None
        if phone is not None:
            try:
                phone = valid_phone(phone)
            except PydanticCustomError:
                raise Open311Error(400, "phone is not a valid phone number") from None
        name = " ".join(n for n in (field.get("last_name"), field.get("first_name")) if n)
        submission, _ = await service.receive(
            session,
            vault,
            request.app.state.store,
            service.Matter(
                source=SubmissionSource.OPEN311,
                text=description,
                phone=phone,
                # The standard's phone is how the submitter is to be reached.
                contact_consent=phone is not None,
                category=leaf.code,
                place=(place or "")[:300] or None,
                point=point,
                name=name[:100] or None,
                client_id=client.id,
                media_url=(field.get("media_url") or "")[:1000] or None,
            ),
            [],
            idempotency_key=request.headers.get("Idempotency-Key"),
            now=now,
        )
        notice = _stages(request)["awaiting_review"]
        return answer(
            fmt,
            "service_requests",
            [
                {
                    "service_request_id": submission.number,
                    "token": submission.token,
                    "service_notice": notice,
                    "account_id": None,
                }
            ],
        )

    return await _guarded(fmt, work)


def _point(lat: str | None, lon: str | None) -> PointIn | None:
    if not lat and not lon:
        return None
    try:
        return PointIn(lat=float(lat or ""), lon=float(lon or ""))
    except ValueError:
        raise Open311Error(400, "lat and long are WGS-84 decimal degrees, both given") from None


CLOSED_STATUSES: Sequence[str] = sorted(
    s
    for s in (*TicketStatus, "answered", "closed_at_intake")
    if rules.is_closed(rules.public_stage(s))
)
