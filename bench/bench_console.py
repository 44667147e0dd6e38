"""The workbench's pages with 100,000 tickets in the database, beside the API reads they rest on.

The three services and the console run as processes on a fresh database. Sixty calls are
taken through intake's API and go the whole way (dispatched, most signed for); then every row
they left in intake, dispatch and sla is cloned (new ids and numbers, received up to 120 days
earlier) until there are 100,000 tickets. Each page is then requested in turn with the API
calls it rests on as the baseline, interleaved, and the script prints both p50/p95 and the
ratio of the p95s: what the console adds on top of the services.

Run: `.venv/bin/python bench/bench_console.py` (embedded PostgreSQL; BENCH_TICKETS to change
the count, BENCH_KEEP=1 to keep the seeded database, BENCH_STORM=1 to leave the clones'
past-due clocks for the breach scan to find during the run). Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from shared.auth import Role, mint_token  # noqa: E402
from shared.db import asyncpg_dsn  # noqa: E402
from shared.settings import Settings  # noqa: E402
from tests.support.databases import DatabaseServer  # noqa: E402
from tests.support.stack import ServiceProcess, Stack, free_port  # noqa: E402

TICKETS = int(os.environ.get("BENCH_TICKETS", "100000"))
REAL = 60
SAMPLES = 30
SETTINGS = Settings(env="test")
PLACES = ["天河区", "海珠区", "越秀区", "白云区", "番禺区"]
MATTERS = [
    ("complaint", "noise.construction", "工地夜间施工，噪音扰民"),
    ("complaint", "environment.air", "附近工厂排放刺鼻废气"),
    ("help_request", "transport.road", "路口井盖缺失，很危险"),
    ("report", "market.food_safety", "路边摊贩售卖过期食品"),
]
# Every clone gets a ticket id and number of its own, the same in all three schemas.
TICKET_ID = "md5({col} || ':' || k)::uuid::text"
NUMBER = "'GZ' || lpad(k::text, 6, '0') || substr({col}, 9)"
CLONED = {
    "intake.ticket": {"id": TICKET_ID, "number": NUMBER, "idempotency_key": "NULL"},
    "dispatch.ticket": {
        "id": TICKET_ID,
        "number": NUMBER,
        "change_seq": "nextval('dispatch.ticket_change_seq')",
    },
    "dispatch.ticket_event": {"ticket_id": TICKET_ID},
    "sla.clock": {"ticket_id": TICKET_ID},
    "sla.ticket_step": {"ticket_id": TICKET_ID, "number": NUMBER},
}
SHIFT = "(k % 120) * interval '1 day'"
# A city whose breach scan keeps up: a clone whose due time has passed is breached, at its
# due time, as the scan would have done (without the supervisions it opens). BENCH_STORM=1
# leaves them for the scan, which then breaches ~100,000 clocks, 500 a batch, throughout the
# measurement (as every run before 2026-12-06 did).
if not os.environ.get("BENCH_STORM"):
    CLONED["sla.clock"]["breached_at"] = (
        f"CASE WHEN state = 'running' AND due_at - {SHIFT} < now() THEN due_at - {SHIFT}"
        f" ELSE breached_at - {SHIFT} END"
    )


def token(role: Role, unit: str | None = None) -> str:
    return mint_token(SETTINGS, role=role, subject=f"bench-{role}", unit_id=unit)


def take_calls(stack: Stack) -> list[str]:
    """Sixty calls through intake, dispatched by the agency, two in three signed for."""
    agent = {"Authorization": f"Bearer {token(Role.AGENT)}"}
    agency = {"Authorization": f"Bearer {token(Role.DISPATCHER)}"}
    numbers = []
    for i in range(REAL):
        ticket_type, category, text = MATTERS[i % len(MATTERS)]
        call = {
            "channel": "phone",
            "caller": {"name": "测试", "phone": f"139{i:08d}"},
            "text": f"{PLACES[i % len(PLACES)]}{text}（第{i}号）",
            "ticket_type": ticket_type,
            "category": category,
            "district": PLACES[i % len(PLACES)],
            "outcome": "submitted",
        }
        answer = httpx.post(f"{stack['intake'].url}/v1/tickets", json=call, headers=agent)
        numbers.append(answer.raise_for_status().json()["number"])
    for number in numbers[: REAL * 5 // 6]:  # a sixth waits on the agency's desk
        for _ in range(100):  # until intake's outbox has handed it over
            done = httpx.post(
                f"{stack['dispatch'].url}/v1/tickets/{number}/dispatch",
                json={"unit_id": "tianhe-urban"} if number[-1] in "02468" else {},
                headers=agency,
            )
            if done.status_code != 404:
                break
            time.sleep(0.2)
        if done.status_code != 200:  # no routing rule: the agency names the unit
            done = httpx.post(
                f"{stack['dispatch'].url}/v1/tickets/{number}/dispatch",
                json={"unit_id": "tianhe-urban"},
                headers=agency,
            )
        unit = done.raise_for_status().json()["lead_unit"]
        if int(number[-2:]) % 3:
            unit_token = {"Authorization": f"Bearer {token(Role.UNIT, unit)}"}
            url = f"{stack['dispatch'].url}/v1/tickets/{number}/accept"
            httpx.post(url, headers=unit_token).raise_for_status()
    time.sleep(3)  # the relays hand the last steps to sla
    return numbers


async def clone(url: str, copies: int) -> None:
    """Every row of the real tickets, ``copies`` times more, received up to 120 days earlier."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        for table, replaced in CLONED.items():
            schema, name = table.split(".")
            columns = await connection.fetch(
                "SELECT column_name, data_type, column_default, is_identity"
                " FROM information_schema.columns"
                " WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
                schema,
                name,
            )
            names, values = [], []
            for c in columns:
                column, kind = c["column_name"], c["data_type"]
                serial = (c["column_default"] or "").startswith("nextval")
                if column == "id" and (serial or c["is_identity"] == "YES"):
                    continue  # a serial key: the table numbers its own rows
                names.append(f'"{column}"')
                if column in replaced:
                    values.append(replaced[column].format(col=f'"{column}"'))
                elif kind.startswith("timestamp") or kind == "date":
                    values.append(f'"{column}" - {SHIFT}')
                else:
                    values.append(f'"{column}"')
            await connection.execute(
                f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(values)}"
                f" FROM {table} AS original CROSS JOIN generate_series(1, {copies}) AS k"
            )
            await connection.execute(f"ANALYZE {table}")
        count = await connection.fetchval("SELECT count(*) FROM dispatch.ticket")
        print(f"{count:,} tickets in dispatch, {await _count(connection, 'sla.clock'):,} clocks")
    finally:
        await connection.close()


async def _count(connection: asyncpg.Connection, table: str) -> int:
    return int(await connection.fetchval(f"SELECT count(*) FROM {table}"))


def pages(number: str, stack: Stack) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    """(name, role, page, [(service, API path)]) — each page with the reads it rests on."""
    today = date.today()  # the stack's clock is the real one here
    month = (today.replace(day=1).isoformat(), today.isoformat())
    return [
        (
            "我的工单 · 办理中",
            "unit",
            "/unit?tab=handling",
            [("dispatch", "/v1/units/tianhe-urban/tickets?status=handling")],
        ),
        (
            "我的工单 · 即将超期",
            "unit",
            "/unit?tab=due_soon",
            [("sla", "/v1/dashboard/due-soon?group_by=unit&unit=tianhe-urban&limit=500")],
        ),
        (
            "热线事项",
            "unit",
            f"/tickets/{number}",
            [
                ("dispatch", f"/v1/tickets/{number}"),
                ("dispatch", f"/v1/tickets/{number}/history"),
                ("dispatch", f"/v1/tickets/{number}/actions"),
            ],
        ),
        (
            "待办台",
            "dispatcher",
            "/agency",
            [("dispatch", "/v1/queues"), ("dispatch", "/v1/queues/awaiting_dispatch")],
        ),
        (
            "查找（按诉求内容）",
            "dispatcher",
            "/search?q=井盖",
            [("dispatch", "/v1/tickets?q=井盖")],
        ),
        (
            "超期与督办",
            "supervisor",
            "/supervisor",
            [
                ("sla", "/v1/dashboard/overdue?group_by=district&limit=200"),
                ("sla", "/v1/dashboard/due-soon?group_by=district"),
                ("sla", "/v1/supervisions?open_only=true"),
            ],
        ),
        (
            "统计报表（本月）",
            "supervisor",
            "/reports",
            [
                ("sla", f"/v1/kpis/units?from={month[0]}&to={month[1]}"),
                ("sla", f"/v1/dashboard/volume?by=week&from={month[0]}&to={month[1]}"),
            ],
        ),
        (
            "统计报表（五个月）",
            "supervisor",
            "/reports?date_from=2026-08-01&date_to=2026-12-31",
            [
                ("sla", "/v1/kpis/units?from=2026-08-01&to=2026-12-31"),
                ("sla", "/v1/dashboard/volume?by=week&from=2026-08-01&to=2026-12-31"),
            ],
        ),
        ("受理来电", "agent", "/intake", [("intake", "/v1/catalogues/categories")]),
        (
            "系统管理 · 承办单位",
            "admin",
            "/admin?section=units",
            [("dispatch", "/v1/units?inactive=true")],
        ),
    ]


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(
    console: str, stack: Stack, number: str
) -> list[tuple[str, float, float, float, float]]:
    sessions = {
        "unit": token(Role.UNIT, "tianhe-urban"),
        "dispatcher": token(Role.DISPATCHER),
        "supervisor": token(Role.SUPERVISOR),
        "agent": token(Role.AGENT),
        "admin": token(Role.ADMIN),
    }
    results = []
    with httpx.Client(timeout=60) as http:
        for name, role, page, reads in pages(number, stack):
            cookies = {"hotline_session": sessions[role]}
            headers = {"Authorization": f"Bearer {sessions[role]}"}
            shown: list[float] = []
            direct: list[float] = []
            for i in range(SAMPLES + 3):
                started = time.perf_counter()
                answer = http.get(console + page, cookies=cookies)
                took = time.perf_counter() - started
                assert answer.status_code == 200, (page, answer.status_code, answer.text[:300])
                started = time.perf_counter()
                for service, path in reads:
                    http.get(stack[service].url + path, headers=headers).raise_for_status()
                base = time.perf_counter() - started
                if i >= 3:  # the first requests warm caches and connections
                    shown.append(took * 1000)
                    direct.append(base * 1000)
            results.append(
                (
                    name,
                    statistics.median(shown),
                    percentile(shown, 0.95),
                    statistics.median(direct),
                    percentile(direct, 0.95),
                )
            )
    return results


def main() -> None:
    server = DatabaseServer()
    server.create_template()
    database = server.copy_template("hotline_console_bench")
    url = server.url_for(database)
    logs = Path(tempfile.mkdtemp())
    stack = Stack(url, logs)
    stack.start()
    console = ServiceProcess("console", port=free_port(), env=stack["intake"].env, log_dir=logs)
    console.start()
    try:
        started = time.perf_counter()
        numbers = take_calls(stack)
        copies = max(0, TICKETS // REAL - 1)
        asyncio.run(clone(url, copies))
        print(f"seeded in {time.perf_counter() - started:.0f} s; {SAMPLES} requests a page")
        rows = measure(console.url, stack, numbers[1])
        print(f"{'page':<22}{'p50 ms':>9}{'p95 ms':>9}{'API p50':>9}{'API p95':>9}{'ratio':>8}")
        for name, p50, p95, b50, b95 in rows:
            print(f"{name:<22}{p50:>9.1f}{p95:>9.1f}{b50:>9.1f}{b95:>9.1f}{p95 / b95:>7.2f}×")
    finally:
        console.stop()
        stack.stop()
        if os.environ.get("BENCH_KEEP"):  # to look at plans: EXPLAIN on the seeded data
            print(f"kept {url}")
        else:
            server.drop(database)
        server.close()


if __name__ == "__main__":
    main()
