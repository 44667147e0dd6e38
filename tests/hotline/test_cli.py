"""The operator commands of `hotline`."""

from typer.testing import CliRunner

from hotline.cli import app
from shared.auth import Principal, Role, decode_token
from shared.settings import Settings
from tests.support.production import production_env

runner = CliRunner()


def test_dev_token_mints_a_valid_token_for_a_unit(monkeypatch):
    monkeypatch.delenv("HOTLINE_ENV", raising=False)
    result = runner.invoke(app, ["dev-token", "unit", "--unit", "tianhe-gov"])
    assert result.exit_code == 0, result.output
    principal = decode_token(Settings(), result.output.strip())
    assert principal == Principal("dev-unit", Role.UNIT, "tianhe-gov")


def test_dev_token_needs_a_unit_for_unit_roles():
    result = runner.invoke(app, ["dev-token", "sub_unit"])
    assert result.exit_code == 2
    assert "--unit" in result.output


def test_dev_token_is_refused_in_production(monkeypatch):
    from shared.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/hotline")
    for name, value in production_env().items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["dev-token", "admin"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "refused" in result.output


def test_unknown_role_and_service_are_usage_errors():
    assert runner.invoke(app, ["dev-token", "mayor"]).exit_code == 2
    assert runner.invoke(app, ["serve", "billing"]).exit_code == 2


def test_migrate_without_a_database_says_so(monkeypatch):
    from shared.settings import get_settings

    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["migrate"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "DATABASE_URL" in result.output


def test_rotate_pii_key_reseals_every_ticket_in_batches_and_says_so(
    monkeypatch, fresh_database_url, settings, clock, client_for
):
    import asyncio

    from intake.app import build_app
    from intake.privacy import key_id
    from pydantic import SecretStr
    from sqlalchemy import text

    from shared.db import make_engine
    from shared.settings import get_settings
    from tests.intake.conftest import CALL
    from tests.intake.test_citizens_api import FORM, _solved

    async def take_two() -> None:
        engine = make_engine(fresh_database_url, pool_size=2)
        old = settings.model_copy(
            update={"pii_key": SecretStr("o" * 44), "public_challenge_bits": 4}
        )
        app = build_app(settings=old, engine=engine, clock=clock, run_relay=False)
        try:
            async with client_for(app, Role.AGENT) as client:
                for _ in range(2):
                    assert (await client.post("/v1/tickets", json=CALL)).status_code == 201
            async with client_for(app) as citizen:  # and one submission awaiting review
                form = {**FORM, **await _solved(citizen)}
                sent = await citizen.post("/v1/public/submissions", data=form)
                assert sent.status_code == 201, sent.text
        finally:
            await engine.dispose()

    async def key_ids() -> list[str]:
        engine = make_engine(fresh_database_url, pool_size=1)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    text(
                        "SELECT pii_key_id FROM intake.ticket"
                        " UNION ALL SELECT pii_key_id FROM intake.submission"
                    )
                )
                return [r[0] for r in rows]
        finally:
            await engine.dispose()

    asyncio.run(take_two())
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("HOTLINE_PII_KEY", "n" * 44)
    monkeypatch.setenv("HOTLINE_PII_RETIRED_KEYS", f'["{"o" * 44}"]')
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["rotate-pii-key", "--batch", "1"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "done: 2 batch(es) and 1 submission(s)" in result.output
    assert asyncio.run(key_ids()) == [key_id("n" * 44)] * 3


def test_generate_keys_writes_a_private_key_per_issuer_and_the_public_set(tmp_path):
    import json

    from shared.auth import ISSUERS, mint_token

    out = tmp_path / "keys"
    result = runner.invoke(app, ["generate-keys", str(out)])
    assert result.exit_code == 0, result.output
    public = (out / "public-keys.json").read_text()
    assert {k["kid"] for k in json.loads(public)["keys"]} == set(ISSUERS)
    assert (out / "sla.pem").stat().st_mode & 0o777 == 0o600
    signer = Settings(
        signing_key=str(out / "identity.pem"),
        signing_key_id="identity",
        public_keys=str(out / "public-keys.json"),
    )
    token = mint_token(signer, role=Role.ADMIN, subject="root")
    assert decode_token(Settings(public_keys=public), token).role is Role.ADMIN
    assert runner.invoke(app, ["generate-keys", str(out)]).exit_code != 0  # never overwrites


def test_add_user_makes_the_first_administrator_who_then_signs_in(
    monkeypatch, fresh_database_url, settings, clock, client_for
):
    import asyncio

    from identity.app import build_app

    from shared.db import make_engine
    from shared.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    get_settings.cache_clear()
    try:
        command = ["add-user", "root", "--role", "admin", "--name", "系统管理员"]
        weak = runner.invoke(app, command, input="short\nshort\n")
        added = runner.invoke(app, command, input="Admin-pass-2026\nAdmin-pass-2026\n")
        again = runner.invoke(app, command, input="Admin-pass-2026\nAdmin-pass-2026\n")
    finally:
        get_settings.cache_clear()
    assert weak.exit_code == 2 and "至少 10 位" in weak.output
    assert added.exit_code == 0, added.output
    assert again.exit_code == 2 and "已存在" in again.output

    async def sign_in() -> int:
        engine = make_engine(fresh_database_url, pool_size=1)
        identity = build_app(settings=settings, engine=engine, clock=clock, run_relay=False)
        try:
            async with client_for(identity) as client:
                body = {"username": "root", "password": "Admin-pass-2026"}
                return (await client.post("/v1/sessions", json=body)).status_code
        finally:
            await engine.dispose()

    assert asyncio.run(sign_in()) == 200


def test_the_classifier_models_are_listed_and_one_is_made_active_again(
    monkeypatch, fresh_database_url
):
    from shared.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    get_settings.cache_clear()
    try:
        listed = runner.invoke(app, ["classifier-models"])
        [active] = [line.split()[0] for line in listed.output.splitlines() if "ACTIVE" in line]
        again = runner.invoke(app, ["classifier-activate", active])
        unknown = runner.invoke(app, ["classifier-activate", "no-such-model"])
    finally:
        get_settings.cache_clear()
    assert listed.exit_code == 0, listed.output
    assert again.exit_code == 0 and f"{active} is active" in again.output
    assert unknown.exit_code == 2 and "no model" in unknown.output
