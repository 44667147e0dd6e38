"""How well the knowledge base answers consultation questions, per question file.

intake runs as a process on a fresh embedded PostgreSQL with the knowledge base imported from
`data/kb` (as for every stack); each question of `tests/intake/kb_*.txt` is searched as the
call form does (top 3). A line is `question|what the right passage shows` (its section or
first words), `-` when the knowledge base cannot answer it; a file of bare questions holds
only those. Printed per file: the right passage first, in the top 3, counted as an answer
there (`relevant`), and how often a question it cannot answer is told so (`answered: false`).
With `--misses`, the questions it got wrong and what came first — for development files only:
looking at a fresh file's misses retires it (docs/classification.md).
Run: `.venv/bin/python bench/eval_kb.py [--misses] [file-name-part]`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from bench.stacks import fresh_stack  # noqa: E402
from shared.auth import Role, mint_token  # noqa: E402
from shared.settings import Settings  # noqa: E402


def question_files(part: str) -> list[Path]:
    return [p for p in sorted((ROOT / "tests/intake").glob("kb_*.txt")) if part in p.name]


def read(path: Path) -> list[tuple[str, str]]:
    """(question, expected) pairs; a file of bare questions holds ones it cannot answer."""
    lines = path.read_text(encoding="utf-8").splitlines()
    pairs = [(*line.split("|"), "-")[:2] for line in lines if line and not line.startswith("#")]
    return [(question, expected) for question, expected in pairs]


def main() -> None:
    show = "--misses" in sys.argv
    part = next((a for a in sys.argv[1:] if not a.startswith("--")), "")
    with fresh_stack("hotline_kb_eval") as (stack, _):
        stack["intake"].start()
        token = mint_token(Settings(env="test"), role=Role.AGENT, subject="eval")
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=stack["intake"].url, timeout=60, headers=headers) as client:
            for path in question_files(part):
                top1 = top3 = answered = told_none = none_asked = 0
                misses = []
                questions = read(path)
                for question, expected in questions:
                    found = client.get("/v1/kb/search", params={"q": question, "limit": 3})
                    found.raise_for_status()
                    body = found.json()
                    if expected == "-":
                        none_asked += 1
                        told_none += not body["answered"]
                        continue
                    items = body["items"]
                    right = [expected in (h["section"] or "") + h["text"][:80] for h in items]
                    top1 += bool(right[:1] and right[0])
                    top3 += any(right)
                    answered += any(r and h["relevant"] for r, h in zip(right, items, strict=True))
                    if not (right[:1] and right[0]):
                        first = items[0]["section"] or items[0]["text"][:30] if items else "—"
                        misses.append(f"  {question} | {expected} | first: {first}")
                asked = len(questions) - none_asked
                print(
                    f"{path.name}: first {top1}/{asked}, top 3 {top3}/{asked}, "
                    f"answer in top 3 {answered}/{asked}, no good answer {told_none}/{none_asked}"
                )
                if show:
                    print("\n".join(misses))


if __name__ == "__main__":
    main()
