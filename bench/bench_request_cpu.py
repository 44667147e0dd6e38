"""The server's CPU per request on small endpoints: what every request pays before its work.

dispatch runs as a process on a fresh embedded PostgreSQL (or BENCH_DATABASE_URL's server);
one client sends 3,000 requests of each kind in a row over a kept-alive connection, and the
script reads the server process's own CPU time (user + system) before and after. Beside each
authenticated endpoint it prints `/healthz` (no authentication, no database) as the baseline,
and the ratio. Run the same script on two trees to compare. Run:
`.venv/bin/python bench/bench_request_cpu.py`. Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from bench.stacks import fresh_stack  # noqa: E402
from shared.auth import Role, mint_token  # noqa: E402
from shared.settings import Settings  # noqa: E402

REQUESTS = int(__import__("os").environ.get("BENCH_REQUESTS", "3000"))


def cpu_ms_per_request(
    client: httpx.Client, server: psutil.Process, path: str, headers: dict[str, str]
) -> float:
    for _ in range(100):  # warm-up
        client.get(path, headers=headers)
    before = server.cpu_times()
    for _ in range(REQUESTS):
        response = client.get(path, headers=headers)
        assert response.status_code in (200, 304), response.text
    after = server.cpu_times()
    used = (after.user - before.user) + (after.system - before.system)
    return used / REQUESTS * 1000


def main() -> None:
    with fresh_stack("hotline_cpu_bench") as (stack, _):
        stack["dispatch"].start()
        process = stack["dispatch"].process
        assert process is not None
        dispatch = psutil.Process(process.pid)
        token = mint_token(Settings(env="test"), role=Role.UNIT, subject="bench", unit_id="u1")
        authorised = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=stack["dispatch"].url, timeout=60) as client:
            poll = "/v1/units/u1/tickets?limit=50"
            etag = client.get(poll, headers=authorised).headers["ETag"]
            cases = [
                ("GET /healthz (baseline)", "/healthz", {}),
                ("GET /v1/labels (authenticated)", "/v1/labels", authorised),
                (
                    "unit poll, unchanged → 304 (one query)",
                    poll,
                    {**authorised, "If-None-Match": etag},
                ),
            ]
            started = time.perf_counter()
            measured = [(label, cpu_ms_per_request(client, dispatch, path, headers))
                        for label, path, headers in cases]  # fmt: skip
        baseline = measured[0][1]
        print(f"{REQUESTS} requests a case, {time.perf_counter() - started:.0f} s")
        print(f"{'request':<42}{'server CPU ms':>15}{'× baseline':>12}")
        for label, ms in measured:
            print(f"{label:<42}{ms:>15.3f}{ms / baseline:>11.1f}×")


if __name__ == "__main__":
    main()
