"""The client library: idempotent creates, safe retries, typed errors, exit codes."""

import json
import subprocess
import sys
import time
from typing import get_args

import httpx
import pytest
from hotline_client import AsyncClient, BadRequest, Client, Refused, Unavailable
from hotline_client.cli import app
from typer.testing import CliRunner

TICKET = {
    "id": "t1",
    "number": "GZ1",
    "ticket_type": "complaint",
    "text": "x",
    "outcome": "submitted",
    "disposition": "normal",
    "status": "submitted",
    "caller": {"masked": True},
    "received_at": "2026-11-23T01:30:00Z",
}


def _client(handler, cls=Client):
    return cls(token="tok", transport=httpx.MockTransport(handler))


def test_a_create_is_retried_with_the_same_idempotency_key():
    keys = []

    def handler(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["idempotency-key"])
        return httpx.Response(503) if len(keys) < 3 else httpx.Response(201, json=TICKET)

    ticket = _client(handler).get(Client.take_call({"text": "x"}))
    assert ticket.number == "GZ1"
    assert len(keys) == 3 and len(set(keys)) == 1


def test_an_unkeyed_action_is_not_repeated():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(502)

    with pytest.raises(Unavailable):
        _client(handler).run(Client.accept("t1"))
    assert len(calls) == 1


def test_refusals_and_bad_input_are_typed():
    def refuse(request):
        return httpx.Response(
            409, json={"error": {"code": "extension_limit_reached", "message": "at most two"}}
        )

    def reject(request):
        return httpx.Response(422, json={"error": {"code": "invalid_request", "message": "no"}})

    with pytest.raises(Refused) as refused:
        _client(refuse).run(Client.extend("t1", "why"))
    assert refused.value.code == "extension_limit_reached" and refused.value.exit_code == 4
    with pytest.raises(BadRequest) as bad:
        _client(reject).run(Client.queue())
    assert bad.value.exit_code == 3


def test_etag_polls_answer_not_modified():
    def handler(request):
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304, headers={"ETag": '"v1"'})
        return httpx.Response(200, json={"items": []}, headers={"ETag": '"v1"'})

    client = _client(handler)
    first = client.run(Client.unit_tickets("u1"))
    again = client.run(Client.unit_tickets("u1", etag=first.etag))
    assert first.value.items == [] and again.not_modified


async def test_the_async_client_makes_the_same_calls():
    def handler(request):
        assert request.headers["authorization"] == "Bearer tok"
        return httpx.Response(200, json={"items": [], "next_cursor": None})

    page = await _client(handler, AsyncClient).get(AsyncClient.queue())
    assert page.items == []


def test_cli_exit_code_for_an_unreachable_service(monkeypatch):
    monkeypatch.setenv("HOTLINE_DISPATCH_URL", "http://127.0.0.1:9")
    result = CliRunner().invoke(app, ["--token", "t", "agency", "queue"])
    assert result.exit_code == 5
    assert "unreachable" in result.output


def test_art16_3_a_principle_review_is_sent_with_its_decision_and_reason():
    sent = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(
            200,
            json={
                "id": 7,
                "ticket_id": "t1",
                "unit_id": "tianhe-gov",
                "principle": "属地管理",
                "principle_status": "approved",
                "decided_at": "2026-11-23T01:30:00Z",
            },
        )

    decided = _client(handler).get(Client.review_principle(7, True, "符合属地原则"))
    assert decided.principle_status == "approved"
    assert sent[0].url.path == "/v1/determinations/7/principle-review"
    assert sent[0].read() == '{"approved":true,"reason":"符合属地原则"}'.encode()


def test_art12_27_the_cli_records_a_warning_and_lists_conduct_in_shanghai_time(monkeypatch):
    record = {
        "id": 1,
        "ticket_id": "t1",
        "kind": "warning",
        "note": "已提醒文明表达",
        "at": "2026-11-23T16:30:00Z",
        "by": "agent-1",
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(201, json=record)
        return httpx.Response(200, json={"items": [record]})

    from hotline_client import cli

    monkeypatch.setattr(cli, "_client", lambda: _client(handler))
    monkeypatch.setenv("TZ", "UTC")
    warned = CliRunner().invoke(app, ["agent", "warn", "t1", "--note", "已提醒文明表达"])
    listed = CliRunner().invoke(app, ["supervisor", "conduct", "t1"])
    assert warned.exit_code == 0 and "已记录提醒 1" in warned.output
    assert "2026-11-24 00:30" in listed.output  # Asia/Shanghai, whatever the desktop's zone


def test_art21_the_cli_puts_a_matter_on_a_legal_procedure_and_a_department_supervises_it(
    monkeypatch,
):
    sent = []
    ticket = {**TICKET, "summary": "x", "status": "awaiting_legal_procedure"}

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path == "/v1/supervisions":
            return httpx.Response(201, json={**SUPERVISION, "reason": "long_running"})
        return httpx.Response(200, json=ticket)

    from hotline_client import cli

    monkeypatch.setattr(cli, "_client", lambda: _client(handler))
    paused = CliRunner().invoke(
        app,
        [
            "unit",
            "legal-procedure",
            "t1",
            "--procedure",
            "litigation",
            "--reference",
            "（2026）粤0106民初1号",
            "--guidance-department",
            "city-urban",
        ],
    )
    supervised = CliRunner().invoke(
        app, ["guidance", "supervise", "t1", "--unit", "tianhe-urban", "--note", "请报送进展"]
    )
    assert paused.exit_code == 0, paused.output
    assert supervised.exit_code == 0 and "已发起督办 3" in supervised.output
    posted = [r for r in sent if r.method == "POST"]
    assert posted[0].url.path == "/v1/tickets/t1/legal-procedure"
    assert json.loads(posted[0].read())["guidance_department"] == "city-urban"
    assert json.loads(posted[1].read())["reason"] == "long_running"


SUPERVISION = {
    "id": 3,
    "ticket_id": "t1",
    "unit_id": "tianhe-urban",
    "reason": "late",
    "method": "document",
    "opened_at": "2026-11-23T01:30:00Z",
}


def test_art11_4_18_the_agent_reads_the_caller_record_in_shanghai_time(monkeypatch):
    record = {
        "ticket_id": "t1",
        "number": "GZ261123000001",
        "status": "handling",
        "handling_due_at": "2026-12-14T16:00:00Z",
        "entries": [
            {
                "at": "2026-11-30T08:00:00Z",
                "action": "extended",
                "reason": "需协调多部门",
                "due_at": "2026-12-14T16:00:00Z",
                "told_caller": "已告知延期理由和新期限",
            }
        ],
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/labels":
            labels = {"ticket_status": {"handling": "办理中"}, "step_action": {"extended": "延期"}}
            return httpx.Response(200, json={"lang": "zh-CN", "labels": labels})
        assert request.url.path == "/v1/tickets/t1/caller-record"
        return httpx.Response(200, json=record)

    from hotline_client import cli

    monkeypatch.setattr(cli, "_client", lambda: _client(handler))
    outputs = []
    try:
        for zone in ("UTC", "Asia/Shanghai", "America/New_York"):  # the desktop's zone
            monkeypatch.setenv("TZ", zone)
            time.tzset()
            outputs.append(CliRunner().invoke(app, ["agent", "record", "t1"]).output)
    finally:
        monkeypatch.undo()  # the process's zone as it was, for the tests after this one
        time.tzset()
    monkeypatch.setattr(cli, "_client", lambda: _client(handler))
    assert outputs[0] == outputs[1] == outputs[2]
    shown = CliRunner().invoke(app, ["agent", "record", "t1"])
    assert shown.exit_code == 0, shown.output
    assert "期限 2026-12-15 00:00" in shown.output  # 24:00 on the 14th in Guangzhou
    assert "2026-11-30" in shown.output and "16:00" in shown.output  # the table wraps cells
    assert "08:00" not in shown.output
    assert "办理中" in shown.output and "延期" in shown.output  # the services' labels


def test_the_cli_speaks_chinese_unless_asked_for_english():
    def help_text(*options: str) -> str:
        run = [sys.executable, "-m", "hotline", *options, "agent", "--help"]
        return subprocess.run(run, capture_output=True, text=True, check=True).stdout

    assert "受理来电" in help_text() and "Take a call" not in help_text()
    assert "Take a call" in help_text("--lang", "en")


def test_choices_are_the_services_codes():
    from dispatch.tickets.schemas import Queue, RevisitChannel
    from dispatch.workflow import rules
    from hotline_client import choices
    from intake.kb.router import ReviewStatus
    from intake.tickets import rules as intake_rules
    from intake.tickets.schemas import Channel
    from sla.dashboard.router import VolumeBy
    from sla.supervision.rules import Method

    from shared import vocabulary
    from shared.auth import PEOPLE_ROLES

    pairs = [
        (choices.TicketType, vocabulary.TicketType),
        (choices.Rating, vocabulary.Rating),
        (choices.Channel, Channel),
        (choices.Outcome, intake_rules.Outcome),
        (choices.Disposition, intake_rules.Disposition),
        (choices.ReturnDecision, rules.ReturnDecision),
        (choices.DisputeKind, rules.DisputeKind),
        (choices.ConsultedBody, rules.ConsultedBody),
        (choices.PrincipleStatus, rules.PrincipleStatus),
        (choices.LegalProcedure, rules.LegalProcedure),
        (choices.RevisitChannel, RevisitChannel),
        (choices.Method, Method),
        (choices.Queue, Queue),
        (choices.KbReviewStatus, ReviewStatus),
    ]
    for offered, owned in pairs:
        assert [c.value for c in offered] == [c.value for c in owned], offered
    assert {c.value for c in choices.PersonRole} == {r.value for r in PEOPLE_ROLES}
    assert tuple(c.value for c in choices.VolumeBy) == get_args(VolumeBy)


def test_a_malformed_calendar_file_is_refused_with_its_line_and_reason(tmp_path, monkeypatch):
    from hotline_client import cli

    asked = []
    monkeypatch.setattr(cli, "_client", lambda: _client(lambda r: asked.append(r)))
    broken = tmp_path / "2027.json"
    broken.write_text(
        '{"source": "国务院办公厅",\n "holidays": [\n  {"date": "2027-01-01",}\n ]}\n'
    )
    result = CliRunner().invoke(app, ["admin", "calendar-load", "2027", str(broken)])
    missing = CliRunner().invoke(app, ["admin", "calendar-load", "2027", str(tmp_path / "no")])
    assert result.exit_code == 3 and missing.exit_code == 3
    assert "第 3 行" in result.output and "不是有效的 JSON" in result.output
    assert "Traceback" not in result.output + missing.output
    assert asked == []  # nothing was sent


def test_the_cli_reviews_knowledge_base_entries_and_counts_volume(monkeypatch):
    sent = []
    entry = {
        "id": "e1",
        "question": "夜间施工许可在哪里查？",
        "answer": "区住建局网站。",
        "owning_unit": "tianhe-urban",
        "version": 1,
        "review_status": "draft",
        "updated_at": "2026-11-23T16:30:00Z",
    }

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path == "/v1/labels":
            return httpx.Response(404)
        if request.url.path == "/v1/kb/entries":
            return httpx.Response(200, json={"items": [entry]})
        if request.url.path == "/v1/kb/entries/e1/review":
            return httpx.Response(200, json={**entry, "review_status": "approved"})
        return httpx.Response(200, json={"by": "week", "groups": [
            {"key": "2026-11-23", "received": 12, "late": 3}
        ]})  # fmt: skip

    from hotline_client import cli

    monkeypatch.setattr(cli, "_client", lambda: _client(handler))
    listed = CliRunner().invoke(app, ["admin", "kb-entries"])
    reviewed = CliRunner().invoke(app, ["admin", "kb-review", "e1", "approved"])
    counted = CliRunner().invoke(
        app, ["supervisor", "volume", "--from", "2026-11-01", "--to", "2026-11-30"]
    )
    wrong = CliRunner().invoke(app, ["admin", "kb-review", "e1", "accepted"])
    assert listed.exit_code == 0 and "夜间施工许可在哪里查？" in listed.output
    assert reviewed.exit_code == 0 and "e1" in reviewed.output
    assert counted.exit_code == 0 and "2026-11-23" in counted.output and "12" in counted.output
    assert wrong.exit_code != 0  # only the service's review states are offered
    paths = [(r.url.path, str(r.url.params)) for r in sent if r.url.path != "/v1/labels"]
    assert paths == [
        ("/v1/kb/entries", "review_status=draft"),
        ("/v1/kb/entries/e1/review", ""),
        ("/v1/dashboard/volume", "by=week&from=2026-11-01&to=2026-11-30"),
    ]
    assert sent[[r.url.path for r in sent].index("/v1/kb/entries/e1/review")].read() == (
        b'{"status":"approved"}'
    )


async def test_an_async_client_handed_a_pool_sends_every_call_through_it_and_leaves_it_open():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json={"items": []})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as pool:
        for user in ("alice", "bob"):  # one pool, each call with its own user's token
            client = AsyncClient(token=user, http=pool)
            await client.run(AsyncClient.routing_rules())
        assert not pool.is_closed
    assert seen == ["Bearer alice", "Bearer bob"]


def test_art24_the_cli_prints_the_months_ranking_and_why_a_unit_lost_points(monkeypatch):
    ranking = {
        "month": "2026-12",
        "previous_month": "2026-11",
        "items": [
            {"unit": "haizhu-urban", "rank": 1, "previous_rank": 2, "change": 1, "score": 92.5,
             "deducted": 0.0, "received": 40, "lines": []},
            {"unit": "tianhe-urban", "rank": 2, "previous_rank": 1, "change": -1, "score": 81.25,
             "deducted": 2.0, "received": 55, "lines": []},
        ],
    }  # fmt: skip
    explained = {
        "month": "2026-12",
        "unit": ranking["items"][1],
        "tickets": [{"reason": "unsatisfied", "ticket_id": "t9", "number": "GZ261201000009"}],
    }
    asked = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/labels":  # sla's words for the reasons
            labels = {"cost_reason": {"unsatisfied": "不满意"}}
            return httpx.Response(200, json={"lang": "zh", "labels": labels})
        asked.append(request.url)
        body = explained if request.url.path.endswith("/tianhe-urban") else ranking
        return httpx.Response(200, json=body)

    from hotline_client import cli

    monkeypatch.setattr(cli, "_client", lambda: _client(handler))
    table = CliRunner().invoke(app, ["supervisor", "ranking", "--month", "2026-12"])
    why = CliRunner().invoke(app, ["supervisor", "ranking", "tianhe-urban", "--month", "2026-12"])
    assert table.exit_code == 0, table.output
    lines = [line for line in table.output.splitlines() if "urban" in line]
    assert "↑1" in lines[0] and "92.50" in lines[0] and "haizhu-urban" in lines[0]
    assert "↓1" in lines[1] and "81.25" in lines[1]
    assert "不满意" in why.output and "GZ261201000009" in why.output
    assert all(url.params["month"] == "2026-12" for url in asked)


def test_the_cli_prints_the_kpis_by_district_a_units_months_and_the_weeks_hotspots(monkeypatch):
    measures = {"received": 12, "closed": 10, "on_time_rate": 0.9, "satisfaction_rate": 0.75,
                "resolution_rate": None, "response_rate": 1.0, "overdue": 1}  # fmt: skip
    answers = {
        "/v1/kpis/breakdown": {"by": "district", "items": [{"key": "天河区", **measures}]},
        "/v1/kpis/trend": {"by": "month", "items": [{"key": "2026-11-01", **measures}]},
        "/v1/hotspots": {
            "week": "2026-11-23",
            "alpha": 1e-4,
            "items": [{"category": "noise.construction", "district": "天河区",
                       "street": "石牌街道", "count": 9, "baseline": 1.25, "previous": 2,
                       "growing": True, "p_value": 3.2e-6, "units": ["tianhe-urban"],
                       "tickets": [], "review": {"decision": "supervised"}}],
        },
        "/v1/clusters": {"week": "2026-11-23", "weeks": 4, "items": [{
            "key": "GZ261123000007", "district": "天河区", "street": "林和街道",
            "place": "华景新城工地", "category": "noise.construction", "callers": 4,
            "this_week": 3, "previous_week": 1, "summary": "华景新城工地晚上还在打桩",
            "tickets": [{"ticket_id": "t7"}, {"ticket_id": "t8"}]}]},
        "/v1/hotspots/reviews": {"decision": "supervised", "note": None, "supervisions": 4,
                                 "decided_at": "2026-11-30T09:00:00+08:00", "decided_by": "s"},
        "/v1/labels": {
            "lang": "zh", "labels": {"category": {"noise.construction": "建筑施工噪声"},
                                     "hotspot_decision": {"supervised": "已督办"}}
        },
    }  # fmt: skip
    posted = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posted.append(json.loads(request.content))
        return httpx.Response(200, json=answers[request.url.path])

    from hotline_client import cli

    monkeypatch.setattr(cli, "_client", lambda: _client(handler))
    period = ["--from", "2026-11-01", "--to", "2026-11-30"]
    by_district = CliRunner().invoke(app, ["supervisor", "breakdown", *period])
    months = CliRunner().invoke(app, ["supervisor", "trend", "tianhe-urban", *period])
    hot = CliRunner().invoke(
        app, ["supervisor", "hotspots", "--week", "2026-11-23"], env={"COLUMNS": "120"}
    )
    review = CliRunner().invoke(app, ["supervisor", "hotspot-review", "2026-11-23", "supervised",
                                      "--category", "noise.construction", "--district", "天河区",
                                      "--street", "石牌街道"])  # fmt: skip
    found = CliRunner().invoke(
        app, ["supervisor", "clusters", "--week", "2026-11-23"], env={"COLUMNS": "160"}
    )
    on_cluster = CliRunner().invoke(app, ["supervisor", "hotspot-review", "2026-11-23",
                                          "reviewed", "--cluster", "GZ261123000007"])  # fmt: skip
    no_such = CliRunner().invoke(app, ["supervisor", "hotspot-review", "2026-11-23",
                                       "reviewed", "--cluster", "GZ0"])  # fmt: skip
    for result in (by_district, months, hot, review, found, on_cluster):
        assert result.exit_code == 0, result.output
    assert no_such.exit_code == 3 and "GZ0" in no_such.output
    assert "华景新城工地" in found.output and "GZ261123000007" in found.output
    row = next(line for line in by_district.output.splitlines() if "天河区" in line)
    assert "12" in row and "90.0%" in row and "75.0%" in row and "—" in row
    assert "2026-11-01" in months.output
    assert "建筑施工噪声" in hot.output and "3.2e-06" in hot.output
    assert "石牌街道" in hot.output and "已督办" in hot.output
    assert "已督办" in review.output and "4" in review.output
    assert posted == [
        {"week": "2026-11-23", "category": "noise.construction", "district": "天河区",
         "street": "石牌街道", "decision": "supervised", "method": "online", "note": None},
        {"week": "2026-11-23", "category": "noise.construction", "district": "天河区",
         "street": "林和街道", "decision": "reviewed", "method": "online", "note": None,
         "cluster": "GZ261123000007", "tickets": ["t7", "t8"]},
    ]  # fmt: skip
