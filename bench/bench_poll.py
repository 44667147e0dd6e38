"""A unit's poll at a million tickets: GET /v1/units/{unit}/tickets over HTTP, as a unit's
own system polls it, for the largest unit and a typical one, with and without filters, and
the If-None-Match → 304 answer when nothing changed.

dispatch runs as a process on a fresh embedded PostgreSQL (or BENCH_DATABASE_URL's server)
holding 1,000,000 tickets over 201 units: `unit-big` leads a fifth of them, the 200 others
about 4,000 each, one ticket in fifty is co-handled by `unit-big` and `unit-3`. Each case is
requested 200 times in a row after 10 warm-ups; the script prints p50 and p99, and the 304
path beside a full 50-row page (their ratio). Run the same script on two trees to compare
implementations. Run: `.venv/bin/python bench/bench_poll.py` (BENCH_TICKETS to change the
count). Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from bench.stacks import fresh_stack  # noqa: E402
from shared.auth import Role, mint_token  # noqa: E402
from shared.db import asyncpg_dsn  # noqa: E402
from shared.settings import Settings  # noqa: E402

TICKETS = int(os.environ.get("BENCH_TICKETS", "1000000"))
SAMPLES, WARM_UP = 200, 10
SETTINGS = Settings(env="test")

SEED = """
INSERT INTO dispatch.ticket (id, number, ticket_type, category, district, summary, status,
    lead_unit, first_unit, co_handlers, received_at, handling_due_at, overdue, change_seq,
    created_at, updated_at)
SELECT 'T' || n, 'GZ' || lpad(n::text, 10, '0'), 'complaint', 'noise.construction',
    'district-' || (n % 11), '工地夜间施工，噪音扰民',
    (ARRAY['closed', 'closed', 'closed', 'handling', 'handling', 'dispatched', 'closed',
           'awaiting_evaluation', 'handling', 'closed'])[n % 10 + 1],
    CASE WHEN n % 5 = 0 THEN 'unit-big' ELSE 'unit-' || (n % 200) END,
    CASE WHEN n % 5 = 0 THEN 'unit-big' ELSE 'unit-' || (n % 200) END,
    CASE WHEN n % 50 = 1 THEN ARRAY['unit-big', 'unit-3'] ELSE '{{}}'::text[] END,
    now() - (n % 365) * interval '1 day', now() + (n % 40 - 10) * interval '1 day',
    n % 13 = 0, nextval('dispatch.ticket_change_seq'), now(), now()
FROM generate_series(1, {count}) n
"""


async def seed(url: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute(SEED.format(count=TICKETS))
        await connection.execute("ANALYZE dispatch.ticket")
    finally:
        await connection.close()


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(client: httpx.Client, path: str, headers: dict[str, str]) -> list[float]:
    for _ in range(WARM_UP):
        client.get(path, headers=headers)
    samples = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code in (200, 304), response.text
    return samples


def main() -> None:
    with fresh_stack("hotline_poll_bench") as (stack, url):
        started = time.perf_counter()
        asyncio.run(seed(url))
        print(f"seeded {TICKETS:,} tickets in {time.perf_counter() - started:.0f} s")
        stack["dispatch"].start()
        cases = [
            ("unit-big", "", "largest unit (200,000), 50 rows"),
            ("unit-big", "&status=handling", "largest unit, status=handling"),
            ("unit-big", "&overdue=true", "largest unit, overdue=true"),
            ("unit-3", "", "typical unit (4,000 + co-handled), 50 rows"),
            ("unit-3", "&status=handling", "typical unit, status=handling"),
        ]
        print(f"{'case':<46}{'p50 ms':>9}{'p99 ms':>9}")
        with httpx.Client(base_url=stack["dispatch"].url, timeout=60) as client:
            for unit, query, label in cases:
                token = mint_token(SETTINGS, role=Role.UNIT, subject="bench", unit_id=unit)
                headers = {"Authorization": f"Bearer {token}"}
                path = f"/v1/units/{unit}/tickets?limit=50{query}"
                page = timed(client, path, headers)
                print(f"{label:<46}{statistics.median(page):>9.1f}{percentile(page, 0.99):>9.1f}")
                if query:
                    continue
                etag = client.get(path, headers=headers).headers["ETag"]
                same = timed(client, path, {**headers, "If-None-Match": etag})
                ratio = statistics.median(page) / statistics.median(same)
                print(
                    f"{'  unchanged: If-None-Match → 304':<46}{statistics.median(same):>9.1f}"
                    f"{percentile(same, 0.99):>9.1f}   (a page's p50 / 304's p50: {ratio:.1f}×)"
                )


if __name__ == "__main__":
    main()
