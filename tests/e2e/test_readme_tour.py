"""The README's five-minute tour, run exactly as written against a running stack."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def tour_script() -> str:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- tour -->\s*```sh\n(.*?)```\s*<!-- /tour -->", readme, re.S)
    assert block, "README has no tour block"
    return block.group(1)


def test_the_readme_tour_runs_against_a_stack(stack, tmp_path):
    env = {
        **os.environ,
        "HOTLINE_INTAKE_URL": stack["intake"].url,
        "HOTLINE_DISPATCH_URL": stack["dispatch"].url,
        "HOTLINE_SLA_URL": stack["sla"].url,
        "HOTLINE_ENV": "test",
        "COLUMNS": "200",
    }
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", tour_script()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "noise.construction" in output  # classified
    assert "tianhe-urban" in output  # routed to Tianhe's urban management
    assert re.search(r"tianhe-urban\s*│\s*1", output), output[-3000:]  # overdue dashboard
    assert "满意度评价（evaluated）" in output and "已办结" in output  # labelled, in Chinese
    assert (
        "需协调多部门联合执法" in output and "已电话告知延期理由和新期限" in output
    )  # caller record
    assert '"overdue": 1' in output  # the KPIs count it late


def test_an_agent_takes_a_call_interactively(stack):
    env = {**os.environ, "HOTLINE_INTAKE_URL": stack["intake"].url, "HOTLINE_ENV": "test"}
    hotline = [sys.executable, "-m", "hotline"]
    token = subprocess.run(
        [*hotline, "dev-token", "agent"], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    # matter, phone, then accept each suggestion with Enter
    answers = "楼下大排档每天晚上吵到凌晨两点\n13900003333\n\n\n\n\n"
    result = subprocess.run(
        [*hotline, "--token", token, "agent", "take", "-i"],
        input=answers,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "热线事项 GZ" in result.stdout and "转派办理（submitted）" in result.stdout
    assert "[complaint]" in result.stdout  # the suggested type was offered as the default
    # Before confirming, the agent sees the category with its confidence and the alternatives.
    assert re.search(r"事项分类：\S+（\d+%.*其他可能：", result.stdout), result.stdout
