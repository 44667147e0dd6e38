"""The directory's rules, pure: what a password must be, when an account waits after failed
sign-ins, which second-factor code counts, when a reused refresh token was copied, from
when a sign-out counts, what the identity provider's claims make of a person."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import pyotp

from shared.auth import DISTRICT_SCOPED_ROLES, PEOPLE_ROLES, ROLES_WITH_UNIT, Role

MIN_PASSWORD_LENGTH = 10
TOTP_PERIOD = 30  # seconds (RFC 6238's default, what every authenticator app uses)


def password_problem(password: str, username: str) -> tuple[str, str] | None:
    """Why a password is refused, in English and Chinese; None when it may be used.

    GB/T 22239-2019 (等级保护 2.0) asks that passwords be complex and long enough: at least
    ten characters from three of the four kinds (lower case, upper case, digits, other),
    never containing the username."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return (
            f"a password has at least {MIN_PASSWORD_LENGTH} characters",
            f"密码至少 {MIN_PASSWORD_LENGTH} 位",
        )
    kinds = sum(
        any(test(c) for c in password)
        for test in (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum())
    )
    if kinds < 3:
        return (
            "a password mixes three of: lower case, upper case, digits, other characters",
            "密码须包含小写字母、大写字母、数字、其他字符中的至少三种",
        )
    if username.lower() in password.lower():
        return ("a password may not contain the username", "密码不能包含用户名")
    return None


def after_failure(
    failures: int, now: datetime, *, attempts: int, lock: timedelta
) -> tuple[int, datetime | None]:
    """A failed sign-in: the failures in a row, and when ``attempts`` is reached the time
    the account waits until (the count starts again after it)."""
    failures += 1
    if failures >= attempts:
        return 0, now + lock
    return failures, None


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


# Two tabs of the workbench may renew with the same token at once: a second use this soon
# is refused without suspicion; later it means someone else holds a copy.
RENEWAL_GRACE = timedelta(seconds=60)


def copied(used_at: datetime, now: datetime) -> bool:
    """Whether a used refresh token presented again at ``now`` was copied (its whole family
    is then revoked) rather than sent twice by two tabs at once."""
    return now - used_at > RENEWAL_GRACE


def signed_out_from(now: datetime) -> datetime:
    """The time before which a person's tokens stop counting when they are signed out now.

    Tokens say the second they were issued: every token of this second is refused too (one
    issued a moment ago must not outlive the sign-out); signing in again works from the
    next second."""
    return now.replace(microsecond=0) + timedelta(seconds=1)


def totp_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step a six-digit code belongs to, if it is right for now or the step either
    side (a phone's clock drifts) and later than the last code accepted (a code seen over
    someone's shoulder cannot be used again); None otherwise."""
    totp = pyotp.TOTP(secret, interval=TOTP_PERIOD)
    current = int(now.timestamp()) // TOTP_PERIOD
    for step in (current - 1, current, current + 1):
        if (last_step is None or step > last_step) and hmac.compare_digest(
            totp.at(step * TOTP_PERIOD), code
        ):
            return step
    return None


def scope_from_claims(
    claims: Mapping[str, Any],
    *,
    roles_claim: str,
    role_map: Mapping[str, str],
    unit_claim: str,
    district_claim: str,
) -> tuple[Role, str | None, str | None] | None:
    """The hotline role, unit and district the identity provider's claims give a person:
    the first of their provider roles the city mapped to a hotline role (None when none
    is); the unit for a unit's staff, the district for a district agency's (Art 5)."""
    granted = claims.get(roles_claim)
    values = [granted] if isinstance(granted, str) else list(granted or [])
    role = next((Role(role_map[str(v)]) for v in values if str(v) in role_map), None)
    if role is None or role not in PEOPLE_ROLES:
        return None
    unit = claims.get(unit_claim) if role in ROLES_WITH_UNIT else None
    district = claims.get(district_claim) if role in DISTRICT_SCOPED_ROLES else None
    return role, str(unit) if unit else None, str(district) if district else None
