"""How fast intake answers an agent's two reads during a call: `POST /v1/classify` (phrases,
cues, the model, places, related tickets and knowledge-base answers) and `GET
/v1/kb/search`.

intake runs as a process on a fresh embedded PostgreSQL (or BENCH_DATABASE_URL's server),
the knowledge base imported from `data/kb` at migration, as for every stack; one client
sends each request in turn, as an agent's workbench does. The first classification after
`/readyz` says ready is timed on its own (models warm before ready), then 10 warm-ups and
BENCH_READS (300) requests a case; the baseline is `/healthz` (no authentication, no
database) timed the same way. Calls come from the evaluation files, questions from the
knowledge-base question files. Run: `.venv/bin/python bench/bench_intake_reads.py`. Results
go to docs/benchmarks.md.
"""

from __future__ import annotations

import csv
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from bench.stacks import fresh_stack  # noqa: E402
from shared.auth import Role, mint_token  # noqa: E402
from shared.settings import Settings  # noqa: E402

READS = int(os.environ.get("BENCH_READS", "300"))


def calls() -> list[str]:
    found = []
    for path in sorted((ROOT / "services/intake/classify/evaluation").glob("*.tsv")):
        with path.open(encoding="utf-8") as handle:
            found += [r["text"] for r in csv.DictReader(handle, delimiter="\t")]
    return found


def questions() -> list[str]:
    found = []
    for path in sorted((ROOT / "tests/intake").glob("kb_*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                found.append(line.split("|")[0])
    return found


def timed(send: Callable[[int], httpx.Response]) -> list[float]:
    for i in range(10):
        send(i)
    took = []
    for i in range(READS):
        started = time.perf_counter()
        response = send(i)
        took.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return took


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    texts, asked = calls(), questions()
    with fresh_stack("hotline_reads_bench") as (stack, _):
        stack["intake"].start()
        token = mint_token(Settings(env="test"), role=Role.AGENT, subject="bench")
        agent = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=stack["intake"].url, timeout=60) as client:
            started = time.perf_counter()
            first = client.post("/v1/classify", json={"text": texts[0]}, headers=agent)
            first_ms = (time.perf_counter() - started) * 1000
            assert first.status_code == 200, first.text
            cases = {
                "GET /healthz (baseline)": timed(lambda i: client.get("/healthz")),
                "POST /v1/classify": timed(
                    lambda i: client.post(
                        "/v1/classify",
                        json={"text": texts[i % len(texts)], "caller_phone": "13800000000"},
                        headers=agent,
                    )
                ),
                "GET /v1/kb/search": timed(
                    lambda i: client.get(
                        "/v1/kb/search", params={"q": asked[i % len(asked)]}, headers=agent
                    )
                ),
            }
    print(f"{READS} requests a case; {len(texts)} calls, {len(asked)} questions")
    print(f"first classification after ready: {first_ms:.1f} ms")
    base = p(cases["GET /healthz (baseline)"], 99)
    print(f"{'request':<28}{'p50 ms':>9}{'p99 ms':>9}{'p99 × baseline':>16}")
    for label, took in cases.items():
        print(f"{label:<28}{p(took, 50):>9.1f}{p(took, 99):>9.1f}{p(took, 99) / base:>15.1f}×")


if __name__ == "__main__":
    main()
