"""The suite's Kubernetes manifests, rendered from a few typed values (docs/decisions.md).

    python deploy/k8s/render.py --image registry.example/hotline12345@sha256:… \\
        --host 12345.example.gov.cn --release 2026.12.1 > hotline.yaml
    kubectl apply -f hotline.yaml

`make k8s` renders deploy/k8s/hotline.yaml with the defaults below (a test keeps that file
equal to this script's output, and validates every object against Kubernetes' schemas).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from typing import Any

import yaml

APP = "hotline12345"
# Who connects to whom inside the namespace (besides the ingress controller and monitoring):
# the console calls every API for its users; events and calls between the services; every
# service asks identity whom it signed out. Which service may post which event is enforced
# by the services' own keys, not the network.
CALLERS = {
    "console": (),
    "intake": ("console", "dispatch"),
    "dispatch": ("console", "intake", "sla"),
    "sla": ("console", "dispatch"),
    "identity": ("console", "intake", "dispatch", "sla"),
}
SIGNERS = ("intake", "dispatch", "sla", "identity")  # hold a signing key of their own
# Every container: the image's user, nothing written but /tmp, no privileges to gain.
LOCKED_DOWN = {
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "runAsGroup": 10001,
    "readOnlyRootFilesystem": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


@dataclass(frozen=True)
class Sizing:
    """Memory requested and allowed (MiB), and CPU requested (millicores)."""

    memory_mi: int
    memory_limit_mi: int
    cpu_m: int


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    sizing: Sizing
    replicas: int = 2
    max_replicas: int = 6


# Resident memory measured after warm-up and 300 calls taken, classified and searched, 100
# dispatched, 50 polls, dashboards and KPIs (docs/operations.md, Sizing): console 109 MiB,
# intake 296, dispatch 124, sla 125, identity 114 (+ 64 MiB for each of at most two
# password hashes at once). Requests about 1.2x that, limits about 2x.
SERVICES = (
    Service("console", 8000, Sizing(128, 256, 100)),
    Service("intake", 8001, Sizing(360, 640, 250)),
    Service("dispatch", 8002, Sizing(160, 320, 250)),
    Service("sla", 8003, Sizing(160, 320, 250)),
    Service("identity", 8004, Sizing(256, 448, 100)),
)


@dataclass(frozen=True)
class Values:
    image: str = f"registry.example.gov.cn/{APP}@sha256:{'0' * 64}"
    host: str = "12345.example.gov.cn"
    # Citizens' host on the internet: only intake's public pages, endpoints and Open311.
    public_host: str = "www.12345.example.gov.cn"
    tls_secret: str = "hotline-tls"
    release: str = "0.1.0"
    namespace: str = "hotline"
    ingress_namespace: str = "ingress-nginx"
    monitoring_namespace: str = "monitoring"
    services: tuple[Service, ...] = field(default=SERVICES)


def _labels(service: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": service, "app.kubernetes.io/part-of": APP}


def _meta(name: str, values: Values, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": values.namespace, "labels": _labels(name), **extra}


def _env(service: str) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [
        {
            "name": "HOTLINE_PUBLIC_KEYS",
            "valueFrom": {
                "configMapKeyRef": {"name": "hotline-public-keys", "key": "public-keys.json"}
            },
        }
    ]
    if service in SIGNERS:
        env += [
            {"name": "HOTLINE_SIGNING_KEY_ID", "value": service},
            {"name": "HOTLINE_SIGNING_KEY", "value": f"/var/run/hotline/keys/{service}.pem"},
        ]
    return env


def _container(service: Service, values: Values) -> dict[str, Any]:
    probe = {"httpGet": {"path": "/readyz", "port": service.port}}
    mounts = [{"name": "tmp", "mountPath": "/tmp"}]
    if service.name in SIGNERS:
        mounts.append(
            {"name": "signing-key", "mountPath": "/var/run/hotline/keys", "readOnly": True}
        )
    return {
        "name": service.name,
        "image": values.image,
        "command": [
            "hotline",
            "serve",
            service.name,
            "--host",
            "0.0.0.0",
            "--port",
            str(service.port),
        ],
        "ports": [{"name": "http", "containerPort": service.port}],
        "envFrom": [
            {"configMapRef": {"name": "hotline-config"}},
            {"secretRef": {"name": "hotline-secrets"}},
        ],
        "env": _env(service.name),
        "resources": {
            "requests": {
                "cpu": f"{service.sizing.cpu_m}m",
                "memory": f"{service.sizing.memory_mi}Mi",
            },
            "limits": {"memory": f"{service.sizing.memory_limit_mi}Mi"},
        },
        # Starting includes warming up (intake's classifier, sla's calendar): up to 5 min.
        "startupProbe": {**probe, "periodSeconds": 5, "failureThreshold": 60},
        "readinessProbe": {**probe, "periodSeconds": 5},
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": service.port},
            "periodSeconds": 10,
        },
        "securityContext": LOCKED_DOWN,
        "volumeMounts": mounts,
    }


def _deployment(service: Service, values: Values) -> dict[str, Any]:
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}]
    if service.name in SIGNERS:
        volumes.append(
            {
                "name": "signing-key",
                "secret": {
                    "secretName": "hotline-signing-keys",
                    "items": [{"key": f"{service.name}.pem", "path": f"{service.name}.pem"}],
                    "defaultMode": 0o400,
                },
            }
        )
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(service.name, values),
        "spec": {
            "replicas": service.replicas,
            "selector": {"matchLabels": _labels(service.name)},
            "strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {
                    "labels": {
                        **_labels(service.name),
                        "app.kubernetes.io/version": values.release,
                    },
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(service.port),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": {"fsGroup": 10001},
                    "terminationGracePeriodSeconds": 20,
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": key,
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": {"matchLabels": _labels(service.name)},
                        }
                        for key in ("kubernetes.io/hostname", "topology.kubernetes.io/zone")
                    ],
                    "containers": [_container(service, values)],
                    "volumes": volumes,
                },
            },
        },
    }


def _service(service: Service, values: Values) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(service.name, values),
        "spec": {
            "selector": _labels(service.name),
            "ports": [{"name": "http", "port": service.port, "targetPort": "http"}],
        },
    }


def _budget(service: Service, values: Values) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(service.name, values),
        "spec": {"minAvailable": 1, "selector": {"matchLabels": _labels(service.name)}},
    }


def _autoscaler(service: Service, values: Values) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(service.name, values),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": service.name},
            "minReplicas": service.replicas,
            "maxReplicas": service.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                }
            ],
        },
    }


def _network_policy(service: Service, values: Values) -> dict[str, Any]:
    def namespace(name: str) -> dict[str, Any]:
        return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}

    peers = [{"podSelector": {"matchLabels": _labels(caller)}} for caller in CALLERS[service.name]]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(service.name, values),
        "spec": {
            "podSelector": {"matchLabels": _labels(service.name)},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [
                        *peers,
                        namespace(values.ingress_namespace),
                        namespace(values.monitoring_namespace),
                    ],
                    "ports": [{"port": service.port, "protocol": "TCP"}],
                }
            ],
        },
    }


def _host(service: str, values: Values) -> str:
    return values.host if service == "console" else f"{service}.{values.host}"


def _ingress(values: Values) -> dict[str, Any]:
    hosts = [_host(s.name, values) for s in values.services]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _meta(
            APP, values, annotations={"nginx.ingress.kubernetes.io/proxy-body-size": "8m"}
        ),
        "spec": {
            "tls": [{"hosts": hosts, "secretName": values.tls_secret}],
            "rules": [
                {
                    "host": _host(s.name, values),
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {
                                    "service": {"name": s.name, "port": {"number": s.port}}
                                },
                            }
                        ]
                    },
                }
                for s in values.services
            ],
        },
    }


# What citizens and civic apps reach from the internet (docs/citizens.md); nothing else.
PUBLIC_PATHS = ("/public", "/v1/public", "/open311")


def _public_ingress(values: Values) -> dict[str, Any]:
    intake = next(s for s in values.services if s.name == "intake")
    backend = {"service": {"name": intake.name, "port": {"number": intake.port}}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _meta(
            f"{APP}-public",
            values,
            annotations={"nginx.ingress.kubernetes.io/proxy-body-size": "8m"},
        ),
        "spec": {
            "tls": [{"hosts": [values.public_host], "secretName": values.tls_secret}],
            "rules": [
                {
                    "host": values.public_host,
                    "http": {
                        "paths": [
                            {"path": path, "pathType": "Prefix", "backend": backend}
                            for path in PUBLIC_PATHS
                        ]
                    },
                }
            ],
        },
    }


def _config(values: Values) -> dict[str, Any]:
    urls = {
        f"HOTLINE_{s.name.upper()}_URL": f"http://{s.name}:{s.port}"
        for s in values.services
        if s.name != "console"
    }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta("hotline-config", values),
        # The network policies admit only the ingress controller, peers and monitoring: the
        # address X-Forwarded-For names is the citizen's (the public limits count by it).
        "data": {"HOTLINE_ENV": "production", "HOTLINE_TRUSTED_PROXIES": "*", **urls},
    }


def _migration(values: Values) -> dict[str, Any]:
    # A Job per release (its name carries the release), so a new release migrates again and
    # re-applying the same release changes nothing; finished Jobs go after a day.
    name = "hotline-migrate-" + re.sub(r"[^a-z0-9-]", "-", values.release.lower())[:40]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta(name, values),
        "spec": {
            "backoffLimit": 3,
            "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {"labels": _labels(name)},
                "spec": {
                    "restartPolicy": "OnFailure",
                    "automountServiceAccountToken": False,
                    "containers": [
                        {
                            "name": "migrate",
                            "image": values.image,
                            "command": ["hotline", "migrate"],
                            "envFrom": [
                                {"configMapRef": {"name": "hotline-config"}},
                                {"secretRef": {"name": "hotline-secrets"}},
                            ],
                            "env": _env("migrate"),
                            "resources": {
                                "requests": {"cpu": "250m", "memory": "512Mi"},
                                "limits": {"memory": "1Gi"},
                            },
                            "securityContext": LOCKED_DOWN,
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                        }
                    ],
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                },
            },
        },
    }


def manifests(values: Values) -> list[dict[str, Any]]:
    """Every object, the migration Job first (apply it and wait, then the rest)."""
    objects = [_migration(values), _config(values)]
    for service in values.services:
        objects += [
            _deployment(service, values),
            _service(service, values),
            _budget(service, values),
            _autoscaler(service, values),
            _network_policy(service, values),
        ]
    return [*objects, _ingress(values), _public_ingress(values)]


HEADER = """\
# Rendered by deploy/k8s/render.py (`make k8s`); do not edit by hand.
# Before applying (docs/identity.md, docs/operations.md): namespace {namespace};
#   Secret hotline-secrets: DATABASE_URL, HOTLINE_SESSION_SECRET, HOTLINE_PII_KEY;
#   Secret hotline-signing-keys: <service>.pem of each issuer (`hotline generate-keys`);
#   ConfigMap hotline-public-keys: public-keys.json; Secret {tls}: the TLS certificate
#   (of the workbench's host, the services' and the citizens' public host).
# Apply the migration Job first and wait for it, then the rest.
"""


class _Plain(yaml.SafeDumper):
    """Writes a value shared by several objects out each time (no &anchors): every object
    reads on its own."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render(values: Values) -> str:
    documents = yaml.dump_all(manifests(values), Dumper=_Plain, sort_keys=False, allow_unicode=True)
    return HEADER.format(namespace=values.namespace, tls=values.tls_secret) + "---\n" + documents


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = Values()
    parser.add_argument("--image", default=defaults.image, help="the image by digest (…@sha256:…)")
    parser.add_argument(
        "--host", default=defaults.host, help="the workbench's host; APIs at <service>.<host>"
    )
    parser.add_argument(
        "--public-host", default=defaults.public_host, help="citizens' host on the internet"
    )
    parser.add_argument("--tls-secret", default=defaults.tls_secret)
    parser.add_argument("--release", default=defaults.release, help="names the migration Job")
    parser.add_argument("--namespace", default=defaults.namespace)
    parser.add_argument("--ingress-namespace", default=defaults.ingress_namespace)
    parser.add_argument("--monitoring-namespace", default=defaults.monitoring_namespace)
    options = parser.parse_args(argv)
    if "@sha256:" not in options.image:
        parser.error("--image must name the image by digest (…@sha256:…), never by a tag")
    values = Values(**{k: v for k, v in vars(options).items()})
    sys.stdout.write(render(values))


if __name__ == "__main__":
    main()
