"""Notifications to real receivers as processes: a unit's webhook (down at first, then
started), an SMTP server (aiosmtpd) and a stub of Tencent Cloud's SMS API."""

import asyncio
import json
import mailbox
import subprocess
import sys
from email.header import decode_header, make_header
from pathlib import Path

import pytest

from shared.auth import Role
from tests.e2e.test_ticket_life import CALL, client, eventually
from tests.support.stack import Stack, free_port

UNIT = "tianhe-urban"
SECRET_ID, SECRET_KEY = "AKIDtest0000000000000000", "test-secret-key"


class Receivers:
    """Receiver processes, started and stopped by the test."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, *argv: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen([sys.executable, "-m", *argv])
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
            process.wait()


def lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


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
    receivers.start("tests.support.receivers", "tencent", "--port", str(sms_port), "--out",
                    str(sms_log), "--secret-id", SECRET_ID, "--secret-key", SECRET_KEY)  # fmt: skip
    stack = Stack(
        fresh_database_url,
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=str(smtp_port),
        smtp_sender="12345@hotline.example",
        sms_provider="tencent",
        tencent_sms_endpoint=f"http://127.0.0.1:{sms_port}",
        tencent_secret_id=SECRET_ID,
        tencent_secret_key=SECRET_KEY,
        tencent_sms_app_id="1400000000",
        tencent_sms_sign_name="广州12345",
        sms_templates=json.dumps({"ticket_assigned": "100001", "caller_accepted": "200001"}),
        # This test is about delivery, whatever the hour it runs at: no quiet hours.
        sms_quiet_start="00:00",
        sms_quiet_end="00:00",
    )
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

            receivers.start("tests.support.receivers", "webhook", "--port", str(hook_port),
                            "--out", str(hook_log), "--secret",
                            channels["webhook"]["secret"])  # fmt: skip

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
        unit_sms, caller_sms = by_template["100001"], by_template["200001"]
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
