"""Citizens' own channels over HTTP (Art 2): the public form's submissions wait for an agent's
review before any unit sees them, keep their number and time of arrival, and can be followed
by number and phone; abuse is held off by a proof of work and rate limits; photos lose their
metadata; attachments follow the ticket's access rules."""

import io
from datetime import timedelta

import pytest
from intake.citizens.rules import solves
from intake.tickets import keeping
from PIL import Image
from sqlalchemy import select, text

from shared.auth import Role
from shared.events import CallerNoticeDue, DeadlineChanged, EventEnvelope, TicketStatusChanged
from shared.geo import wgs84_to_gcj02
from shared.outbox import Outbox
from tests.intake.test_citizens_rules import _photo_with_gps

FORM = {
    "ticket_type": "complaint",
    "category": "noise.construction",
    "text": "林和西路工地每天晚上十一点后还在施工，噪音很大。我是张三，电话13900001111",
    "place": "天河区林和西路",
    "name": "张三",
    "phone": "13900001111",
    "contact_consent": "true",
}
REVIEW = {
    "ticket_type": "complaint",
    "category": "noise.construction",
    "district": "天河区",
    "street": "林和街道",
    "outcome": "submitted",
}


@pytest.fixture
def public_app(make_app, settings):
    """Intake with an easy proof of work and small limits, so tests reach them quickly."""
    return make_app(
        "intake",
        settings=settings.model_copy(
            update={
                "public_challenge_bits": 4,
                "public_submissions_per_minute": 3,
                "public_photos_max": 2,
            }
        ),
    )


async def _solved(client) -> dict:
    challenge = (await client.get("/v1/public/challenge")).json()
    assert challenge["bits"] == 4
    nonce = next(str(n) for n in range(10_000) if solves(challenge["challenge"], str(n)))
    return {"challenge": challenge["challenge"], "nonce": nonce}


async def _submit(client, form=FORM, photos=(), status=201, headers=None) -> dict:
    files = [("photos", (f"p{i}.jpg", data, "image/jpeg")) for i, data in enumerate(photos)]
    response = await client.post(
        "/v1/public/submissions",
        data={**form, **await _solved(client)},
        files=files or None,
        headers=headers,
    )
    assert response.status_code == status, response.text
    return response.json()


async def _events(session, event_type: str) -> list[dict]:
    table = Outbox("intake").outbox
    query = select(table.c.payload).where(table.c.event_type == event_type)
    return [r[0] for r in await session.execute(query)]


async def test_art2_a_web_submission_waits_for_review_then_becomes_the_ticket_of_its_number(
    public_app, client_for, session, clock
):
    async with client_for(public_app) as citizen:
        receipt = await _submit(citizen)
        assert receipt["number"].startswith("GZ")
        # Nothing reaches dispatch before an agent has looked at it.
        assert await _events(session, "ticket.submitted.v1") == []
        waiting = await citizen.get(
            "/v1/public/progress", params={"number": receipt["number"], "phone_tail": "1111"}
        )
        assert waiting.json()["stage"] == "awaiting_review"
        assert waiting.json()["stage_label"] == "已收到，待受理审核"
    received_at = receipt["received_at"]
    clock.advance(timedelta(hours=3))  # the agent reviews it later; the limits count from arrival

    async with client_for(public_app, Role.AGENT) as agent:
        queue = (await agent.get("/v1/submissions")).json()
        [item] = queue["items"]
        assert queue["total"] == 1 and item["number"] == receipt["number"]
        assert item["caller_phone"] != FORM["phone"]  # masked for the queue
        assert "13900001111" not in item["text"] and "张三" not in item["text"]
        reviewed = await agent.post(f"/v1/submissions/{item['id']}/review", json=REVIEW)
        assert reviewed.status_code == 201, reviewed.text
        ticket = reviewed.json()
        again = await agent.post(f"/v1/submissions/{item['id']}/review", json=REVIEW)
        assert again.status_code == 409 and again.json()["error"]["code"] == "already_reviewed"
        assert (await agent.get("/v1/submissions")).json()["total"] == 0

    # The ticket holds the citizen's data now; the submission keeps no second copy.
    sealed = "caller_name, caller_phone, caller_phone_hash, text_sealed"
    kept = await session.execute(text(f"SELECT {sealed} FROM intake.submission"))
    assert list(kept) == [(None, None, None, None)]
    assert ticket["number"] == receipt["number"] and ticket["channel"] == "web"
    assert ticket["received_at"] == received_at
    assert ticket["caller"]["sms_consent"] is True  # consent given on the form, at a mobile
    [submitted] = await _events(session, "ticket.submitted.v1")
    assert submitted["number"] == receipt["number"]
    assert submitted["received_at"].replace("Z", "+00:00") == received_at.replace("Z", "+00:00")
    assert "13900001111" not in str(submitted)


async def _deliver(app, client_for, clock, *events) -> None:
    for event in events:
        envelope = EventEnvelope(
            type=event.type_name,
            source=event.sender,
            occurred_at=clock.now(),
            payload=event.model_dump(mode="json"),
        )
        async with client_for(app, Role.SERVICE, as_service=event.sender) as peer:
            answer = await peer.post("/v1/events", json=envelope.model_dump(mode="json"))
        assert answer.status_code == 200, answer.text


async def test_progress_shows_unit_due_time_and_answer_and_nothing_personal(
    public_app, client_for, clock
):
    async with client_for(public_app) as citizen:
        receipt = await _submit(citizen)
    async with client_for(public_app, Role.AGENT) as agent:
        [item] = (await agent.get("/v1/submissions")).json()["items"]
        ticket = (await agent.post(f"/v1/submissions/{item['id']}/review", json=REVIEW)).json()
    # dispatch reports the unit, sla the due time, dispatch the approved answer (Art 19).
    due = clock.now() + timedelta(days=14)
    await _deliver(
        public_app,
        client_for,
        clock,
        TicketStatusChanged(
            ticket_id=ticket["id"],
            status="handling",
            unit_id="tianhe-urban",
            unit_name="天河区城市管理和综合执法局",
            at=clock.now(),
        ),
        DeadlineChanged(ticket_id=ticket["id"], clock="handling", due_at=due),
    )
    async with client_for(public_app) as citizen:
        handling = await citizen.get(
            "/v1/public/progress", params={"number": receipt["number"], "phone_tail": "1111"}
        )
    body = handling.json()
    assert body["stage"] == "handling" and body["unit_name"] == "天河区城市管理和综合执法局"
    assert body["due_at"].replace("Z", "+00:00") == due.isoformat() and body["answer"] is None
    await _deliver(
        public_app,
        client_for,
        clock,
        TicketStatusChanged(
            ticket_id=ticket["id"],
            status="awaiting_evaluation",
            unit_id="tianhe-urban",
            unit_name="天河区城市管理和综合执法局",
            at=clock.now(),
        ),
        CallerNoticeDue(
            ticket_id=ticket["id"],
            kind="caller_answered",
            answer="已责令工地夜间停工。",
            at=clock.now(),
        ),
    )
    async with client_for(public_app) as citizen:
        shown = await citizen.get(
            "/v1/public/progress", params={"number": receipt["number"], "phone_tail": "1111"}
        )
        wrong = await citizen.get(
            "/v1/public/progress", params={"number": receipt["number"], "phone_tail": "2222"}
        )
        unknown = await citizen.get(
            "/v1/public/progress", params={"number": "GZ000000000000", "phone_tail": "1111"}
        )
    body = shown.json()
    assert body["stage"] == "answered" and body["answer"] == "已责令工地夜间停工。"
    assert body["due_at"] is None  # answered: no time limit left to show
    assert "13900001111" not in shown.text and "张三" not in shown.text
    # A wrong phone and an unknown number are told the same: numbers cannot be probed.
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()


async def test_the_submission_beyond_the_limit_in_a_minute_is_refused(public_app, client_for):
    """Three a minute from one address here: the fourth is refused with Retry-After."""
    async with client_for(public_app) as citizen:
        for n in range(3):
            await _submit(citizen, {**FORM, "phone": f"1390000{n:04d}"})
        refused = await _submit(citizen, {**FORM, "phone": "13900009999"}, status=429)
    assert refused["error"]["code"] == "too_many_requests"
    assert "操作过于频繁" in refused["error"]["message"]


async def test_a_challenge_is_spent_once_and_a_submission_without_one_is_refused(
    public_app, client_for, session
):
    async with client_for(public_app) as citizen:
        solved = await _solved(citizen)
        first = await citizen.post("/v1/public/submissions", data={**FORM, **solved})
        replayed = await citizen.post(
            "/v1/public/submissions", data={**FORM, **solved, "text": "另一件事"}
        )
        unsolved = await citizen.post(
            "/v1/public/submissions", data={**FORM, "challenge": "x.1.4.y", "nonce": "0"}
        )
    assert first.status_code == 201
    assert replayed.status_code == unsolved.status_code == 403
    assert replayed.json()["error"]["code"] == "challenge_failed"
    assert await session.scalar(text("SELECT count(*) FROM intake.submission")) == 1


async def test_a_resent_form_with_the_same_key_is_one_submission(public_app, client_for, session):
    async with client_for(public_app) as citizen:
        first = await _submit(citizen, headers={"Idempotency-Key": "form-1"})
        again = await _submit(citizen, headers={"Idempotency-Key": "form-1"}, status=200)
        # Another phone's key space is its own: the same key is a new matter.
        other = await _submit(
            citizen, {**FORM, "phone": "13700002222"}, headers={"Idempotency-Key": "form-1"}
        )
    assert first["number"] == again["number"] != other["number"]
    assert await session.scalar(text("SELECT count(*) FROM intake.submission")) == 2


async def test_photos_are_stored_without_metadata_and_seen_only_by_the_tickets_readers(
    public_app, client_for, session
):
    with_gps = _photo_with_gps(23.1375, 113.3245)
    form = {**FORM, "place": "", "share_place": "true"}
    async with client_for(public_app) as citizen:
        await _submit(citizen, form, photos=[with_gps])
        too_many = await _submit(citizen, FORM, photos=[with_gps] * 3, status=422)
        not_a_photo = await citizen.post(
            "/v1/public/submissions",
            data={**FORM, **await _solved(citizen)},
            files=[("photos", ("x.jpg", b"<script>alert(1)</script>", "image/jpeg"))],
        )
    assert "最多上传 2 张照片" in too_many["error"]["message"]
    assert not_a_photo.status_code == 422
    async with client_for(public_app, Role.AGENT) as agent:
        [item] = (await agent.get("/v1/submissions")).json()["items"]
        # The citizen chose to share the place: the photo's position became the point.
        assert (item["latitude"], item["longitude"]) == pytest.approx((23.1375, 113.3245), abs=1e-4)
        [photo] = item["attachments"]
        content = await agent.get(f"/v1/attachments/{photo['id']}")
        assert content.headers["content-type"] == "image/jpeg"
        assert not Image.open(io.BytesIO(content.content)).getexif()
        ticket = (await agent.post(f"/v1/submissions/{item['id']}/review", json=REVIEW)).json()
        listed = (await agent.get(f"/v1/tickets/{ticket['number']}/attachments")).json()
        assert [a["id"] for a in listed] == [photo["id"]]
    async with client_for(public_app, Role.UNIT, "haizhu-urban") as other_unit:
        refused = await other_unit.get(f"/v1/attachments/{photo['id']}")
    assert refused.status_code == 403
    async with client_for(public_app) as anonymous:
        assert (await anonymous.get(f"/v1/attachments/{photo['id']}")).status_code == 401


async def test_a_point_names_the_district_when_the_agent_does_not(public_app, client_for):
    """A point picked in a Chinese map app (GCJ-02) on the Tianhe Sports Centre: the ticket is
    Tianhe's, and routing follows."""
    lat, lon = wgs84_to_gcj02(23.1375, 113.3245)
    async with client_for(public_app, Role.AGENT) as agent:
        taken = await agent.post(
            "/v1/tickets",
            json={
                "channel": "phone",
                "text": "体育中心门口井盖缺失",
                "ticket_type": "complaint",
                "outcome": "submitted",
                "point": {"lat": lat, "lon": lon, "datum": "gcj02"},
            },
        )
    ticket = taken.json()
    assert taken.status_code == 201, taken.text
    assert ticket["district"] == "天河区"
    assert (ticket["latitude"], ticket["longitude"]) == pytest.approx((23.1375, 113.3245), abs=1e-6)


@pytest.mark.parametrize(("command", "status"), [("false", 422), ("cat", 201)])
async def test_every_attachment_passes_the_configured_virus_scan(
    make_app, settings, client_for, command, status
):
    """A scanner that exits non-zero refuses the file (and nothing is kept); one that exits
    zero lets it through. The scanner reads the file on its standard input."""
    app = make_app(
        "intake", settings=settings.model_copy(update={"attachment_scan_command": command})
    )
    async with client_for(app, Role.AGENT) as agent:
        ticket = (
            await agent.post(
                "/v1/tickets",
                json={
                    "channel": "phone",
                    "text": "路灯不亮",
                    "ticket_type": "complaint",
                    "outcome": "submitted",
                },
            )
        ).json()
        sent = await agent.post(
            f"/v1/tickets/{ticket['id']}/attachments",
            files={"file": ("a.jpg", _photo_with_gps(23.1, 113.3), "image/jpeg")},
        )
        kept = (await agent.get(f"/v1/tickets/{ticket['id']}/attachments")).json()
    assert sent.status_code == status, sent.text
    assert len(kept) == (1 if status == 201 else 0)
    if status == 422:
        assert sent.json()["error"]["code"] == "file_refused"


async def test_a_submission_never_reviewed_loses_its_personal_data_after_the_retention_period(
    public_app, client_for, session, clock
):
    async with client_for(public_app) as citizen:
        await _submit(citizen)
        clock.advance(timedelta(days=2))
        await _submit(citizen, {**FORM, "phone": "13700002222"})
    erased = await keeping.erase_unreviewed(
        session, received_before=clock.now() - timedelta(days=1)
    )
    erased_fields = "caller_phone IS NULL, text_sealed IS NULL"
    rows = await session.execute(
        text(f"SELECT {erased_fields} FROM intake.submission ORDER BY received_at")
    )
    assert erased == 1 and list(rows) == [(True, True), (False, False)]


async def test_the_public_pages_load_only_their_own_scripts(public_app, client_for):
    """Defence in depth behind setting text, never HTML: a policy that runs no inline script
    and nothing from elsewhere, and no framing by another site."""
    async with client_for(public_app) as anyone:
        for page in ("/public/", "/public/progress.html"):
            answer = await anyone.get(page)
            assert answer.status_code == 200
            policy = answer.headers["content-security-policy"]
            assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
            assert "<script>" not in answer.text  # every script is a file of its own
            assert answer.headers["x-content-type-options"] == "nosniff"


async def test_the_form_offers_the_categories_in_the_citizens_language(public_app, client_for):
    async with client_for(public_app) as anyone:
        chinese = (await anyone.get("/v1/public/form")).json()
        english = (await anyone.get("/v1/public/form", headers={"Accept-Language": "en"})).json()
    assert chinese["photos_max"] == 2  # the test's setting
    [noise_zh, noise_en] = (c["categories"]["items"][0] for c in (chinese, english))
    assert (noise_zh["name"], noise_en["name"]) == ("噪声扰民", "Noise")
    assert noise_en["children"][0]["name"] == "Construction noise"
    assert "piling" in noise_en["children"][0]["help"]
    assert "打桩" in noise_zh["children"][0]["help"]


async def test_an_agent_finds_what_a_caller_sent_from_their_phone(public_app, client_for):
    """A caller asks on the line about a form they sent: found by their number, in any of the
    ways it is written (Art 11(4): tell the progress, open nothing new)."""
    async with client_for(public_app) as citizen:
        mine = await _submit(citizen)
        await _submit(citizen, {**FORM, "phone": "13700002222"})
    async with client_for(public_app, Role.AGENT) as agent:
        found = (
            await agent.get("/v1/submissions", params={"caller_phone": "139 0000 1111"})
        ).json()
        everything = (await agent.get("/v1/submissions")).json()
    assert [s["number"] for s in found["items"]] == [mine["number"]] and found["total"] == 1
    assert everything["total"] == 2
