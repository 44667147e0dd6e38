"""Citizens' own channels against the services as processes: the public form and progress
page in Chromium (a desktop and a phone-sized window), and an Open311 client library written
by others reading what this suite publishes."""

import asyncio
import io
import json
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI, Response
from georeport import GeoReport
from hotline_client.cli import app as cli
from intake.citizens.rules import solves
from PIL import Image
from playwright.async_api import expect
from typer.testing import CliRunner

from shared.auth import Role, mint_token
from tests.e2e.console import sign_in
from tests.e2e.test_ticket_life import SETTINGS, client, eventually
from tests.intake.test_citizens_rules import _photo_with_gps
from tests.support.serving import InThread

WINDOWS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
REVIEW = {
    "ticket_type": "complaint",
    "category": "noise.construction",
    "district": "天河区",
    "street": "林和街道",
    "outcome": "submitted",
}


@pytest.mark.parametrize("window", list(WINDOWS))
async def test_a_citizen_reports_with_a_photo_and_follows_its_progress(
    stack, browser, tmp_path, window
):
    intake, dispatch = stack["intake"].url, stack["dispatch"].url
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(_photo_with_gps(23.1375, 113.3245))
    context = await browser.new_context(
        locale="zh-CN", timezone_id="America/New_York", **WINDOWS[window]
    )
    page = await context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    await page.goto(f"{intake}/public/")
    assert await page.title() == "我要反映 - 广州12345政务服务便民热线"
    await page.select_option("#category", "noise.construction")
    assert "夜间打桩" in await page.inner_text("#category-help")  # the category's plain words
    await page.fill("#text", "林和西路工地每天晚上十一点后还在施工 <b>噪音很大</b>")
    await page.fill("#place", "天河区林和西路")
    await page.fill("#name", "王芳")
    await page.fill("#phone", "13900001111")
    await page.check("#contact_consent")
    await page.set_input_files("#photos", str(photo))
    await page.click("#send")
    await page.wait_for_selector("#receipt:not([hidden])", timeout=60_000)
    number = await page.inner_text("#number")
    assert number.startswith("GZ")
    # Every request the page made went to the suite itself (no CDN, no font service).
    assert {urlsplit(url).netloc for url in requested} == {urlsplit(intake).netloc}

    # Before review the citizen is told it is waiting; no unit has it.
    await page.click("#progress-link")
    assert await page.input_value("#number") == number
    await page.fill("#phone_tail", "1111")
    await page.click("button:has-text('查询')")
    await page.wait_for_selector("#result:not([hidden])")
    assert await page.inner_text("#r-stage") == "已收到，待受理审核"
    assert await page.inner_text("#r-received") != ""

    # An agent reviews it, the agency dispatches it; the page then names the unit.
    async with client(intake, Role.AGENT) as agent:
        [item] = [
            s for s in (await agent.get("/v1/submissions")).json()["items"] if s["number"] == number
        ]
        assert [a["kind"] for a in item["attachments"]] == ["photo"]
        ticket = (await agent.post(f"/v1/submissions/{item['id']}/review", json=REVIEW)).json()
    async with client(dispatch, Role.DISPATCHER) as agency:

        async def queued() -> Any:
            return (await agency.get(f"/v1/tickets/{ticket['id']}")).status_code == 200

        await eventually(queued, "the reviewed submission at dispatch")
        sent = await agency.post(f"/v1/tickets/{ticket['id']}/dispatch", json={})
        assert sent.is_success, sent.text

    async with client(intake, Role.AGENT) as agent:

        async def told() -> Any:
            # Asked of the agents' API: the public one is rate-limited per address.
            return (await agent.get(f"/v1/tickets/{ticket['id']}")).json()["assigned_unit_name"]

        await eventually(told, "the handling unit at intake")
    await page.click("button:has-text('查询')")
    # (Playwright's expect, not a script of ours: the page's policy runs no eval.)
    await expect(page.locator("#r-unit")).to_have_text(re.compile(".{2,}"), timeout=30_000)
    assert await page.inner_text("#r-stage") == "已受理，正在派单"
    shown = await page.inner_text("#result")
    assert "13900001111" not in shown and "王芳" not in shown
    # Times are Beijing time with the year, whatever the browser's zone.
    assert (await page.inner_text("#r-received")).startswith("20")
    await context.close()


async def test_a_wrong_phone_tail_is_told_plainly_in_chinese_or_english(stack, browser):
    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{stack['intake'].url}/public/progress.html?number=GZ261207999999")
    await page.fill("#phone_tail", "0000")
    await page.click("#look")
    await page.wait_for_selector("#status.error")
    assert "未找到该编号的事项" in await page.inner_text("#status")
    # English, chosen once and remembered: the page's words, the categories, the refusal.
    await page.click("#language")
    assert await page.inner_text("h1") == "Guangzhou 12345 Government Service Hotline"
    await page.fill("#number", "GZ261207999999")
    await page.fill("#phone_tail", "0000")
    await page.click("#look")
    await page.wait_for_selector("#status.error")
    assert "no matter with this number and phone" in await page.inner_text("#status")
    await page.click("nav >> text=Report")
    await page.wait_for_selector("#category optgroup", state="attached")
    await page.select_option("#category", "noise.construction")
    assert await page.locator("#category option:checked").inner_text() == "Construction noise"
    assert "piling" in await page.inner_text("#category-help")
    assert await page.get_attribute("html", "lang") == "en"
    await context.close()


async def test_an_open311_client_library_reads_what_the_suite_publishes(stack, monkeypatch):
    """georeport (a GeoReport v2 client on PyPI) in both formats; it cannot post, so the
    post goes over plain HTTP with a key an admin registered with `hotline`; an agent then
    reviews the request from the command line."""
    intake = stack["intake"].url
    monkeypatch.setenv("HOTLINE_INTAKE_URL", intake)
    admin, agent = (mint_token(SETTINGS, role=r, subject=f"e2e-{r}") for r in ("admin", "agent"))
    registered = CliRunner().invoke(cli, ["--token", admin, "admin", "open311", "add", "随手拍"])
    assert registered.exit_code == 0, registered.output
    api_key = re.search(r"api_key: (\S+)", registered.output)[1]  # type: ignore[index]
    async with httpx.AsyncClient() as http:
        posted = await http.post(
            f"{intake}/open311/v2/requests.json",
            data={
                "api_key": api_key,
                "service_code": "transport.road",
                "lat": "23.1291",
                "long": "113.2644",
                "description": "海珠广场旁人行道井盖缺失，很危险",
            },
        )
    assert posted.status_code == 200, posted.text
    number = posted.json()[0]["service_request_id"]
    for fmt in ("json", "xml"):
        city = GeoReport(f"{intake}/open311/v2", output_format=fmt)
        services = await asyncio.to_thread(city.get_service_list)
        assert any(s["service_code"] == "transport.road" for s in services)
        road = next(s for s in services if s["service_code"] == "transport.road")
        assert road["service_name"] == "道路设施"
        definition = await asyncio.to_thread(city.get_service_definition, "transport.road")
        assert definition["service_code"] == "transport.road"
        found = await asyncio.to_thread(city.get_service_request, number)
        assert found["service_request_id"] == number and found["status"] == "open"
        listed = await asyncio.to_thread(city.get_service_requests, service_request_id=number)
        listed = listed if isinstance(listed, list) else [listed]  # xmltodict: one is a dict
        assert [r["service_request_id"] for r in listed] == [number]

    queue = CliRunner().invoke(cli, ["--token", agent, "agent", "submissions"])
    assert queue.exit_code == 0 and number in queue.output
    as_json = CliRunner().invoke(cli, ["--token", agent, "agent", "submissions", "--json"])
    [waiting] = json.loads(as_json.output)["items"]
    assert (waiting["source"], waiting["client_name"]) == ("open311", "随手拍")
    reviewed = CliRunner().invoke(
        cli,
        [
            *("--token", agent, "agent", "review", number, "--type", "complaint"),
            *("--category", "transport.road", "--district", "海珠区"),
        ],
    )
    assert reviewed.exit_code == 0, reviewed.output
    assert f"热线事项 {number} (" in reviewed.output and "转派办理（submitted）" in reviewed.output
    again = CliRunner().invoke(
        cli, ["--token", agent, "agent", "review", number, "--type", "complaint"]
    )
    assert again.exit_code == 4 and "already_reviewed" in again.output  # refused (409)


async def _submitted_by_a_citizen(intake: str, photo: bytes, share_place: bool = False) -> str:
    """A submission through the public API, as the form sends it (proof of work solved)."""
    async with httpx.AsyncClient(base_url=intake, timeout=30) as citizen:
        challenge = (await citizen.get("/v1/public/challenge")).json()
        nonce = next(str(n) for n in range(10_000_000) if solves(challenge["challenge"], str(n)))
        sent = await citizen.post(
            "/v1/public/submissions",
            data={
                "ticket_type": "complaint",
                "text": "天河路385号门口垃圾桶满溢三天无人清运，气味很大",
                "place": "天河区天河路385号",
                "phone": "13600003333",
                "contact_consent": "true",
                "share_place": str(share_place).lower(),
                "challenge": challenge["challenge"],
                "nonce": nonce,
            },
            files=[("photos", ("bin.jpg", photo, "image/jpeg"))],
        )
    assert sent.status_code == 201, sent.text
    return sent.json()["number"]


async def test_an_agent_reviews_a_submission_and_the_unit_sees_its_photo(stack, console, browser):
    """群众来件 in the workbench: the queue, the citizen's words and photo with intake's
    suggestions applied, 受理; then the unit holding the ticket sees the photo and adds its own
    evidence."""
    number = await _submitted_by_a_citizen(stack["intake"].url, _photo_with_gps(23.13, 113.32))
    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    await sign_in(page, console.url, "agent", "话务员小王")
    await page.click("nav >> text=群众来件")
    await page.fill("#by-phone input[name=phone]", "13600003333")  # the caller asks on the line
    await page.click("#by-phone button")
    assert "待审核 1 件" in await page.inner_text("#submissions caption")
    await page.click(f"#submissions >> text={number}")
    assert number in await page.inner_text("h1")
    assert "垃圾桶满溢" in await page.inner_text("#words")
    loaded = "document.querySelector('#photos img').naturalWidth"
    await page.wait_for_function(f"{loaded} > 0")
    # intake's suggestion chose the category from the words; the agent names the district.
    assert await page.input_value("select[name=category]") == "city_appearance.sanitation"
    await page.select_option("select[name=district]", "天河区")
    await page.click("form#call button:has-text('受理')")
    assert f"{number} 已受理" in await page.inner_text(".notice")
    assert number not in await page.inner_text("#submissions")

    async with client(stack["dispatch"].url, Role.DISPATCHER) as agency:

        async def arrived() -> Any:
            return (await agency.get(f"/v1/tickets/{number}")).status_code == 200

        await eventually(arrived, "the reviewed submission at dispatch")
        sent = await agency.post(f"/v1/tickets/{number}/dispatch", json={"unit_id": "tianhe-urban"})
        assert sent.is_success, sent.text

    await page.click("button:has-text('退出')")
    await sign_in(page, console.url, "unit", "城管办理员", "tianhe-urban")

    async def assigned_at_intake() -> Any:
        async with client(stack["intake"].url, Role.AGENT) as agent:
            found = (await agent.get(f"/v1/tickets/{number}")).json()
        return found["assigned_unit"] == "tianhe-urban"

    await eventually(assigned_at_intake, "intake told which unit holds the ticket")
    await page.goto(f"{console.url}/tickets/{number}")
    await page.wait_for_function("document.querySelector('#attachments img').naturalWidth > 0")
    evidence = io.BytesIO()
    Image.new("RGB", (32, 32), (0, 128, 0)).save(evidence, format="PNG")
    await page.set_input_files(
        "#attach input[name=file]",
        files=[{"name": "现场.png", "mimeType": "image/png", "buffer": evidence.getvalue()}],
    )
    await page.click("#attach button")
    assert "已上传附件" in await page.inner_text(".notice")
    assert await page.locator("#attachments img").count() == 2
    await context.close()


async def test_the_review_page_shows_the_point_on_the_citys_own_tiles(stack, browser, tmp_path):
    """With the city's tile service configured, the point is on a map (Leaflet, served by the
    workbench; the tiles from the city's server, the point in their datum); every other
    request stays with the workbench."""
    from tests.support.stack import ServiceProcess, free_port

    tiles: list[str] = []
    png = io.BytesIO()
    Image.new("RGB", (256, 256), (230, 230, 230)).save(png, format="PNG")
    tile_server = FastAPI()

    @tile_server.get("/tiles/{z}/{x}/{y}.png")
    async def tile(z: int, x: int, y: int) -> Response:
        tiles.append(f"{z}/{x}/{y}")
        return Response(png.getvalue(), media_type="image/png")

    tile_port = free_port()
    env = {
        **stack["intake"].env,
        "HOTLINE_MAP_TILES_URL": f"http://127.0.0.1:{tile_port}/tiles/{{z}}/{{x}}/{{y}}.png",
    }
    workbench = ServiceProcess("console", port=free_port(), env=env, log_dir=tmp_path)
    number = await _submitted_by_a_citizen(
        stack["intake"].url, _photo_with_gps(23.1059, 113.3192), share_place=True
    )
    with InThread(tile_server, tile_port):
        workbench.start()
        try:
            context = await browser.new_context(locale="zh-CN")
            page = await context.new_page()
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            await sign_in(page, workbench.url, "agent", "话务员小王")
            await page.goto(f"{workbench.url}/submissions")
            await page.click(f"#submissions >> text={number}")
            await page.wait_for_selector("#map[data-loaded=true]", timeout=30_000)
            assert await page.locator("#map .leaflet-marker-icon").count() == 1
            await context.close()
        finally:
            workbench.stop()
    assert tiles and all(t.startswith("16/") for t in tiles)
    hosts = {urlsplit(url).netloc for url in requested}
    assert hosts == {urlsplit(workbench.url).netloc, f"127.0.0.1:{tile_port}"}
