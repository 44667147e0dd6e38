import pytest
from pydantic import ValidationError

from shared.auth import token_keys
from shared.settings import Settings
from tests.support.production import production_env


def test_development_defaults_need_no_environment(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings()
    assert settings.env == "dev"
    assert settings.database_url is None
    assert not settings.is_production


def test_database_url_is_read_without_prefix(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/hotline")
    assert Settings().database_url == "postgresql://u@db/hotline"


def test_production_refuses_development_secrets_and_names_each(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("HOTLINE_ENV", "production")
    with pytest.raises(ValidationError) as refused:
        Settings()
    message = str(refused.value)
    assert "DATABASE_URL must be set" in message
    assert "HOTLINE_SESSION_SECRET" in message
    assert "HOTLINE_PUBLIC_KEYS" in message
    assert "HOTLINE_PII_KEY" in message


def test_production_starts_with_its_own_secrets(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/hotline")
    for name, value in production_env("sla").items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.is_production
    assert token_keys(settings).signing[0] == "sla"


def test_short_session_secret_is_refused(monkeypatch):
    monkeypatch.setenv("HOTLINE_SESSION_SECRET", "short")
    with pytest.raises(ValidationError, match="at least 32"):
        Settings()


def test_malformed_number_names_the_variable(monkeypatch):
    monkeypatch.setenv("HOTLINE_RELAY_BATCH_SIZE", "lots")
    with pytest.raises(ValidationError, match="relay_batch_size"):
        Settings()


def test_service_url_of_unknown_peer_is_an_error():
    settings = Settings(intake_url="http://intake:8001/")
    assert settings.service_url("intake") == "http://intake:8001"
    with pytest.raises(ValueError, match="unknown service"):
        settings.service_url("billing")
