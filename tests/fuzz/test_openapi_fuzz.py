"""Fuzzing every operation of the three services' OpenAPI documents (schemathesis).

Run with ``make fuzz`` (not part of ``make test``: it takes minutes). The three services run
as real processes on a database of their own; every operation gets generated requests —
valid and invalid — under a token of a role it admits, so that bodies, paths and queries are
parsed rather than refused at the door. Any answer of 500 or more is a finding. The number
of examples per operation is ``FUZZ_EXAMPLES`` (default 25).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as examples

from shared.auth import Role, mint_token
from shared.db import SERVICES
from shared.settings import get_settings
from tests.support.databases import DatabaseServer
from tests.support.routes import guarded_routes
from tests.support.stack import Stack

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
# Whom to be for an operation: the first role of these it admits.
PREFERENCE = [Role.ADMIN, Role.DISPATCHER, Role.AGENT, Role.UNIT, Role.SUPERVISOR, Role.SUB_UNIT]
# The peer a service identity stands for, per receiving service.
PEER = {"intake": "dispatch", "dispatch": "intake", "sla": "dispatch"}


@pytest.fixture(scope="module")
def stack(database_server: DatabaseServer, tmp_path_factory) -> Iterator[Stack]:
    name = database_server.copy_template("hotline_fuzz")
    stack = Stack(database_server.url_for(name), tmp_path_factory.mktemp("fuzz"))
    stack.start()
    yield stack
    stack.stop()
    database_server.drop(name)


def _token(service: str, admitted: frozenset[Role]) -> str:
    settings = get_settings()
    role = next((r for r in PREFERENCE if r in admitted), Role.SERVICE)
    unit = {Role.UNIT: "tianhe-urban", Role.SUB_UNIT: "tianhe-street-07"}.get(role)
    subject = PEER[service] if role is Role.SERVICE else f"fuzz-{role.value}"
    return mint_token(settings, role=role, subject=subject, unit_id=unit)


def _fuzz(operation, *, base_url: str, headers: dict[str, str], findings: list[str]) -> None:
    """Send ``EXAMPLES`` generated requests to one operation; note every 5xx."""

    @given(case=operation.as_strategy())
    @examples(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def exercise(case) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=60)
        if response.status_code >= 500:
            findings.append(
                f"{case.method} {response.request.url} → {response.status_code} "
                f"{response.text[:200]}"
            )

    exercise()


@pytest.mark.parametrize("service", SERVICES)
def test_no_generated_request_is_answered_with_a_server_error(
    stack, service, settings, tmp_path: Path
):
    # Only read for its routes and the roles they admit; it never connects.
    app = import_module(f"{service}.app").build_app(settings=settings, run_relay=False)
    admitted = {(method, path): roles for method, path, roles in guarded_routes(app)}
    base_url = stack[service].url
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    findings: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        key = (operation.method.upper(), operation.path)
        if key not in admitted or operation.path.startswith("/v1/dev/"):
            continue  # health, readiness, metrics; the dev clock moves the whole stack's time
        headers = {"Authorization": f"Bearer {_token(service, admitted[key])}"}
        operations += 1

        _fuzz(operation, base_url=base_url, headers=headers, findings=findings)
    (tmp_path / "findings.txt").write_text("\n".join(findings))
    assert operations >= 5
    assert findings == [], f"{len(findings)} server errors:\n" + "\n".join(findings[:40])
