"""The web workbench in a real Chromium against the three services as processes: one
ticket's whole life through the pages of four roles, who may open and post what, sessions
that expire, offline assets."""

import re
from typing import Any

import httpx

from shared.auth import Role, mint_token
from tests.e2e.console import dispatched, sign_in
from tests.e2e.test_ticket_life import CALL, SETTINGS, client, eventually


async def test_a_tickets_whole_life_through_the_pages_of_four_roles(stack, console, browser):
    """Taken at intake, dispatched, a return approved and one refused, signed for, extended,
    overdue on the moved clock, supervised, fed back, reviewed and evaluated — all in the
    browser, with what each page shows at each step."""
    context = await browser.new_context(locale="zh-CN", timezone_id="America/New_York")
    page = await context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    async def sign_in_as(role: str, name: str, unit: str = "") -> None:
        if await page.locator("button:has-text('退出')").count():
            await page.click("button:has-text('退出')")
        await sign_in(page, console.url, role, name, unit)

    # The agent takes the call.
    await sign_in_as("agent", "话务员小王")
    await page.fill("textarea[name=text]", CALL["text"])
    for field in ("name", "phone", "address"):
        await page.fill(f"input[name={field}]", CALL["caller"][field])
    await page.click("button:has-text('智能建议')")
    await page.click("form#call button:has-text('受理')")
    number = re.search(r"GZ\d+", await page.inner_text(".notice"))[0]  # type: ignore[index]

    # The agency sends it to a unit that is not responsible; that unit asks to return it. Its
    # queue is read when the page opens: first the relay must have brought the ticket there.
    async with client(stack["dispatch"].url, Role.DISPATCHER) as agency:

        async def arrived() -> bool:
            return (await agency.get(f"/v1/tickets/{number}")).is_success

        await eventually(arrived, "the ticket at dispatch")
    await sign_in_as("dispatcher", "派单员小李")
    assert "待派单" in await page.inner_text("nav.tabs")
    await page.click(f"text={number}")
    await page.fill("form[action$='/dispatch'] input[name=unit_id]", "haizhu-urban")
    await page.click("button:has-text('派单')")
    assert "已派单" in await page.inner_text(".notice")
    await sign_in_as("unit", "海珠办理员", "haizhu-urban")
    await page.goto(f"{console.url}/tickets/{number}")
    await page.fill("form[action$='/return'] input[name=reason]", "事发地在天河区，不属本单位")
    await page.fill("form[action$='/return'] input[name=basis]", "属地管理原则")
    await page.click("button:has-text('申请退回')")
    assert "已提交退回申请" in await page.inner_text(".notice")

    # The agency approves that return (Art 15) and dispatches to the suggested unit.
    await sign_in_as("dispatcher", "派单员小李")
    await page.click("text=退回待审核（1）")
    assert "事发地在天河区" in await page.inner_text("tr.return")
    await page.fill("tr.return input[name=reason]", "同意，改派天河区")
    await page.click("tr.return button:has-text('同意退回')")
    assert f"{number} 已同意退回" in await page.inner_text(".notice")
    await page.click("text=待派单")
    await page.click(f"text={number}")
    await page.click("button:has-text('派单（推荐：tianhe-urban）')")
    assert "已派单" in await page.inner_text(".notice")

    # The unit responsible reads it and signs for it.
    await sign_in_as("unit", "城管办理员", "tianhe-urban")
    await page.goto(f"{console.url}/tickets/{number}")
    assert CALL["text"] in await page.inner_text(".words")
    # Not yet signed for: feedback is shown disabled, with the rule's Chinese words.
    feedback = page.locator("form[action$='/feedback'] button")
    assert await feedback.is_disabled()
    assert "当前状态下不能进行此操作" in await page.inner_text("form[action$='/feedback']")
    await page.click("button:has-text('签收')")
    assert "已签收" in await page.inner_text(".notice")
    assert await page.inner_text("#status") == "办理中"
    assert await page.locator("form[action$='/accept'] button").is_disabled()
    assert not await feedback.is_disabled()
    await page.click("button:has-text('已联系诉求人')")  # 响应: phoned the caller
    assert "已记录联系诉求人" in await page.inner_text(".notice")
    # The caller's contact, on request; the page says the read is recorded.
    await page.click("button:has-text('查看联系方式')")
    assert "13900001111" in await page.inner_text(".contact")
    assert "已留痕" in await page.inner_text("main")
    due = await page.inner_text("#due")
    assert re.fullmatch(r"\d{4}年\d{2}月\d{2}日 00:00", due), due  # 24:00 Beijing time
    assert await page.inner_text("#left") == "剩余 10 个工作日"  # Art 17(2), from tomorrow

    # Not told the caller: the API refuses, and the page explains the rule in Chinese.
    await page.fill("form[action$='/extend'] input[name=reason]", "需协调多部门")
    await page.click("button:has-text('申请延期')")
    refusal = await page.inner_text(".error")
    assert refusal.startswith("应当向诉求人说明情况") and "《办法》第十七条、第十八条" in refusal

    # Within its 2-working-day window the unit applies to return it too (Art 14).
    await page.fill("form[action$='/return'] input[name=reason]", "不属本单位职责")
    await page.fill("form[action$='/return'] input[name=basis]", "三定方案第三条")
    await page.click("button:has-text('申请退回')")
    assert "已提交退回申请" in await page.inner_text(".notice")
    await page.goto(f"{console.url}/unit?tab=returning")
    assert number in await page.inner_text("table")

    # The unit whose return was approved can no longer open the ticket.
    await sign_in_as("unit", "海珠办理员", "haizhu-urban")
    response = await page.goto(f"{console.url}/tickets/{number}")
    assert response is not None and response.status == 403
    assert "该热线事项未交本单位办理" in await page.inner_text("main")

    # The agency refuses this return from its desk, with its reasons (Art 15(2)).
    await sign_in_as("dispatcher", "派单员小李")
    await page.click("text=退回待审核（1）")
    application = await page.inner_text("tr.return")
    assert "不属本单位职责" in application and "三定方案第三条" in application
    await page.fill("tr.return input[name=reason]", "属城管执法职责")
    await page.click("tr.return button:has-text('不同意退回')")
    assert f"{number} 已不同意退回" in await page.inner_text(".notice")

    # The unit extends (the caller told, Art 18): one more period.
    await sign_in_as("unit", "城管办理员", "tianhe-urban")
    await page.goto(f"{console.url}/tickets/{number}")
    await page.fill("form[action$='/extend'] input[name=reason]", "需协调多部门联合执法")
    await page.check("form[action$='/extend'] input[name=caller_told]")
    await page.click("button:has-text('申请延期')")
    assert "已延期" in await page.inner_text(".notice")
    assert await page.inner_text("#left") == "剩余 20 个工作日"

    # Time passes beyond the extended due time: overdue, and supervised (Art 23).
    admin = mint_token(SETTINGS, role=Role.ADMIN, subject="e2e-admin")
    stack.advance_clock(admin, days=40)
    async with client(stack["sla"].url, Role.SUPERVISOR) as supervisor:

        async def supervised() -> Any:
            found = (await supervisor.get("/v1/supervisions", params={"open_only": True})).json()
            return found["items"]

        await eventually(supervised, "the overdue ticket supervised")
    await page.goto(f"{console.url}/tickets/{number}")
    assert re.fullmatch(r"已超期 \d+ 个工作日", await page.inner_text("#left"))
    await page.goto(f"{console.url}/unit?tab=overdue")
    assert number in await page.inner_text("table")
    await sign_in_as("supervisor", "督办员")
    assert "督办待回复（1 件）" in await page.inner_text("main")
    await page.click("text=天河区")
    await page.click("text=tianhe-urban")
    assert "办理时限" in await page.inner_text("tr.overdue")
    await sign_in_as("unit", "城管办理员", "tianhe-urban")
    await page.click("text=督办")
    await page.fill("tr.waiting input[name=text]", "已约谈施工单位，即日反馈")
    await page.click("button:has-text('回复督办')")
    assert "已回复督办" in await page.inner_text(".notice")

    # Fed back late; the agency reviews it and the caller's rating closes it (Art 19, 20).
    await page.goto(f"{console.url}/tickets/{number}")
    for field, value in (
        ("handling_time", "2027年1月20日"),
        ("process", "现场核查并约谈施工单位"),
        ("result", "已责令停止夜间施工"),
        ("caller_reply", "已电话回复诉求人"),
    ):
        await page.fill(f"form[action$='/feedback'] [name={field}]", value)
    await page.click("button:has-text('办理反馈')")
    assert "已提交办理反馈" in await page.inner_text(".notice")
    await sign_in_as("dispatcher", "派单员小李")
    await page.click("text=反馈待审核（1）")
    await page.click(f"text={number}")
    await page.click("button:has-text('审核反馈')")
    assert "已审核" in await page.inner_text(".notice")
    await page.select_option("select[name=rating]", "satisfied")
    await page.click("button:has-text('记录评价')")
    assert await page.inner_text("#status") == "已办结"
    timeline = await page.inner_text(".timeline")
    for step in ("同意退回", "不同意退回", "延期", "办理超期", "满意度评价"):
        assert step in timeline, (step, timeline)
    await context.close()

    outside = [url for url in requested if not url.startswith(console.url)]
    assert outside == [], outside  # every asset is the console's own


async def test_forms_need_the_sessions_csrf_token_and_an_expired_session_keeps_what_was_typed(
    stack, console, browser
):
    token = mint_token(SETTINGS, role=Role.UNIT, subject="u", unit_id="tianhe-urban")
    expired = mint_token(
        SETTINGS,
        role=Role.UNIT,
        subject="u",
        unit_id="tianhe-urban",
        ttl=__import__("datetime").timedelta(seconds=-1),
    )
    async with httpx.AsyncClient(base_url=console.url, cookies={"hotline_session": token}) as web:
        forged = await web.post("/tickets/GZ261124000001/accept", data={"csrf_token": "x"})
    async with httpx.AsyncClient(base_url=console.url, cookies={"hotline_session": expired}) as web:
        stale = await web.get("/unit")
    assert forged.status_code == 403 and "表单已失效" in forged.text
    assert stale.status_code == 303 and stale.headers["location"] == "/signin?next=/unit"

    # A form sent on an expired session: signing in again brings back what was typed.
    number = await dispatched(stack)
    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    await sign_in(page, console.url, "unit", "城管办理员", "tianhe-urban")
    await page.goto(f"{console.url}/tickets/{number}")
    await page.fill("form[action$='/return'] input[name=reason]", "不属本单位职责")
    await page.fill("form[action$='/return'] input[name=basis]", "三定方案第三条")
    cookie = {"name": "hotline_session", "value": expired, "url": console.url}
    await context.add_cookies([cookie])  # the session runs out while the clerk types
    await page.click("button:has-text('申请退回')")
    assert "刚才填写的内容已保留" in await page.inner_text("main")
    await page.select_option("#dev-signin select[name=role]", "unit")
    await page.fill("#dev-signin input[name=unit_id]", "tianhe-urban")
    await page.fill("#dev-signin input[name=name]", "城管办理员")
    await page.click("#dev-signin button[type=submit]")
    assert "不属本单位职责" in await page.inner_text("#resume")
    await page.click("button:has-text('继续提交')")
    assert "已提交退回申请" in await page.inner_text(".notice")
    assert await page.inner_text("#status") == "退回审核中"


async def test_the_api_docs_render_in_the_browser_without_the_internet(stack, browser):
    context = await browser.new_context()
    page = await context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    for service in ("intake", "dispatch", "sla"):
        await page.goto(f"{stack[service].url}/docs")
        await page.wait_for_selector(".opblock", timeout=60_000)  # the operations, rendered
        assert await page.locator(".opblock").count() > 5
    await context.close()
    hosts = {stack[s].url for s in ("intake", "dispatch", "sla")}
    outside = [url for url in requested if not any(url.startswith(h) for h in hosts)]
    assert outside == [], outside


async def test_every_page_and_form_admits_only_the_roles_and_units_it_serves(stack, console):
    from console.admin import SECTIONS
    from console.session import csrf_token

    number = await dispatched(stack)

    def session(role: Role, unit: str | None = None, district: str | None = None) -> str:
        return mint_token(SETTINGS, role=role, subject="t", unit_id=unit, district=district)

    other_unit = session(Role.UNIT, "haizhu-urban")
    other_district = session(Role.DISPATCHER, district="海珠区")
    own_unit = session(Role.UNIT, "tianhe-urban")
    agent = session(Role.AGENT)
    roles = {
        "agent": agent,
        "unit": own_unit,
        "other unit": other_unit,
        "sub-unit": session(Role.SUB_UNIT, "tianhe-street-01"),
        "dispatcher": session(Role.DISPATCHER),
        "district agency": other_district,
        "supervisor": session(Role.SUPERVISOR),
        "admin": session(Role.ADMIN),
    }
    agency = {"dispatcher", "district agency", "supervisor", "admin"}
    # Who opens each page (200); every other role is refused (403).
    opens = {
        "/intake": {"agent", "dispatcher", "district agency"},
        "/unit": {"unit", "other unit", "sub-unit"},
        "/unit/supervisions": {"unit", "other unit"},
        "/agency": agency,
        f"/search?number={number}": agency,
        "/supervisor": agency,
        "/reports": agency,
        "/reports/kpis.xlsx": agency,
        "/supervisor/overdue.xlsx": agency,
        "/supervisor/due-soon.xlsx": agency,
        "/supervisions.xlsx": agency,
        **{f"/admin?section={section}": {"admin"} for section in SECTIONS},
        # The ticket: its unit and the city's agency; not another unit, another district's
        # agency, a sub-unit it was not given to, or the agent's desk.
        f"/tickets/{number}": {"unit", "dispatcher", "supervisor", "admin"},
    }
    answered = {}
    for path in opens:
        for role, token in roles.items():
            async with httpx.AsyncClient(
                base_url=console.url, cookies={"hotline_session": token}
            ) as web:
                answered[path, role] = (await web.get(path)).status_code
    expected = {
        (path, role): 200 if role in allowed else 403
        for path, allowed in opens.items()
        for role in roles
    }
    assert answered == expected
    # Every form of the ticket page, posted by sessions that may not act on it: refused by
    # the API, nothing changes.
    for token in (other_unit, other_district):
        async with httpx.AsyncClient(
            base_url=console.url, cookies={"hotline_session": token}
        ) as web:
            for action in (
                "accept",
                "extend",
                "return",
                "feedback",
                "legal_procedure",
                "designate",
                "sub_unit_result",
                "review_sub_unit",
            ):
                answer = await web.post(
                    f"/tickets/{number}/{action}",
                    data={"csrf_token": csrf_token(SETTINGS, token), "reason": "x", "basis": "y"},
                )
                assert answer.status_code in (303, 403), (action, answer.status_code)
                assert "error=" in answer.headers.get("location", "error="), action
    # The administrator's and the agent's forms refuse every other role before any call.
    for token in (own_unit, other_district, agent):
        async with httpx.AsyncClient(
            base_url=console.url, cookies={"hotline_session": token}
        ) as web:
            form = {"csrf_token": csrf_token(SETTINGS, token)}
            for section in ("units", "rules", "limits", "kb"):
                refused = await web.post(f"/admin/{section}", data={**form, "name": "x"})
                assert refused.status_code == 403, section
    async with httpx.AsyncClient(
        base_url=console.url, cookies={"hotline_session": own_unit}
    ) as web:
        form = {"csrf_token": csrf_token(SETTINGS, own_unit), "text": "x", "key": "k"}
        assert (await web.post("/intake", data=form)).status_code == 403
    async with client(stack["dispatch"].url, Role.DISPATCHER) as agency:
        ticket = (await agency.get(f"/v1/tickets/{number}")).json()
        units = (await agency.get("/v1/units", params={"inactive": "true"})).json()["items"]
    assert ticket["status"] == "dispatched"  # nobody acted on it
    assert not any(u["name"] == "x" for u in units)


async def test_the_agency_finds_a_ticket_by_the_callers_phone_or_words(stack, console):
    phone_call = {**CALL, "caller": {**CALL["caller"], "phone": "020-83123456"}}
    async with client(stack["intake"].url, Role.AGENT) as agent:
        number = (await agent.post("/v1/tickets", json=phone_call)).json()["number"]
    token = mint_token(SETTINGS, role=Role.DISPATCHER, subject="d")
    async with httpx.AsyncClient(base_url=console.url, cookies={"hotline_session": token}) as web:

        async def found(**query: str) -> Any:
            return number in (await web.get("/search", params=query)).text

        await eventually(lambda: found(phone="(020) 8312 3456"), "the ticket by phone")
        assert await found(q="林和西路")
        assert not await found(phone="13800000000")


async def test_a_units_list_shows_new_work_without_a_reload(stack, console, browser):
    page = await (await browser.new_context(locale="zh-CN")).new_page()
    await sign_in(page, console.url, "unit", "城管办理员", "tianhe-urban")
    assert "没有热线事项" in await page.inner_text("#rows")
    number = await dispatched(stack)
    # The page is not reloaded: htmx refreshes the rows (every second in this test's console).
    await page.wait_for_selector(f"#rows >> text={number}", timeout=60_000)


async def test_the_agencys_desk_shows_a_new_call_without_a_reload(stack, console, browser):
    page = await (await browser.new_context(locale="zh-CN")).new_page()
    await sign_in(page, console.url, "dispatcher", "派单员小李")
    before = await page.inner_text("nav.tabs")
    async with client(stack["intake"].url, Role.AGENT) as agent:
        number = (await agent.post("/v1/tickets", json=CALL)).json()["number"]
    # The page is not reloaded: htmx refreshes the desk, its counts with it.
    await page.wait_for_selector(f"#desk >> text={number}", timeout=60_000)
    assert await page.inner_text("nav.tabs") != before


async def test_the_agencys_desk_keeps_an_opinion_being_typed(stack, console, browser):
    """A refresh would replace the desk's forms: it waits while a clerk writes in one."""
    number = await dispatched(stack)
    async with client(stack["dispatch"].url, Role.DISPATCHER) as agency:
        lead = (await agency.get(f"/v1/tickets/{number}")).json()["lead_unit"]
    async with client(stack["dispatch"].url, Role.UNIT, lead) as unit:
        application = {"reason": "不属本单位职责", "basis": "三定方案"}
        applied = await unit.post(f"/v1/tickets/{number}/returns", json=application)
        assert applied.status_code == 201, applied.text
    page = await (await browser.new_context(locale="zh-CN")).new_page()
    await sign_in(page, console.url, "dispatcher", "派单员小李")
    await page.goto(f"{console.url}/agency?desk=return_applications")
    refreshes: list[str] = []
    page.on("request", lambda r: refreshes.append(r.url) if "/agency/desk" in r.url else None)
    await page.fill("tr.return input[name=reason]", "同意，改派")
    await page.locator("h1").click()  # the field loses the focus and keeps the words
    for _ in range(3):  # three refresh periods of this test's console (a second each)
        await page.wait_for_timeout(1_000)
    assert await page.input_value("tr.return input[name=reason]") == "同意，改派"
    assert not refreshes
    await page.fill("tr.return input[name=reason]", "")
    await page.locator("h1").click()
    await page.wait_for_event("request", lambda r: "/agency/desk" in r.url, timeout=60_000)


async def test_a_clerk_signs_in_with_a_password_is_renewed_and_is_shown_out_when_disabled(
    stack, console, browser
):
    """Issue 19: the workbench signs in at the identity service; a lapsed access token is
    renewed with the refresh token without the clerk noticing; once disabled, the next page
    asks to sign in and the password no longer works."""
    identity = stack["identity"].url
    admin = mint_token(SETTINGS, role=Role.ADMIN, subject="e2e-admin")
    person = {
        "username": "wang.xm",
        "display_name": "王小明",
        "role": "unit",
        "unit_id": "tianhe-urban",
        "password": "Tianhe-urban-2026",
    }
    async with httpx.AsyncClient(
        base_url=identity, headers={"Authorization": f"Bearer {admin}"}
    ) as api:
        assert (await api.post("/v1/users", json=person)).status_code == 201
    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{console.url}/signin")
    await page.fill("#signin input[name=username]", "wang.xm")
    await page.fill("#signin input[name=password]", "wrong-password")
    await page.click("#signin button[type=submit]")
    assert "用户名或密码错误" in await page.inner_text("main")
    assert await page.input_value("#signin input[name=username]") == "wang.xm"
    await page.fill("#signin input[name=password]", person["password"])
    await page.click("#signin button[type=submit]")
    assert await page.title() == "我的工单 · 12345 热线工作台"
    assert "王小明" in await page.inner_text("header") or "wang.xm" in await page.inner_text(
        "header"
    )

    expired = mint_token(
        SETTINGS,
        role=Role.UNIT,
        subject="wang.xm",
        unit_id="tianhe-urban",
        ttl=__import__("datetime").timedelta(seconds=-1),
    )
    await context.add_cookies([{"name": "hotline_session", "value": expired, "url": console.url}])
    await page.goto(f"{console.url}/unit")
    assert await page.title() == "我的工单 · 12345 热线工作台"  # renewed, not asked again
    renewed = {c["name"]: c["value"] for c in await context.cookies()}
    assert renewed["hotline_session"] != expired

    async with httpx.AsyncClient(
        base_url=identity, headers={"Authorization": f"Bearer {admin}"}
    ) as api:
        await api.patch("/v1/users/wang.xm", json={"disabled": True})

    async def asked_to_sign_in() -> bool:
        await page.goto(f"{console.url}/unit")
        return await page.title() == "登录 · 12345 热线工作台"

    await eventually(asked_to_sign_in, "the disabled clerk to be signed out")
    await page.fill("#signin input[name=username]", "wang.xm")
    await page.fill("#signin input[name=password]", person["password"])
    await page.click("#signin button[type=submit]")
    assert "账号已停用" in await page.inner_text("main")


async def test_a_clerk_signs_in_through_the_citys_identity_provider(
    fresh_database_url, tmp_path, browser
):
    """Issue 19: the workbench's 统一身份认证 button, a provider that vouches for the clerk,
    and the clerk at work with the unit the provider named, no password in the suite."""
    import json

    from tests.support.idp import Served
    from tests.support.stack import ServiceProcess, Stack, free_port

    console_url = f"http://127.0.0.1:{free_port()}"
    with Served(free_port()) as provider:
        provider.person = {
            "sub": "u-1001",
            "preferred_username": "li.lei",
            "name": "李雷",
            "roles": ["12345-clerk"],
            "unit_id": "tianhe-urban",
        }
        settings = {
            k: v if isinstance(v, str) else json.dumps(v) for k, v in provider.settings().items()
        }
        settings["oidc_redirect_uris"] = json.dumps([f"{console_url}/signin/oidc/callback"])
        settings["console_url"] = console_url
        stack = Stack(fresh_database_url, tmp_path, **settings)
        port = int(console_url.rsplit(":", 1)[1])
        console = ServiceProcess("console", port=port, env=stack["intake"].env, log_dir=tmp_path)
        stack.start()
        console.start()
        try:
            page = await (await browser.new_context(locale="zh-CN")).new_page()
            await page.goto(f"{console_url}/signin")
            await page.click("#oidc")
            await page.wait_for_url(f"{console_url}/unit")
            assert await page.title() == "我的工单 · 12345 热线工作台"
            assert "li.lei" in await page.inner_text("header")
            # A code brought back to a browser that did not start the sign-in is refused.
            other = await (await browser.new_context(locale="zh-CN")).new_page()
            await other.goto(f"{console_url}/signin/oidc/callback?state=x&code=y")
            assert "统一身份认证登录未成功" in await other.inner_text("main")
        finally:
            console.stop()
            stack.stop()


async def test_the_agent_sees_the_sentence_that_answers_or_that_there_is_none(
    stack, console, browser
):
    """Issue 18: a consultation's knowledge-base answer shows its sentence highlighted in its
    article; a question the knowledge base cannot answer is told so, with no policy text."""
    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    await sign_in(page, console.url, "agent", "话务员小王")
    await page.fill("textarea[name=text]", "请问热线事项可以延期几次？")
    await page.click("button:has-text('智能建议')")
    marked = await page.locator("#answers mark").all_inner_texts()
    assert "延期以2次为限，每次延期期限与办理期限相同。" in marked
    await page.fill("textarea[name=text]", "请问结婚登记要去哪里办？")
    await page.click("button:has-text('智能建议')")
    assert await page.locator("#answers").count() == 0
    assert "知识库中没有合适的答复" in await page.inner_text("#no-answer")
    await context.close()
