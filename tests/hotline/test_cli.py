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
