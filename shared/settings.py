"""Settings read from the environment once, validated at start with clear errors."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development defaults: known to everyone, therefore refused in production.
DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789"
DEV_PII_KEY = "ZGV2LW9ubHktcGlpLWtleS1jaGFuZ2UtbWUtMDEyMzQ="


class Environment(StrEnum):
    DEV = "dev"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every knob of the suite; variables are prefixed HOTLINE_ except DATABASE_URL."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore", populate_by_name=True)

    env: Environment = Environment.DEV
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "HOTLINE_DATABASE_URL"),
        description="postgresql:// URL; unset in dev means the embedded PostgreSQL",
    )
    data_dir: str = ".data"
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_ttl_seconds: int = Field(default=8 * 3600, gt=0)
    pii_key: SecretStr = SecretStr(DEV_PII_KEY)
    intake_url: str = "http://127.0.0.1:8001"
    dispatch_url: str = "http://127.0.0.1:8002"
    sla_url: str = "http://127.0.0.1:8003"
    log_level: str = "INFO"
    # Processes per service (`hotline serve`); each runs its relay and jobs, safe side by side.
    workers: int = Field(default=1, ge=1, le=64)
    http_timeout_seconds: float = Field(default=5.0, gt=0)
    console_refresh_seconds: int = Field(default=15, ge=1, le=3600)  # a unit's list refreshes
    # The largest request body a service reads (a policy document to import is the largest).
    max_body_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    relay_sweep_seconds: float = Field(default=5.0, gt=0)
    relay_batch_size: int = Field(default=50, gt=0, le=1000)
    relay_max_backoff_seconds: float = Field(default=300.0, gt=0)
    # How long a retry with the same Idempotency-Key still gets the first answer.
    idempotency_retention_hours: float = Field(default=24.0, gt=0)
    # Delivered events are kept this long for operators, then pruned hourly.
    outbox_retention_days: float = Field(default=7.0, gt=0)
    # An event's id is kept this long to refuse a redelivery; longer than any sender stays down.
    inbox_retention_days: float = Field(default=30.0, gt=0)
    sla_scan_seconds: float = Field(default=30.0, gt=0)
    # Reports recount what changed since the last recount; the job keeps that small.
    sla_report_refresh_seconds: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _production_is_explicit(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            problems = []
            if not self.database_url:
                problems.append("DATABASE_URL must be set (no embedded PostgreSQL in production)")
            if self.jwt_secret.get_secret_value() == DEV_JWT_SECRET:
                problems.append("HOTLINE_JWT_SECRET must be set to a secret of your own")
            if self.pii_key.get_secret_value() == DEV_PII_KEY:
                problems.append("HOTLINE_PII_KEY must be set to a key of your own")
            if problems:
                raise ValueError("; ".join(problems))
        if len(self.jwt_secret.get_secret_value()) < 32:
            raise ValueError("HOTLINE_JWT_SECRET must be at least 32 characters")
        return self

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    def service_url(self, service: str) -> str:
        """Base URL of a peer service by name (intake, dispatch, sla)."""
        urls = {"intake": self.intake_url, "dispatch": self.dispatch_url, "sla": self.sla_url}
        try:
            return urls[service].rstrip("/")
        except KeyError:
            raise ValueError(f"unknown service {service!r}") from None


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
