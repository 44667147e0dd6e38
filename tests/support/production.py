"""Production settings for tests: the suite's own keys and secrets, none of the defaults."""

import json
from typing import Any

from shared.auth import new_keys
from shared.settings import Settings

PRIVATE, PUBLIC = new_keys()


def production_env(service: str | None = None) -> dict[str, str]:
    """The variables a production process of ``service`` is started with (its own key only)."""
    env = {
        "HOTLINE_ENV": "production",
        "HOTLINE_SESSION_SECRET": "s" * 40,
        "HOTLINE_PII_KEY": "k" * 44,
        "HOTLINE_PUBLIC_KEYS": json.dumps(PUBLIC),
    }
    if service is not None:
        env |= {"HOTLINE_SIGNING_KEY": PRIVATE[service], "HOTLINE_SIGNING_KEY_ID": service}
    return env


def production_settings(service: str | None = None, **overrides: Any) -> Settings:
    env = production_env(service)
    overrides.setdefault("database_url", "postgresql://db.invalid/hotline")
    return Settings(
        env="production",
        session_secret=env["HOTLINE_SESSION_SECRET"],
        pii_key=env["HOTLINE_PII_KEY"],
        public_keys=env["HOTLINE_PUBLIC_KEYS"],
        signing_key=env.get("HOTLINE_SIGNING_KEY"),
        signing_key_id=env.get("HOTLINE_SIGNING_KEY_ID", ""),
        **overrides,
    )
