"""Take the README's screenshots: a stack and the console as processes on a fresh database,
a call taken on the agent's page, the pages each role opens, and a citizen's form and
progress page on a phone, in Debian's Chromium.

    .venv/bin/python docs/screens/take.py    # writes docs/screens/*.png
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
import tempfile
from pathlib import Path

from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT)]

from shared.auth import Role, mint_token  # noqa: E402
from shared.settings import Settings  # noqa: E402
from tests.support.databases import DatabaseServer  # noqa: E402
from tests.support.stack import ServiceProcess, Stack, free_port  # noqa: E402

OUT = Path(__file__).parent
CALL = {
    "channel": "phone",
    "caller": {"name": "王芳", "phone": "13900001111", "address": "天河区林和西路9号"},
    "text": "林和西路工地每天晚上十一点后还在打桩，吵得睡不着",
    "ticket_type": "complaint",
    "category": "noise.construction",
    "district": "天河区",
    "street": "林和街道",
    "outcome": "submitted",
}


async def shoot(console: str, stack: Stack) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=shutil.which("chromium"))
        page = await browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")

        async def sign_in(role: str, name: str, unit: str = "") -> None:
            await page.goto(f"{console}/signin")  # the development form (no directory here)
            await page.select_option("#dev-signin select[name=role]", role)
            await page.fill("#dev-signin input[name=unit_id]", unit)
            await page.fill("#dev-signin input[name=name]", name)
            await page.click("#dev-signin button[type=submit]")

        await page.goto(f"{console}/signin")
        await page.screenshot(path=OUT / "signin.png")
        # 话务员: the call, intake's suggestions, the ticket.
        await sign_in("agent", "话务员小王")
        await page.fill("textarea[name=text]", CALL["text"])
        for field in ("name", "phone", "address"):
            await page.fill(f"input[name={field}]", CALL["caller"][field])
        await page.click("button:has-text('智能建议')")
        await page.screenshot(path=OUT / "agent-suggestions.png", full_page=True)
        await page.click("form#call button:has-text('受理')")
        number = re.search(r"GZ\d+", await page.inner_text(".notice"))[0]  # type: ignore[index]
        await asyncio.sleep(2)  # intake's outbox hands it to dispatch
        # 热线工作机构: the desk, then the ticket dispatched.
        await page.click("button:has-text('退出')")
        await sign_in("dispatcher", "派单员小李")
        await page.screenshot(path=OUT / "agency-desks.png")
        await page.click(f"text={number}")
        await page.click("button:has-text('派单')")
        await page.screenshot(path=OUT / "agency-dispatched.png", full_page=True)
        # 承办单位: its list, and a refused extension with the rule's words.
        await page.click("button:has-text('退出')")
        await sign_in("unit", "城管办理员", "tianhe-urban")
        await page.screenshot(path=OUT / "unit-tickets.png")
        await page.goto(f"{console}/tickets/{number}")
        await page.click("button:has-text('签收')")
        await page.fill("form[action$='/extend'] input[name=reason]", "需协调多部门")
        await page.click("button:has-text('申请延期')")
        await page.screenshot(path=OUT / "unit-ticket-refusal.png", full_page=True)
        # 督办人员: seven weeks on, overdue and supervised; the reports.
        admin = mint_token(Settings(env="test"), role=Role.ADMIN, subject="screens")
        stack.advance_clock(admin, days=50)
        await asyncio.sleep(3)  # sla's scan finds it late and opens the supervision
        await page.click("button:has-text('退出')")
        await sign_in("supervisor", "督办员")
        await page.screenshot(path=OUT / "supervisor-overdue.png", full_page=True)
        await page.goto(f"{console}/reports?date_from=2026-11-01&date_to=2027-03-31")
        await page.wait_for_selector("#chart-week svg")
        await page.screenshot(path=OUT / "supervisor-reports.png", full_page=True)
        # 系统管理员: the directory.
        await page.click("button:has-text('退出')")
        await sign_in("admin", "管理员")
        await page.goto(f"{console}/admin?section=rules")
        await page.screenshot(path=OUT / "admin-rules.png")
        # 群众: 我要反映 and 办理进度 on a phone; the agent's review of what was sent.
        phone = await browser.new_page(
            viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN"
        )
        await phone.goto(f"{stack['intake'].url}/public/")
        await phone.select_option("#category", "city_appearance.sanitation")
        await phone.fill("#text", "天河路385号门口垃圾桶满溢三天无人清运，气味很大")
        await phone.fill("#place", "天河区天河路385号")
        await phone.fill("#phone", "13600003333")
        await phone.check("#contact_consent")
        await phone.screenshot(path=OUT / "public-report.png", full_page=True)
        await phone.click("#send")
        await phone.wait_for_selector("#receipt:not([hidden])")
        await phone.click("#progress-link")
        await phone.fill("#phone_tail", "3333")
        await phone.click("button:has-text('查询')")
        await phone.wait_for_selector("#result:not([hidden])")
        await phone.screenshot(path=OUT / "public-progress.png", full_page=True)
        await page.click("button:has-text('退出')")
        await sign_in("agent", "话务员小王")
        await page.click("nav >> text=群众来件")
        await page.click("#submissions a")
        await page.screenshot(path=OUT / "agent-submission.png", full_page=True)
        await browser.close()


def main() -> None:
    server = DatabaseServer()
    server.create_template()
    name = server.copy_template("hotline_screens")
    logs = Path(tempfile.mkdtemp())
    stack = Stack(server.url_for(name), logs)
    stack.start()
    console = ServiceProcess("console", port=free_port(), env=stack["intake"].env, log_dir=logs)
    console.start()
    try:
        asyncio.run(shoot(console.url, stack))
    finally:
        console.stop()
        stack.stop()
        server.drop(name)
        server.close()


if __name__ == "__main__":
    main()
