"""Warnings of the rules (Art 12 ¶2) and referrals of malicious use (Art 27)."""

from shared.auth import Role
from tests.intake.conftest import CALL


async def test_art12_27_warnings_and_referrals_are_kept_and_read_by_supervisors_only(
    agent, intake_app, client_for
):
    async with agent() as client:
        ticket = (await client.post("/v1/tickets", json=CALL)).json()
        warned = await client.post(
            f"/v1/tickets/{ticket['id']}/warnings",
            json={"note": "已提醒来电人文明表达、如实反映，回电13812345678"},
        )
        blank = await client.post(f"/v1/tickets/{ticket['id']}/warnings", json={"note": "  "})
        agent_reads = await client.get(f"/v1/tickets/{ticket['id']}/conduct")
    async with client_for(intake_app, Role.SUPERVISOR) as supervisor:
        referred = await supervisor.post(
            f"/v1/tickets/{ticket['id']}/referrals",
            json={"note": "一日内以相同内容拨打四十次", "referred_to": "公安机关"},
        )
        records = (await supervisor.get(f"/v1/tickets/{ticket['id']}/conduct")).json()["items"]
    async with client_for(intake_app, Role.DISPATCHER) as dispatcher:
        dispatcher_reads = await dispatcher.get(f"/v1/tickets/{ticket['id']}/conduct")
    assert (warned.status_code, referred.status_code, blank.status_code) == (201, 201, 422)
    assert [(r["kind"], r["role"]) for r in records] == [
        ("warning", "agent"),
        ("referral", "supervisor"),
    ]
    assert "13812345678" not in records[0]["note"]  # personal data masked in the record
    assert records[1]["referred_to"] == "公安机关"
    assert agent_reads.status_code == dispatcher_reads.status_code == 403
