"""What the workbench's browser tests share: signing in on the page, a call taken and
dispatched through the APIs, a downloaded workbook read back."""

import io
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from shared.auth import Role
from tests.e2e.test_ticket_life import CALL, client, eventually


def workbook(path: Any) -> Any:
    """A downloaded .xlsx, read back (Playwright keeps downloads without their extension)."""
    return load_workbook(io.BytesIO(Path(path).read_bytes()))


async def dispatched(stack: Any, call: dict[str, Any] = CALL) -> str:
    """A call taken through intake and dispatched to its suggested unit, which contacted the
    caller at once: its number."""
    async with client(stack["intake"].url, Role.AGENT) as agent:
        number: str = (await agent.post("/v1/tickets", json=call)).json()["number"]
    async with client(stack["dispatch"].url, Role.DISPATCHER) as agency:

        async def sent() -> Any:
            return (await agency.post(f"/v1/tickets/{number}/dispatch", json={})).is_success

        await eventually(sent, "the ticket dispatched")
        lead = (await agency.get(f"/v1/tickets/{number}")).json()["lead_unit"]
    async with client(stack["dispatch"].url, Role.UNIT, lead) as unit:
        contact = {"method": "phone"}
        contacted = await unit.post(f"/v1/tickets/{number}/contact-record", json=contact)
        assert contacted.is_success, contacted.text
    async with client(stack["sla"].url, Role.SUPERVISOR) as sla:
        # Before a test moves the clock: else the scan may breach the contact clock first
        # (withdrawn when the news arrives, but a page read in between would count it).
        async def stopped() -> bool:
            clocks = (await sla.get(f"/v1/tickets/{number}/clocks")).json()["items"]
            return any(c["kind"] == "contact" and c["state"] == "stopped" for c in clocks)

        await eventually(stopped, "sla told of the contact")
    return number


async def sign_in(page: Any, console_url: str, role: str, name: str, unit: str = "") -> None:
    await page.goto(f"{console_url}/signin")
    await page.select_option("#dev-signin select[name=role]", role)
    await page.fill("#dev-signin input[name=unit_id]", unit)
    await page.fill("#dev-signin input[name=name]", name)
    await page.click("#dev-signin button[type=submit]")
