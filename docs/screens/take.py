"""Take the README's workbench screenshots: a stack and the console as processes on a fresh
database, a call taken, and the pages each role opens, in Debian's Chromium.

    .venv/bin/python docs/screens/take.py    # writes docs/screens/*.png
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
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


def take_call(intake: str) -> str:
    agent = mint_token(Settings(env="test"), role=Role.AGENT, subject="screens")
    headers = {"Authorization": f"Bearer {agent}"}
    number = httpx.post(f"{intake}/v1/tickets", json=CALL, headers=headers).json()["number"]
    time.sleep(2)  # intake's outbox hands it to dispatch
    return str(number)


async def shoot(console: str, number: str) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=shutil.which("chromium"))
        page = await browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")

        async def sign_in(role: str, name: str, unit: str = "") -> None:
            await page.goto(f"{console}/signin")
            await page.select_option("select[name=role]", role)
            await page.fill("input[name=unit_id]", unit)
            await page.fill("input[name=name]", name)
            await page.click("button[type=submit]")

        await page.goto(f"{console}/signin")
        await page.screenshot(path=OUT / "signin.png")
        await sign_in("dispatcher", "派单员小李")
        await page.screenshot(path=OUT / "agency-desks.png")
        await page.click(f"text={number}")
        await page.click("button:has-text('派单')")
        await page.screenshot(path=OUT / "agency-dispatched.png", full_page=True)
        await page.click("button:has-text('退出')")
        await sign_in("unit", "城管办理员", "tianhe-urban")
        await page.screenshot(path=OUT / "unit-tickets.png")
        await page.goto(f"{console}/tickets/{number}")
        await page.click("button:has-text('签收')")
        await page.fill("form[action$='/extend'] input[name=reason]", "需协调多部门")
        await page.click("button:has-text('申请延期')")
        await page.screenshot(path=OUT / "unit-ticket-refusal.png", full_page=True)
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
        asyncio.run(shoot(console.url, take_call(stack["intake"].url)))
    finally:
        console.stop()
        stack.stop()
        server.drop(name)
        server.close()


if __name__ == "__main__":
    main()
