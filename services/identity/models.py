"""The user directory: accounts, their refresh tokens, and every change made to them."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class Account(SQLModel, table=True):
    """A person who signs in: their role and, for a unit's staff, the unit (or sub-unit);
    for a district hotline agency's staff, the district (Art 5)."""

    __tablename__ = "account"
    __table_args__ = (Index("ix_account_signed_out_at", "signed_out_at"), {"schema": "identity"})

    username: str = Field(primary_key=True)
    display_name: str
    role: str  # a people Role
    unit_id: str | None = None
    district: str | None = None
    password_hash: str | None = None  # argon2id; None: signs in through the city's provider
    totp_secret: str | None = None  # sealed; None: no second factor
    # The time step of the last code accepted: a code counts once.
    totp_last_step: int | None = Field(default=None, sa_column=Column(BigInteger))
    failed_sign_ins: int = 0
    locked_until: datetime | None = None
    disabled_at: datetime | None = None
    # Tokens issued before this no longer count (disabled, signed out everywhere).
    signed_out_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class RefreshToken(SQLModel, table=True):
    """A refresh token, kept as its hash; each is used once and replaced (rotation)."""

    __tablename__ = "refresh_token"
    __table_args__ = (
        Index("ix_refresh_token_username", "username"),
        Index("ix_refresh_token_expires_at", "expires_at"),
        {"schema": "identity"},
    )

    token_hash: str = Field(primary_key=True)
    username: str = Field(
        sa_column=Column(
            Text, ForeignKey("identity.account.username", ondelete="CASCADE"), nullable=False
        )
    )
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None


class AccountChange(SQLModel, table=True):
    """Who changed an account, when, and what (never a password or a secret)."""

    __tablename__ = "account_change"
    __table_args__ = (Index("ix_account_change_username", "username"), {"schema": "identity"})

    id: int | None = Field(default=None, primary_key=True)
    username: str
    action: str  # an AccountAction
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    at: datetime
    by: str


class OidcAttempt(SQLModel, table=True):
    """A sign-in sent to the identity provider and not yet back: what its answer must match
    (state, nonce) and prove (the PKCE verifier). Used once; gone after ten minutes."""

    __tablename__ = "oidc_attempt"
    __table_args__ = (Index("ix_oidc_attempt_expires_at", "expires_at"), {"schema": "identity"})

    state: str = Field(primary_key=True)
    nonce: str
    verifier: str
    redirect_uri: str
    expires_at: datetime
