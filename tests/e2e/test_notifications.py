"""Notifications to real receivers as processes: a unit's webhook (down at first, then
started), an SMTP server (aiosmtpd) and a stub of Tencent Cloud's SMS API."""

import asyncio
import json
import mailbox
import subprocess
import sys
from datetime import datetime
from email.header import decode_header, make_header
from pathlib import Path

import pytest

from shared.auth import Role, mint_token
from shared.vocabulary import NoticeKind
from tests.e2e.test_ticket_life import CALL, FEEDBACK, SETTINGS, client, eventually
from tests.support.stack import Stack, free_port

UNIT = "tianhe-urban"
SECRET_ID, SECRET_KEY = "AKIDtest0000000000000000", "test-secret-key"
TEMPLATES = {kind: str(100001 + i) for i, kind in enumerate(NoticeKind)}  # approved ids


class Receivers:
    """Receiver processes, started and stopped by the test."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, *argv: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen([sys.executable, "-m", *argv])
        self.processes.append(process)
        return process

    def sms(self, port: int, out: Path) -> None:
        self.start("tests.support.receivers", "tencent", "--port", str(port), "--out", str(out),
                   "--secret-id", SECRET_ID, "--secret-key", SECRET_KEY)  # fmt: skip

    def webhook(self, port: int, out: Path, secret: str) -> None:
        self.start("tests.support.receivers", "webhook", "--port", str(port), "--out", str(out),
                   "--secret", secret)  # fmt: skip

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
            process.wait()


def lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def notifying_stack(database_url: str, tmp_path: Path, sms_port: int, **settings: str) -> Stack:
    """The stack with Tencent SMS pointed at the stub, an approved template for every kind,
    and no quiet hours (these tests are about delivery, whatever the hour they run at)."""
    return Stack(
        database_url,
        tmp_path,
        smtp_sender="12345@hotline.example",
        sms_provider="tencent",
        tencent_sms_endpoint=f"http://127.0.0.1:{sms_port}",
        tencent_secret_id=SECRET_ID,
        tencent_secret_key=SECRET_KEY,
        tencent_sms_app_id="1400000000",
        tencent_sms_sign_name="广州12345",
        sms_templates=json.dumps({k.value: TEMPLATES[k] for k in NoticeKind}),
        sms_quiet_start="00:00",
        sms_quiet_end="00:00",
        **settings,
    )


@pytest.fixture
def receivers(tmp_path):
    started = Receivers(tmp_path)
    yield started
    started.stop()


async def test_a_unit_is_told_by_every_channel_once_even_with_its_webhook_down_for_a_while(
    fresh_database_url, tmp_path, receivers
):
    smtp_port, sms_port, hook_port = free_port(), free_port(), free_port()
    maildir, sms_log, hook_log = tmp_path / "mail", tmp_path / "sms.jsonl", tmp_path / "hook.jsonl"
    receivers.start("aiosmtpd", "-n", "-l", f"127.0.0.1:{smtp_port}", "-c",
                    "aiosmtpd.handlers.Mailbox", str(maildir))  # fmt: skip
    receivers.sms(sms_port, sms_log)
    stack = notifying_stack(fresh_database_url, tmp_path, sms_port, smtp_host="127.0.0.1",
                            smtp_port=str(smtp_port))  # fmt: skip
    stack.start()
    try:
        intake, dispatch = stack["intake"].url, stack["dispatch"].url
        async with client(dispatch, Role.UNIT, UNIT) as unit:
            channels = {}
            for kind, target in (
                ("webhook", f"http://127.0.0.1:{hook_port}/hotline"),
                ("email", "duty@tianhe.example"),
                ("sms", "138 0013 8000"),
            ):
                response = await unit.post(
                    f"/v1/units/{UNIT}/channels",
                    json={"kind": kind, "name": f"值班{kind}", "target": target},
                )
                assert response.status_code == 201, response.text
                channels[kind] = response.json()
            assert channels["webhook"]["secret"].startswith("whsec_")
            assert channels["sms"]["target"] == "+8613800138000"
            listed = (await unit.get(f"/v1/units/{UNIT}/channels")).json()["items"]
            assert {c["kind"] for c in listed} == {"webhook", "email", "sms"}
            assert all(c["secret"] is None for c in listed)  # shown once, never again

        async with client(intake, Role.AGENT) as agent:
            consenting = {**CALL, "caller": {**CALL["caller"], "sms_consent": True}}
            created = await agent.post(
                "/v1/tickets", json=consenting, headers={"Idempotency-Key": "n-1"}
            )
        ticket = created.json()
        async with client(dispatch, Role.DISPATCHER) as agency:

            async def queued() -> bool:
                items = (await agency.get("/v1/queue")).json()["items"]
                return any(t["id"] == ticket["id"] for t in items)

            await eventually(queued, "the ticket in the agency's queue")
            dispatched = await agency.post(
                f"/v1/tickets/{ticket['id']}/dispatch", json={"unit_id": UNIT}
            )
            assert dispatched.is_success, dispatched.text

        async with client(dispatch, Role.UNIT, UNIT) as unit:

            async def states() -> dict[str, dict]:
                response = await unit.get(f"/v1/tickets/{ticket['id']}/notifications")
                return {n["channel_kind"]: n for n in response.json()["items"]}

            async def email_and_sms_sent_webhook_failing() -> bool:
                found = await states()
                return (
                    found.get("email", {}).get("state") == "sent"
                    and found.get("sms", {}).get("state") == "sent"
                    and found.get("webhook", {}).get("attempts", 0) >= 1
                )

            await eventually(email_and_sms_sent_webhook_failing, "e-mail and SMS sent")
            webhook = (await states())["webhook"]
            assert webhook["state"] == "queued" and "unreachable" in webhook["last_error"]

            receivers.webhook(hook_port, hook_log, channels["webhook"]["secret"])

            async def webhook_sent() -> bool:
                return (await states())["webhook"]["state"] == "sent"

            await eventually(webhook_sent, "the webhook delivered once its receiver started")
            found = await states()
            assert {n["kind"] for n in found.values()} == {"ticket_assigned"}

        # Sweeps later (every 0.5 s here), still one of each: nothing was sent twice.
        await asyncio.sleep(2)
        number = ticket["number"]

        [hook] = lines(hook_log)
        assert hook["event"] == "ticket_assigned"
        assert hook["body"]["params"]["number"] == number
        assert hook["body"]["owner"] == UNIT and number in hook["body"]["text"]

        async def caller_told() -> bool:
            return len(lines(sms_log)) == 2

        await eventually(caller_told, "the caller's SMS")
        by_template = {sms["request"]["TemplateId"]: sms for sms in lines(sms_log)}
        unit_sms = by_template[TEMPLATES[NoticeKind.TICKET_ASSIGNED]]
        caller_sms = by_template[TEMPLATES[NoticeKind.CALLER_ACCEPTED]]
        assert unit_sms["version"] == "2021-01-11"
        assert unit_sms["request"]["PhoneNumberSet"] == ["+8613800138000"]
        assert unit_sms["request"]["SmsSdkAppId"] == "1400000000"
        assert unit_sms["request"]["TemplateParamSet"][0] == number
        # The caller's number leaves intake to the SMS provider, for the caller's message only.
        assert caller_sms["request"]["PhoneNumberSet"] == [CALL["caller"]["phone"]]
        assert caller_sms["request"]["TemplateParamSet"] == [number]

        [mail] = list(mailbox.Maildir(maildir, create=False))
        assert mail["To"] == "duty@tianhe.example"
        assert number in str(make_header(decode_header(mail["Subject"])))

        # Otherwise the caller's personal data went nowhere: not to the unit's channels, not
        # into any service's log.
        sent = hook_log.read_text() + json.dumps(unit_sms) + mail.as_string()
        logs = "".join(p.read_text() for p in tmp_path.glob("*.log"))
        for personal in (CALL["caller"]["phone"], CALL["caller"]["name"]):
            assert personal not in sent and personal not in logs
    finally:
        stack.stop()


async def test_every_kind_reaches_its_receiver_once_through_a_tickets_life(
    fresh_database_url, tmp_path, receivers
):
    """Units by webhook, supervisors by webhook, the caller by SMS: each kind of #17 sent
    by the step (or the time) that causes it, each once, as the dev clock crosses weeks."""
    sms_port, unit_port, sup_port = free_port(), free_port(), free_port()
    sms_log, unit_log, sup_log = (tmp_path / f"{n}.jsonl" for n in ("sms", "unit", "sup"))
    receivers.sms(sms_port, sms_log)
    stack = notifying_stack(fresh_database_url, tmp_path, sms_port)
    stack.start()
    admin = mint_token(SETTINGS, role=Role.ADMIN, subject="e2e-admin")
    intake, dispatch, sla = (stack[s].url for s in ("intake", "dispatch", "sla"))
    try:
        for port, log, who, path in (
            (unit_port, unit_log, (Role.UNIT, UNIT), f"/v1/units/{UNIT}/channels"),
            (sup_port, sup_log, (Role.SUPERVISOR,), "/v1/supervisors/channels"),
        ):
            async with client(dispatch, *who) as owner:
                hook = {
                    "kind": "webhook",
                    "name": "政务微信",
                    "target": f"http://127.0.0.1:{port}/",
                }
                created = await owner.post(path, json=hook)
            receivers.webhook(port, log, created.json()["secret"])

        async def all_sent() -> bool:
            """Nothing queued at either service (so the clock may move on)."""
            for url, role in ((dispatch, Role.DISPATCHER), (intake, Role.DISPATCHER)):
                async with client(url, role) as reader:
                    items = (await reader.get(f"/v1/tickets/{ticket_id}/notifications")).json()
                if any(n["state"] != "sent" for n in items["items"]):
                    return False
            return True

        def kinds(log: Path) -> list[str]:
            return [e["event"] for e in lines(log) if "event" in e]

        def texts(log: Path) -> list[str]:
            return [e["request"]["TemplateId"] for e in lines(log)]

        async def settled(what: str, log: Path, count: int) -> None:
            async def arrived() -> bool:
                return len(lines(log)) >= count and await all_sent()

            await eventually(arrived, what)

        async with client(intake, Role.AGENT) as agent:
            call = {**CALL, "caller": {**CALL["caller"], "sms_consent": True}}
            ticket = (await agent.post("/v1/tickets", json=call)).json()
        ticket_id, number = ticket["id"], ticket["number"]
        await settled("the caller told it was accepted", sms_log, 1)

        async with client(dispatch, Role.DISPATCHER) as agency:

            async def sent() -> bool:
                path = f"/v1/tickets/{ticket_id}/dispatch"
                return (await agency.post(path, json={"unit_id": UNIT})).is_success

            await eventually(sent, "the ticket dispatched")
        async with client(dispatch, Role.UNIT, UNIT) as unit:
            applied = await unit.post(
                f"/v1/tickets/{ticket_id}/returns",
                json={"reason": "不属本单位职责", "basis": "三定方案"},
            )
        async with client(dispatch, Role.DISPATCHER) as agency:
            decided = await agency.post(
                f"/v1/returns/{applied.json()['id']}/decision",
                json={"decision": "reject", "reason": "属于城管执法职责"},
            )
            assert decided.is_success, decided.text
        async with client(dispatch, Role.UNIT, UNIT) as unit:
            assert (await unit.post(f"/v1/tickets/{ticket_id}/accept")).is_success
            contact = {"method": "phone"}
            assert (
                await unit.post(f"/v1/tickets/{ticket_id}/contact-record", json=contact)
            ).is_success
            extended = await unit.post(
                f"/v1/tickets/{ticket_id}/extensions",
                json={"reason": "需多部门联合执法", "caller_notified": True},
            )
            assert extended.is_success, extended.text
        async with client(sla, Role.SUPERVISOR) as supervisor:
            supervision = {"ticket_id": ticket_id, "unit_id": UNIT, "reason": "other",
                           "method": "phone", "note": "群众反映强烈"}  # fmt: skip
            assert (await supervisor.post("/v1/supervisions", json=supervision)).is_success
            clocks = (await supervisor.get(f"/v1/tickets/{ticket_id}/clocks")).json()["items"]
        await settled("the unit told of the ticket, the return, the supervision", unit_log, 3)
        await settled("the caller told of the extension", sms_log, 2)

        # To an hour before the extended due time (24:00 of its day): due soon; then past it.
        [handling] = [c for c in clocks if c["kind"] == "handling" and c["state"] == "running"]
        due = datetime.fromisoformat(handling["due_at"])
        async with client(sla, Role.ADMIN) as sla_admin:
            now = datetime.fromisoformat((await sla_admin.get("/v1/dev/clock")).json()["now"])
        stack.advance_clock(admin, seconds=(due - now).total_seconds() - 3600)
        await settled("the unit warned that its limit is due soon", unit_log, 4)
        stack.advance_clock(admin, hours=10)  # 09:00 the next day: overdue, and the digest
        await settled("the unit told it is overdue", unit_log, 5)

        async def digest_with_the_late_ticket() -> bool:
            digests = [e["body"]["params"] for e in lines(sup_log) if "body" in e]
            return any(d["overdue"] != "0" for d in digests)

        await eventually(digest_with_the_late_ticket, "the supervisors' digest")

        async with client(dispatch, Role.UNIT, UNIT) as unit:
            assert (await unit.post(f"/v1/tickets/{ticket_id}/feedback", json=FEEDBACK)).is_success
        async with client(dispatch, Role.DISPATCHER) as agency:
            review = f"/v1/tickets/{ticket_id}/feedback/review"
            back = {"approved": False, "reason": "未说明处理依据"}
            assert (await agency.post(review, json=back)).is_success
        async with client(dispatch, Role.UNIT, UNIT) as unit:
            assert (await unit.post(f"/v1/tickets/{ticket_id}/feedback", json=FEEDBACK)).is_success
        async with client(dispatch, Role.DISPATCHER) as agency:
            assert (await agency.post(review, json={"approved": True})).is_success
            evaluation = {"rating": "unsatisfied"}
            assert (
                await agency.post(f"/v1/tickets/{ticket_id}/evaluation", json=evaluation)
            ).is_success
            again = {"reason": "诉求人对处理结果不满意"}
            assert (await agency.post(f"/v1/tickets/{ticket_id}/rehandle", json=again)).is_success
        await settled("the unit told of the feedback sent back and re-handling", unit_log, 7)
        await settled("the caller told of the answer and the re-handling", sms_log, 4)
        await asyncio.sleep(2)  # sweeps later: still once each

        assert kinds(unit_log) == [
            "ticket_assigned",
            "return_decided",
            "supervision_opened",
            "due_soon",
            "overdue",
            "feedback_sent_back",
            "ticket_assigned",  # back for re-handling (Art 20)
        ]
        caller = [NoticeKind.CALLER_ACCEPTED, NoticeKind.CALLER_EXTENDED,
                  NoticeKind.CALLER_ANSWERED, NoticeKind.CALLER_REHANDLING]  # fmt: skip
        assert texts(sms_log) == [TEMPLATES[k] for k in caller]
        extension = lines(sms_log)[1]["request"]["TemplateParamSet"]
        assert extension[:2] == [number, "需多部门联合执法"] and extension[2].endswith("24:00")
        assert kinds(sup_log) and set(kinds(sup_log)) == {"overdue_digest"}
        for log in (unit_log, sup_log):
            assert not [e for e in lines(log) if "repeat" in e]  # none sent twice
    finally:
        stack.stop()
