"""The services as real processes over real HTTP, started as deployments start them."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from hotline.cli import service_command
from shared.db import SERVICES

# Ports below the kernel's ephemeral range (32768 and up on Linux): a service restarted on
# its port never finds it taken by the local end of some outbound connection, which takes
# its port from that range (CI once saw dispatch's port so taken between two runs).
PORTS_FROM, PORTS_TO = 20000, 32000


def free_port() -> int:
    return free_port_range(1)


def free_port_range(count: int) -> int:
    """The first of ``count`` consecutive free ports (``hotline run`` takes a base port)."""
    for _ in range(200):
        base = random.randint(PORTS_FROM, PORTS_TO - count)
        if all(_is_free(base + i) for i in range(count)):
            return base
    raise RuntimeError("no free port range")


def _is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class ServiceProcess:
    """One service served by ``hotline serve``, stoppable and restartable."""

    def __init__(self, service: str, *, port: int, env: dict[str, str], log_dir: Path) -> None:
        self.service = service
        self.port = port
        self.env = env
        self.log_path = log_dir / f"{service}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def argv(self) -> list[str]:
        return service_command(self.service, host="127.0.0.1", port=self.port)

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", *self.argv], env=self.env, stdout=log, stderr=log
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Probe /readyz as a deployment's health check does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.service} exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.service} not ready after {timeout} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


class Stack:
    """intake, dispatch, sla and identity on free ports against one database."""

    def __init__(self, database_url: str, log_dir: Path, **settings: str) -> None:
        ports = {service: free_port() for service in SERVICES}
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "HOTLINE_ENV": "test",
            "HOTLINE_DATA_DIR": str(log_dir),  # the notification sink, the test's own
            # Quick retries, so that a test waits seconds, not minutes, for a restarted peer.
            "HOTLINE_RELAY_SWEEP_SECONDS": "0.5",
            "HOTLINE_RELAY_MAX_BACKOFF_SECONDS": "1",
            "HOTLINE_SLA_SCAN_SECONDS": "0.5",
            "HOTLINE_SIGNED_OUT_POLL_SECONDS": "1",
            **{f"HOTLINE_{s.upper()}_URL": f"http://127.0.0.1:{p}" for s, p in ports.items()},
            **{f"HOTLINE_{k.upper()}": v for k, v in settings.items()},
        }
        self.services = {
            s: ServiceProcess(s, port=p, env=env, log_dir=log_dir) for s, p in ports.items()
        }

    def __getitem__(self, service: str) -> ServiceProcess:
        return self.services[service]

    def start(self) -> None:
        for process in self.services.values():
            process.start()

    def stop(self) -> None:
        for process in self.services.values():
            process.stop()

    def advance_clock(self, admin_token: str, **delta: float) -> None:
        """Move every service's development clock forward by the same amount."""
        for process in self.services.values():
            response = httpx.post(
                f"{process.url}/v1/dev/clock/advance",
                json=delta,
                headers={"Authorization": f"Bearer {admin_token}"},
            )
            response.raise_for_status()
