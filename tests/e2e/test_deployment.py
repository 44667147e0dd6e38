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


def _render():
    """deploy/k8s/render.py, loaded from its file (it is a script, not a package)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("k8s_render", ROOT / "deploy/k8s/render.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def kubernetes() -> list[dict]:
    return list(yaml.safe_load_all((ROOT / "deploy/k8s/hotline.yaml").read_text()))


def test_the_kubernetes_manifests_are_the_renderers_and_valid_against_the_schemas(kubernetes):
    import kubernetes_validate

    render = _render()
    assert (ROOT / "deploy/k8s/hotline.yaml").read_text() == render.render(render.Values())
    for document in kubernetes:
        kubernetes_validate.validate(document, "1.30", strict=True)  # raises on any fault


def test_kubernetes_manifests_run_the_same_commands(kubernetes):
    deployments = {d["metadata"]["name"]: d for d in kubernetes if d["kind"] == "Deployment"}
    assert set(deployments) == set(SERVABLE)
    for service, deployment in deployments.items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["command"] == service_command(service, host="0.0.0.0", port=PORTS[service])
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_every_service_is_operable_in_a_cluster(kubernetes):
    """Issue 19: probes for start-up, resources, a locked-down container, a disruption
    budget, autoscaling, scraping, and the image by digest, for every service."""
    by_kind: dict[str, dict[str, dict]] = {}
    for document in kubernetes:
        by_kind.setdefault(document["kind"], {})[document["metadata"]["name"]] = document
    for service in SERVABLE:
        template = by_kind["Deployment"][service]["spec"]["template"]
        [container] = template["spec"]["containers"]
        assert {"startupProbe", "readinessProbe", "livenessProbe"} <= set(container)
        assert {"requests", "limits"} <= set(container["resources"])
        guarded = container["securityContext"]
        assert guarded["runAsNonRoot"] and guarded["readOnlyRootFilesystem"]
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
        assert "@sha256:" in container["image"]
        assert template["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
        assert template["spec"]["topologySpreadConstraints"]
        assert by_kind["PodDisruptionBudget"][service]["spec"]["minAvailable"] == 1
        assert by_kind["HorizontalPodAutoscaler"][service]["spec"]["maxReplicas"] > 2
    [migration] = by_kind["Job"].values()
    assert migration["metadata"]["name"] == "hotline-migrate-0-1-0"  # one per release
    hosts = by_kind["Ingress"]["hotline12345"]["spec"]["tls"][0]["hosts"]
    assert "12345.example.gov.cn" in hosts and "identity.12345.example.gov.cn" in hosts
    # Issue 20: the internet reaches intake's public pages, endpoints and Open311, nothing else.
    [public] = by_kind["Ingress"]["hotline12345-public"]["spec"]["rules"]
    routes = {(p["path"], p["backend"]["service"]["name"]) for p in public["http"]["paths"]}
    assert routes == {("/public", "intake"), ("/v1/public", "intake"), ("/open311", "intake")}


def test_network_policies_let_each_service_be_reached_only_by_its_callers(kubernetes):
    def callers(service: str) -> set[str]:
        [policy] = [
            d
            for d in kubernetes
            if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == service
        ]
        sources = policy["spec"]["ingress"][0]["from"]
        return {
            s["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
            for s in sources
            if "podSelector" in s
        }

    assert callers("console") == set()  # people come through the ingress controller only
    assert callers("intake") == {"console", "dispatch"}
    assert callers("sla") == {"console", "dispatch"}
    assert callers("identity") == {"console", "intake", "dispatch", "sla"}


def test_a_service_holds_only_its_own_signing_key(kubernetes):
    for document in kubernetes:
        if document["kind"] != "Deployment":
            continue
        service = document["metadata"]["name"]
        volumes = {v["name"]: v for v in document["spec"]["template"]["spec"]["volumes"]}
        keys = [i["key"] for i in volumes.get("signing-key", {}).get("secret", {}).get("items", [])]
        assert keys == ([] if service == "console" else [f"{service}.pem"])


def test_the_renderer_refuses_an_image_by_tag(capsys):
    with pytest.raises(SystemExit):
        _render().main(["--image", "registry.example/hotline12345:latest"])
    assert "by digest" in capsys.readouterr().err


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
