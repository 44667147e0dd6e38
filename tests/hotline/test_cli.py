"""The operator commands of `hotline`."""

from typer.testing import CliRunner

from hotline.cli import app
from shared.auth import Principal, Role, decode_token
from shared.settings import Settings

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

    monkeypatch.setenv("HOTLINE_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/hotline")
    monkeypatch.setenv("HOTLINE_JWT_SECRET", "p" * 40)
    monkeypatch.setenv("HOTLINE_PII_KEY", "k" * 44)
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

    async def take_two() -> None:
        engine = make_engine(fresh_database_url, pool_size=2)
        old = settings.model_copy(update={"pii_key": SecretStr("o" * 44)})
        app = build_app(settings=old, engine=engine, clock=clock, run_relay=False)
        try:
            async with client_for(app, Role.AGENT) as client:
                for _ in range(2):
                    assert (await client.post("/v1/tickets", json=CALL)).status_code == 201
        finally:
            await engine.dispose()

    async def key_ids() -> list[str]:
        engine = make_engine(fresh_database_url, pool_size=1)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(text("SELECT pii_key_id FROM intake.ticket"))
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
    assert "done: 2 batch(es)" in result.output
    assert asyncio.run(key_ids()) == [key_id("n" * 44)] * 2
