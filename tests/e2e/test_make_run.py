"""`make run`'s command: embedded PostgreSQL, migrations, the services; Ctrl-C; resume."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from uuid import uuid4

import httpx

from shared.auth import Role, mint_token
from shared.settings import get_settings
from tests.support.stack import free_port_range


def _start(data_dir: Path, base_port: int, log: Path) -> subprocess.Popen:
    """``hotline run`` with the services from ``base_port`` and the console after them."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hotline",
            "run",
            "--data-dir",
            str(data_dir),
            "--base-port",
            str(base_port),
            "--console-port",
            str(base_port + 4),
        ],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # so that the test can Ctrl-C it like a terminal does
    )


def _wait_for_tokens(process: subprocess.Popen, log: Path) -> dict[str, str]:
    deadline = time.monotonic() + 300  # a first start on a loaded host: initdb, migrations, a model
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        text = log.read_text()
        if "Development tokens" in text:
            lines = text.split("Development tokens", 1)[1].splitlines()[1:]
            tokens = dict(line.split() for line in lines if len(line.split()) == 2)
            if "sla" not in text or "guidance" not in tokens:  # the last one printed
                time.sleep(0.1)
                continue
            return tokens
        time.sleep(0.2)
    raise TimeoutError(log.read_text()[-3000:])


def _ctrl_c(process: subprocess.Popen) -> int:
    os.killpg(process.pid, signal.SIGINT)
    return process.wait(timeout=60)


def test_run_serves_the_services_and_resumes_with_the_same_data(tmp_path):
    data_dir, base_port = tmp_path / "data", free_port_range(5)
    ports = [base_port + n for n in range(5)]  # intake, dispatch, sla, identity; the console
    event = {
        "id": str(uuid4()),
        "type": "test.marker.v1",
        "source": "intake",
        "occurred_at": "2026-11-23T01:30:00+00:00",
        "payload": {},
    }
    # The stack's services mint their own tokens with the development secret; so does this.
    as_intake = mint_token(get_settings(), role=Role.SERVICE, subject="intake")

    first = _start(data_dir, base_port, tmp_path / "first.log")
    try:
        tokens = _wait_for_tokens(first, tmp_path / "first.log")
        assert set(tokens) == {
            "agent",
            "dispatcher",
            "unit",
            "sub_unit",
            "supervisor",
            "admin",
            "inspector",
            "guidance",
        }
        for port in ports:
            assert httpx.get(f"http://127.0.0.1:{port}/readyz").json()["status"] == "ready"
        marked = httpx.post(
            f"http://127.0.0.1:{ports[1]}/v1/events",
            json=event,
            headers={"Authorization": f"Bearer {as_intake}"},
        )
        assert marked.json()["status"] == "applied"
    finally:
        assert _ctrl_c(first) == 0
    assert not (data_dir / "pg" / "postmaster.pid").exists()  # the database stopped too
    for port in ports:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            raise AssertionError(f"port {port} still answers")
        except httpx.TransportError:
            pass

    second = _start(data_dir, base_port, tmp_path / "second.log")
    try:
        tokens = _wait_for_tokens(second, tmp_path / "second.log")
        again = httpx.post(
            f"http://127.0.0.1:{ports[1]}/v1/events",
            json=event,
            headers={"Authorization": f"Bearer {as_intake}"},
        )
        assert again.json()["status"] == "duplicate"  # the first run's data is still there
    finally:
        assert _ctrl_c(second) == 0
