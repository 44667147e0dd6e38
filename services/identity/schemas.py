"""What the identity service reads and answers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr

from shared.auth import Role
from shared.schemas import Words

Username = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")


class AccountAction(StrEnum):
    """What was done to an account (its record of changes)."""

    CREATED = "created"
    UPDATED = "updated"
    DISABLED = "disabled"
    ENABLED = "enabled"
    PASSWORD_SET = "password_set"
    TOTP_ENROLLED = "totp_enrolled"
    TOTP_REMOVED = "totp_removed"
    SIGNED_OUT = "signed_out"  # every token of the account stops counting
    LOCKED = "locked"  # too many failed sign-ins in a row


class SignIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: SecretStr = Field(min_length=1, max_length=256)
    totp: str | None = Field(default=None, pattern=r"^\d{6}$", description="动态验证码")


class Refresh(BaseModel):
    refresh_token: SecretStr = Field(min_length=20, max_length=200)


class AccountRead(BaseModel):
    username: str
    display_name: str
    role: Role
    unit_id: str | None
    district: str | None
    totp: bool = Field(description="signs in with a second factor")
    password: bool = Field(description="has a password (False: the city's provider only)")
    disabled_at: datetime | None
    locked_until: datetime | None
    created_at: datetime
    updated_at: datetime


class Tokens(BaseModel):
    """An access token for the services and the refresh token that renews it."""

    token_type: Literal["bearer"] = "bearer"
    access_token: str
    expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    account: AccountRead


class AccountCreate(BaseModel):
    username: str = Username
    display_name: Words = Field(max_length=100)
    role: Role
    unit_id: str | None = Field(default=None, min_length=1, max_length=64)
    district: str | None = Field(default=None, min_length=1, max_length=50)
    password: SecretStr | None = Field(
        default=None, max_length=256, description="None: signs in through the city's provider"
    )


class AccountUpdate(BaseModel):
    """Only what is sent changes; ``unit_id`` and ``district`` may be sent as null."""

    display_name: Words | None = Field(default=None, max_length=100)
    role: Role | None = None
    unit_id: str | None = Field(default=None, min_length=1, max_length=64)
    district: str | None = Field(default=None, min_length=1, max_length=50)
    disabled: bool | None = None
    password: SecretStr | None = Field(default=None, max_length=256)
    remove_totp: bool = False


class AccountsRead(BaseModel):
    total: int
    items: list[AccountRead]


class PasswordChange(BaseModel):
    current: SecretStr = Field(min_length=1, max_length=256)
    new: SecretStr = Field(min_length=1, max_length=256)


class TotpSecret(BaseModel):
    """A new second factor's secret, to scan into an authenticator app, then confirm."""

    secret: str
    uri: str = Field(description="otpauth:// URI (a QR code of it is what the app scans)")


class TotpConfirm(BaseModel):
    secret: str = Field(pattern=r"^[A-Z2-7]{32}$")
    code: str = Field(pattern=r"^\d{6}$")


class ChangeRead(BaseModel):
    username: str
    action: AccountAction
    detail: dict[str, Any]
    at: datetime
    by: str


class ChangesRead(BaseModel):
    items: list[ChangeRead]


class SignedOut(BaseModel):
    """People whose tokens issued before ``at`` no longer count."""

    subject: str
    at: datetime


class SignedOutRead(BaseModel):
    items: list[SignedOut]


class OidcOffered(BaseModel):
    enabled: bool
    display_name: str = Field(description="what the sign-in button says")


class OidcStart(BaseModel):
    redirect_uri: str = Field(min_length=1, max_length=500)


class OidcRedirect(BaseModel):
    authorize_url: str = Field(description="where to send the browser")


class OidcReturn(BaseModel):
    state: str = Field(min_length=1, max_length=200)
    code: str = Field(min_length=1, max_length=2000)
