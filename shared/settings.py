"""Settings read from the environment once, validated at start with clear errors."""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.geo import Datum

# Development defaults: known to everyone, therefore refused in production.
DEV_SESSION_SECRET = "dev-only-session-secret-change-me-0123456789"
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
    # Tokens (docs/identity.md): this process's Ed25519 private key (PEM, or the path of a
    # file holding it) and its key id (its issuer's name, e.g. "identity" or "intake.2027");
    # the public keys believed, as a JSON Web Key Set (inline or a path). Unset outside
    # production: development keys everyone knows.
    signing_key: SecretStr | None = None
    signing_key_id: str = ""
    public_keys: str | None = None
    # Development tokens and services' own tokens live this long; people's tokens from the
    # identity service access_ttl_seconds, renewed by a refresh token for refresh_ttl_hours.
    jwt_ttl_seconds: int = Field(default=8 * 3600, gt=0)
    access_ttl_seconds: int = Field(default=15 * 60, ge=60, le=3600)
    refresh_ttl_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    # How often a service asks the identity service whom it signed out (disabled users).
    signed_out_poll_seconds: float = Field(default=20.0, gt=0, le=60)
    # Failed sign-ins in a row before an account waits sign_in_lock_minutes.
    sign_in_attempts: int = Field(default=5, ge=1)
    sign_in_lock_minutes: float = Field(default=15.0, gt=0)
    # Sign-in through the city's identity provider (OpenID Connect, docs/identity.md): its
    # issuer URL (None: not offered), this suite's client there, the redirect URIs it may
    # send people back to (the workbench's /signin/oidc/callback), and how its claims name
    # a person, their roles (mapped to the hotline's), unit and district.
    oidc_issuer: str | None = None
    oidc_client_id: str = ""
    oidc_client_secret: SecretStr | None = None
    oidc_redirect_uris: list[str] = Field(default_factory=list)
    oidc_display_name: str = "统一身份认证"
    oidc_username_claim: str = "preferred_username"
    oidc_name_claim: str = "name"
    oidc_roles_claim: str = "roles"
    oidc_roles: dict[str, str] = Field(default_factory=dict)  # provider's role → the hotline's
    oidc_unit_claim: str = "unit_id"
    oidc_district_claim: str = "district"
    # The workbench's own address as people's browsers reach it (the provider sends them back).
    console_url: str = "http://127.0.0.1:8000"
    # The workbench's key for its form tokens (CSRF).
    session_secret: SecretStr = SecretStr(DEV_SESSION_SECRET)
    pii_key: SecretStr = SecretStr(DEV_PII_KEY)
    # Earlier personal-data keys, newest first (JSON list): they open and find what they
    # sealed until `hotline rotate-pii-key` has re-sealed it with pii_key.
    pii_retired_keys: list[SecretStr] = Field(default_factory=list)
    # Callers' personal data of tickets closed longer than this is erased (None: kept).
    pii_retention_days: int | None = Field(default=None, gt=0)
    # Citizens' own channels (docs/citizens.md): how many submissions one address may send a
    # minute and one phone a day, progress look-ups an address a minute (and one number an
    # hour), requests an Open311
    # application a minute; photos a submission may carry; the proof of work's difficulty
    # (leading zero bits: 16 is about a second on a phone).
    public_submissions_per_minute: int = Field(default=5, ge=1)
    public_submissions_per_phone_per_day: int = Field(default=10, ge=1)
    public_progress_per_minute: int = Field(default=20, ge=1)
    # Look-ups of one number an hour: the phone's last four digits cannot be guessed in time.
    public_progress_per_number_per_hour: int = Field(default=10, ge=1)
    open311_requests_per_minute: int = Field(default=60, ge=1)
    public_photos_max: int = Field(default=4, ge=0, le=20)
    public_challenge_bits: int = Field(default=16, ge=0, le=28)
    # Attachments in S3-compatible object storage (production); without an endpoint (host:port)
    # they are kept in the database.
    attachment_s3_endpoint: str | None = None
    attachment_s3_bucket: str = "hotline-attachments"
    attachment_s3_access_key: str = ""
    attachment_s3_secret_key: SecretStr | None = None
    attachment_s3_region: str = "us-east-1"
    attachment_s3_secure: bool = True
    # The city's own map tiles ({z}/{x}/{y} URL template) and their datum (Chinese map
    # services draw in GCJ-02): the workbench shows a matter's point on them; none, no map.
    map_tiles_url: str | None = None
    map_tiles_datum: Datum = Datum.GCJ02
    map_attribution: str = ""
    # The reverse proxies whose X-Forwarded-For names the client (comma-separated, or "*").
    trusted_proxies: str = "127.0.0.1"
    # A command each attachment is piped to before it is kept ("clamdscan -" reads stdin); a
    # non-zero exit refuses the file. None: not scanned.
    attachment_scan_command: str | None = None
    intake_url: str = "http://127.0.0.1:8001"
    dispatch_url: str = "http://127.0.0.1:8002"
    sla_url: str = "http://127.0.0.1:8003"
    identity_url: str = "http://127.0.0.1:8004"
    log_level: str = "INFO"
    # Processes per service (`hotline serve`); each runs its relay and jobs, safe side by side.
    workers: int = Field(default=1, ge=1, le=64)
    http_timeout_seconds: float = Field(default=5.0, gt=0)
    # how often a unit's list and the agency's desk refresh themselves
    console_refresh_seconds: int = Field(default=15, ge=1, le=3600)
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
    # The supervisors' daily digest of what is overdue goes out at this Beijing time.
    sla_digest_at: time = time(8, 30)
    # Notifications (docs/notifications.md). A receiver gets at most this many a minute.
    notify_rate_per_minute: int = Field(default=60, ge=1)
    # A notification still unsent after this long is given up (and shown as failed).
    notify_give_up_hours: float = Field(default=72.0, gt=0)
    # No SMS between these Beijing times unless urgent; it waits for the end.
    sms_quiet_start: time = time(22, 0)
    sms_quiet_end: time = time(8, 0)
    # E-mail: without a server, messages go to the development sink.
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, gt=0, lt=65536)
    smtp_sender: str = "12345@localhost"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    # SMS: "sink" writes to the development sink; "tencent" is Tencent Cloud's SendSms.
    sms_provider: Literal["sink", "tencent"] = "sink"
    sms_templates: dict[str, str] = Field(default_factory=dict)  # kind → approved template id
    tencent_sms_endpoint: str = "https://sms.tencentcloudapi.com"
    tencent_sms_region: str = "ap-guangzhou"
    tencent_sms_app_id: str = ""
    tencent_sms_sign_name: str = ""
    tencent_secret_id: str = ""
    tencent_secret_key: SecretStr = SecretStr("")

    @model_validator(mode="after")
    def _production_is_explicit(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            problems = []
            if not self.database_url:
                problems.append("DATABASE_URL must be set (no embedded PostgreSQL in production)")
            if self.session_secret.get_secret_value() == DEV_SESSION_SECRET:
                problems.append("HOTLINE_SESSION_SECRET must be set to a secret of your own")
            if not self.public_keys:
                problems.append("HOTLINE_PUBLIC_KEYS must list the suite's public keys")
            if self.pii_key.get_secret_value() == DEV_PII_KEY:
                problems.append("HOTLINE_PII_KEY must be set to a key of your own")
            if self.sms_provider == "tencent" and not (
                self.tencent_secret_id and self.tencent_secret_key.get_secret_value()
            ):
                problems.append("HOTLINE_TENCENT_SECRET_ID and _KEY must be set for SMS")
            if problems:
                raise ValueError("; ".join(problems))
        if len(self.session_secret.get_secret_value()) < 32:
            raise ValueError("HOTLINE_SESSION_SECRET must be at least 32 characters")
        if self.signing_key and not self.signing_key_id:
            raise ValueError("HOTLINE_SIGNING_KEY_ID must name the key (its issuer first)")
        return self

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    def service_url(self, service: str) -> str:
        """Base URL of a peer service by name (intake, dispatch, sla, identity)."""
        urls = {
            "intake": self.intake_url,
            "dispatch": self.dispatch_url,
            "sla": self.sla_url,
            "identity": self.identity_url,
        }
        try:
            return urls[service].rstrip("/")
        except KeyError:
            raise ValueError(f"unknown service {service!r}") from None


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
