"""受理来电: the agent takes a call in the browser — the caller's words, intake's suggestions
(type, category with its confidence, district, the Art 11 case and the words that raised
it, knowledge-base answers, the caller's open tickets) to confirm or change, then the ticket.

The form carries its own Idempotency-Key from the moment it is shown, so a double click or a
resubmission after a dropped connection creates one ticket, never two.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from hotline_client.errors import HotlineError

from console.app import REFUSALS, UNAVAILABLE, catalogues, client_for, labels
from console.pages import posted_form, render
from console.session import signed_in
from shared.auth import Role
from shared.errors import Forbidden
from shared.geo import Datum, wgs84_to_gcj02
from shared.settings import Settings

router = APIRouter()
TAKERS = (Role.AGENT, Role.DISPATCHER)
FIELDS = (
    "channel",
    "text",
    "name",
    "phone",
    "address",
    "place",
    "ticket_type",
    "category",
    "district",
    "street",
    "outcome",
    "disposition",
    "emergency_number",
    "told_caller",
    "related_ticket_id",
    "kb_entry_id",
    "key",
)
BLANK = {f: "" for f in FIELDS} | {
    "channel": "phone",
    "outcome": "submitted",
    "disposition": "normal",
}


def _taker(request: Request) -> str:
    token, user = signed_in(request)
    if user.role not in TAKERS:
        raise Forbidden("agents only", zh="此页面供话务员使用")
    return token


def with_suggestion(values: dict[str, str], suggestion: Any) -> dict[str, str]:
    """The form after intake's suggestions: what the agent has already chosen stays, the
    rest takes the suggestion; an Art 11 case decides the ending (closed at intake) and a
    consultation with an answer may be answered on the spot (Art 13)."""
    filled = dict(values)
    for field, guess in (
        ("ticket_type", suggestion.type.value),
        ("category", suggestion.category.value),
        ("district", suggestion.district.get("value")),
        ("street", suggestion.district.get("street")),
    ):
        if not filled.get(field) and guess:
            filled[field] = guess
    case = suggestion.disposition
    if filled.get("disposition", "normal") == "normal" and case.value != "normal":
        filled["disposition"] = case.value
        filled["emergency_number"] = case.emergency_number or ""
    related = suggestion.related_tickets
    if related and not filled.get("related_ticket_id"):
        filled["related_ticket_id"] = related[0]["id"]
    if filled["disposition"] not in ("normal", "repeat"):
        filled["outcome"] = "closed_at_intake"
    elif filled.get("ticket_type") == "consultation" and suggestion.kb_matches:
        filled["kb_entry_id"] = filled.get("kb_entry_id") or str(suggestion.kb_matches[0]["id"])
    return filled


def call_of(values: dict[str, str]) -> dict[str, Any]:
    """The body of intake's POST /v1/tickets from the form; an empty field is not sent."""

    def given(field: str) -> str | None:
        return values.get(field) or None

    return {
        "channel": values.get("channel") or "phone",
        "text": values.get("text", ""),
        "ticket_type": values.get("ticket_type", ""),
        "category": given("category"),
        "district": given("district"),
        "street": given("street"),
        "place": given("place"),
        "outcome": values.get("outcome") or "submitted",
        "disposition": values.get("disposition") or "normal",
        "emergency_number": given("emergency_number"),
        "told_caller": given("told_caller"),
        "related_ticket_id": given("related_ticket_id"),
        "kb_entry_id": given("kb_entry_id"),
        "caller": {"name": given("name"), "phone": given("phone"), "address": given("address")},
    }


async def _form(request: Request, token: str) -> dict[str, str]:
    form = await posted_form(request, token)
    return {f: str(form.get(f) or "").strip() for f in FIELDS}


async def _show(
    request: Request,
    token: str,
    values: dict[str, str],
    *,
    suggestion: Any = None,
    error: str = "",
    notice: str = "",
    status: int = 200,
    submission: Any = None,
) -> Response:
    """受理来电's form, or a citizen's submission under review (``submission``)."""
    categories, places = await catalogues(request, token)
    return render(
        request,
        "intake.html",
        {
            "form": values,
            "submission": submission,
            "map": map_of(request.app.state.settings, submission),
            "suggestion": suggestion,
            "categories": categories.items if categories else [],
            "districts": places.items if places else [],
            "labels": await labels(request, token),
            "error": error,
            "notice": notice,
        },
        status,
    )


@router.get("/intake", response_class=HTMLResponse)
async def intake_page(request: Request, notice: str = "") -> Response:
    token = _taker(request)
    return await _show(request, token, {**BLANK, "key": uuid.uuid4().hex}, notice=notice)


@router.post("/intake/suggest", response_class=HTMLResponse)
async def suggest(request: Request) -> Response:
    """Intake's suggestions for what the agent has typed, filled into the form to confirm."""
    token = _taker(request)
    values = await _form(request, token)
    if not values["text"]:
        return await _show(request, token, values, error="请先填写诉求内容", status=422)
    client = client_for(request, token)
    call = client.classify(
        values["text"], address=values["address"] or None, caller_phone=values["phone"] or None
    )
    found = (await client.run(call)).value
    return await _show(request, token, with_suggestion(values, found), suggestion=found)


@router.post("/intake")
async def take(request: Request) -> Response:
    """The ticket, once, under the form's own key; a refusal keeps everything typed."""
    token = _taker(request)
    values = await _form(request, token)
    client = client_for(request, token)
    try:
        ticket = (await client.run(client.take_call(call_of(values), key=values["key"]))).value
    except HotlineError as refused:
        if refused.status == 401:
            raise
        if refused.status not in REFUSALS:  # not answered: the same key keeps a retry safe
            return await _show(request, token, values, error=UNAVAILABLE, status=502)
        # Refused: the corrected form is another request, under a key of its own.
        fresh = {**values, "key": uuid.uuid4().hex}
        return await _show(request, token, fresh, error=refused.said, status=refused.status)
    assert ticket is not None
    ending = (await labels(request, token)).get("outcome", {}).get(ticket.outcome, ticket.outcome)
    notice = f"{ticket.number} 已受理：{ending}"
    return RedirectResponse(f"/intake?notice={quote(notice)}", status_code=303)


# ---- 群众来件: citizens' submissions, reviewed into tickets -------------------------------------

REVIEWED = (
    "ticket_type",
    "category",
    "district",
    "street",
    "place",
    "outcome",
    "disposition",
    "emergency_number",
    "told_caller",
    "related_ticket_id",
    "kb_entry_id",
)


def _agent(request: Request) -> str:
    token, user = signed_in(request)
    if user.role is not Role.AGENT:
        raise Forbidden("agents only", zh="此页面供话务员使用")
    return token


@router.get("/submissions", response_class=HTMLResponse)
async def submissions_page(request: Request, notice: str = "", phone: str = "") -> Response:
    """The review queue: what citizens sent by the website or an app, oldest first; with a
    phone, what that caller sent (a caller asking on the line about a form)."""
    token = _agent(request)
    client = client_for(request, token)
    page = (await client.run(client.submissions(limit=200, caller_phone=phone or None))).value
    return render(
        request,
        "submissions.html",
        {"page": page, "labels": await labels(request, token), "notice": notice, "phone": phone},
    )


def map_of(settings: Settings, submission: Any) -> dict[str, Any] | None:
    """The point on the city's tiles, in their datum; None without tiles or a point."""
    if not settings.map_tiles_url or submission is None or submission.latitude is None:
        return None
    lat, lon = submission.latitude, submission.longitude
    if settings.map_tiles_datum is Datum.GCJ02:
        lat, lon = wgs84_to_gcj02(lat, lon)
    return {
        "tiles": settings.map_tiles_url,
        "lat": lat,
        "lon": lon,
        "attribution": settings.map_attribution,
    }


@router.get("/submissions/{submission_id}", response_class=HTMLResponse)
async def submission_page(request: Request, submission_id: str) -> Response:
    """A submission with intake's suggestions already applied, to confirm or change."""
    token = _agent(request)
    client = client_for(request, token)
    submission = (await client.run(client.submission(submission_id))).value
    assert submission is not None
    values = {**BLANK, "text": submission.text, "place": submission.place or ""}
    values |= {
        "ticket_type": submission.ticket_type or "",
        "category": submission.category or "",
        "district": submission.district or "",  # where the point lies, to confirm
    }
    found = (await client.run(client.classify(submission.text))).value
    return await _show(
        request, token, with_suggestion(values, found), suggestion=found, submission=submission
    )


@router.post("/submissions/{submission_id}")
async def review_submission(request: Request, submission_id: str) -> Response:
    token = _agent(request)
    form = await posted_form(request, token)
    values = {**BLANK, **{f: str(form.get(f) or "").strip() for f in REVIEWED}}
    client = client_for(request, token)
    review = {f: values[f] or None for f in REVIEWED}
    review |= {"outcome": values["outcome"] or "submitted", "disposition": values["disposition"]}
    try:
        call = client.review_submission(submission_id, review, key=f"review-{submission_id}")
        ticket = (await client.run(call)).value
    except HotlineError as refused:
        if refused.status == 401:
            raise
        submission = (await client.run(client.submission(submission_id))).value
        answered = refused.status in REFUSALS
        values["text"] = submission.text if submission else ""
        return await _show(
            request,
            token,
            values,
            error=refused.said if answered else UNAVAILABLE,
            status=refused.status if answered and refused.status else 502,
            submission=submission,
        )
    assert ticket is not None
    ending = (await labels(request, token)).get("outcome", {}).get(ticket.outcome, ticket.outcome)
    notice = f"{ticket.number} 已受理：{ending}"
    return RedirectResponse(f"/submissions?notice={quote(notice)}", status_code=303)


# The types an attachment may have, told by its first bytes (the services store nothing else).
SIGNATURES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG": "image/png", b"%PDF-": "application/pdf"}


@router.get("/attachments/{attachment_id}")
async def attachment(request: Request, attachment_id: str) -> Response:
    """A photo or document, fetched with the user's own token (the ticket's access rules)."""
    token, _ = signed_in(request)
    client = client_for(request, token)
    content = (await client.run(client.attachment(attachment_id))).value or b""
    kind = next((t for head, t in SIGNATURES.items() if content.startswith(head)), None)
    return Response(
        content,
        media_type=kind or "application/octet-stream",
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )
