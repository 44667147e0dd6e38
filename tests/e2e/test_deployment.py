"""docker-compose and Kubernetes run exactly the commands the suite starts and probes."""

from pathlib import Path

import pytest
import yaml

from hotline.cli import PORTS, SERVABLE, service_command
from tests.support.stack import ServiceProcess

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.mark.parametrize("service", SERVABLE)
def test_compose_serves_each_service_as_the_suite_does(compose, service, tmp_path):
    spec = compose["services"][service]
    assert spec["command"] == service_command(service, host="0.0.0.0", port=PORTS[service])
    started_by_tests = ServiceProcess(service, port=PORTS[service], env={}, log_dir=tmp_path)
    assert started_by_tests.argv[:3] == spec["command"][:3]
    probe = " ".join(spec["healthcheck"]["test"])
    assert f"127.0.0.1:{PORTS[service]}/readyz" in probe  # what ServiceProcess.wait_ready probes
    assert spec["image"] == compose["services"]["migrate"]["image"]
    assert spec["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_compose_migrates_before_serving_on_postgres_16(compose):
    assert compose["services"]["migrate"]["command"] == ["hotline", "migrate"]
    assert compose["services"]["migrate"]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert compose["services"]["postgres"]["image"] == "postgres:16"
    assert "healthcheck" in compose["services"]["postgres"]


def test_kubernetes_manifests_run_the_same_commands():
    documents = list(yaml.safe_load_all((ROOT / "deploy/k8s/hotline.yaml").read_text()))
    deployments = {d["metadata"]["name"]: d for d in documents if d["kind"] == "Deployment"}
    assert set(deployments) == set(SERVABLE)
    for service, deployment in deployments.items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["command"] == service_command(service, host="0.0.0.0", port=PORTS[service])
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_the_image_runs_only_the_locked_runtime_as_a_user():
    """Issue 19: the runtime stage carries the packages of requirements.lock and nothing of
    development (no test tools, no embedded PostgreSQL), and runs as a non-root user."""
    dockerfile = (ROOT / "deploy/Dockerfile").read_text()
    build, runtime = dockerfile.split("\nFROM ")[1:]  # the two stages, after the comments
    assert "pip install -r /src/requirements.lock" in build
    assert "python:3.11" in runtime and "pip install" not in runtime
    assert "USER 10001" in runtime
    assert "requirements-dev.lock" not in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".data", "tests", "requirements-dev.lock"} <= set(ignored)
    runtime_lock = (ROOT / "requirements.lock").read_text().lower()
    for tool in ("pytest", "playwright", "pgserver", "ruff", "mypy", "schemathesis"):
        assert f"\n{tool}==" not in runtime_lock, tool


def test_a_service_serves_with_several_worker_processes(fresh_database_url, tmp_path):
    """HOTLINE_WORKERS (`hotline serve --workers`): one port, several processes, each
    answering; stopping the service stops them all."""
    import httpx
    import psutil

    from tests.support.stack import Stack

    stack = Stack(fresh_database_url, tmp_path, workers="2")
    dispatch = stack["dispatch"]
    dispatch.start()
    try:
        assert dispatch.process is not None
        parent = psutil.Process(dispatch.process.pid)
        # uvicorn spawns its workers through multiprocessing (besides a resource tracker).
        workers = [
            p for p in parent.children(recursive=True) if "spawn_main" in " ".join(p.cmdline())
        ]
        answers = {httpx.get(f"{dispatch.url}/healthz").status_code for _ in range(20)}
    finally:
        dispatch.stop()
    assert len(workers) == 2 and answers == {200}
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in workers)
