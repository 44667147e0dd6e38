"""The tokens of whoever signed in on this computer (`hotline login`).

Kept in ``$HOTLINE_CONFIG_DIR/credentials.json`` (``~/.config/hotline`` by default), readable
by its owner only. The access token lives minutes; when it has lapsed the refresh token
renews it (each refresh token is used once, so the new pair is written back at once).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hotline_client import models
from hotline_client.api import Calls, Client
from hotline_client.errors import BadRequest

# Renewed a little early: a command started just before expiry is not refused halfway.
MARGIN = timedelta(seconds=60)


def path() -> Path:
    folder = os.environ.get("HOTLINE_CONFIG_DIR") or Path.home() / ".config" / "hotline"
    return Path(folder) / "credentials.json"


def save(tokens: models.Tokens) -> None:
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    spare = target.with_suffix(".new")
    descriptor = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(tokens.model_dump_json())
    spare.replace(target)  # whole or not at all: a refresh token is never half written


def load() -> models.Tokens | None:
    try:
        return models.Tokens.model_validate_json(path().read_text())
    except (OSError, ValueError):
        return None


def forget() -> None:
    path().unlink(missing_ok=True)


def access_token(client: Client, now: datetime | None = None) -> str | None:
    """The stored access token, renewed if it has lapsed; None when nobody is signed in
    or the sign-in has ended (then the stored tokens are forgotten)."""
    tokens = load()
    if tokens is None:
        return None
    now = now or datetime.now(UTC)
    if tokens.expires_at - MARGIN > now:
        return tokens.access_token
    if tokens.refresh_expires_at <= now:
        forget()
        return None
    try:
        renewed = client.get(Calls.renew(tokens.refresh_token))
    except BadRequest:  # signed out, disabled, or renewed elsewhere
        forget()
        return None
    save(renewed)
    return renewed.access_token
