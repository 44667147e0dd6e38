"""Signing in for real (issue 19): a person added by an administrator signs in with the CLI,
works with the token the identity service signed, is renewed when it lapses, and is
refused by every service within a minute of being disabled."""

import json
import time

import httpx
import pytest
from hotline_client.cli import app as cli
from typer.testing import CliRunner

from shared.auth import Role, mint_token
from shared.settings import Settings

SETTINGS = Settings(env="test")
PASSWORD = "Tianhe-gov-2026!"


@pytest.fixture
def signed_in_env(stack, tmp_path, monkeypatch):
    for service in ("intake", "dispatch", "sla", "identity"):
        monkeypatch.setenv(f"HOTLINE_{service.upper()}_URL", stack[service].url)
    monkeypatch.setenv("HOTLINE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("HOTLINE_TOKEN", raising=False)
    return tmp_path / "config" / "credentials.json"


def _hotline(*args: str, input: str | None = None):
    result = CliRunner().invoke(cli, list(args), input=input)
    return result


def test_a_person_signs_in_works_and_is_refused_within_a_minute_of_being_disabled(
    stack, signed_in_env
):
    admin = mint_token(SETTINGS, role=Role.ADMIN, subject="e2e-admin")
    added = _hotline(
        "--token",
        admin,
        "admin",
        "users",
        "add",
        "clerk",
        "--role",
        "unit",
        "--name",
        "王小明",
        "--unit",
        "tianhe-gov",
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert added.exit_code == 0, added.output
    wrong = _hotline("login", "clerk", input="not-the-password\n")
    assert wrong.exit_code == 3 and "用户名或密码错误" in wrong.output
    login = _hotline("login", "clerk", input=f"{PASSWORD}\n")
    assert login.exit_code == 0, login.output
    assert "王小明" in login.output and "tianhe-gov" in login.output
    stored = json.loads(signed_in_env.read_text())
    assert signed_in_env.stat().st_mode & 0o777 == 0o600

    mine = _hotline("unit", "tickets", "--unit", "tianhe-gov", "--json")
    assert mine.exit_code == 0, mine.output
    assert _hotline("whoami").output.startswith("王小明")

    # The access token lapses: the next command renews it with the refresh token.
    stored["expires_at"] = "2020-01-01T00:00:00Z"
    signed_in_env.write_text(json.dumps(stored))
    assert _hotline("whoami").exit_code == 0
    renewed = json.loads(signed_in_env.read_text())
    assert renewed["access_token"] != stored["access_token"]
    assert renewed["refresh_token"] != stored["refresh_token"]

    token = renewed["access_token"]
    polls = f"{stack['dispatch'].url}/v1/units/tianhe-gov/tickets"
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(polls, headers=headers).status_code == 200
    disabled = _hotline("--token", admin, "admin", "users", "disable", "clerk")
    assert disabled.exit_code == 0, disabled.output
    started = time.monotonic()
    refused = {}
    while time.monotonic() - started < 60 and len(refused) < 3:
        for service, path in (
            ("dispatch", "/v1/units/tianhe-gov/tickets"),
            ("sla", "/v1/calendar/years"),
            ("intake", "/v1/labels"),
        ):
            answer = httpx.get(f"{stack[service].url}{path}", headers=headers)
            if answer.status_code == 401:
                refused.setdefault(service, time.monotonic() - started)
        time.sleep(0.2)
    assert set(refused) == {"dispatch", "sla", "intake"}, refused
    assert _hotline("login", "clerk", input=f"{PASSWORD}\n").exit_code == 3
    changes = _hotline("--token", admin, "admin", "users", "changes", "clerk", "--json")
    actions = [c["action"] for c in json.loads(changes.output)["items"]]
    assert actions == ["disabled", "created"]
