"""Accounts, sign-in and tokens (docs/identity.md).

Passwords are kept as argon2id hashes, second-factor secrets sealed with the personal-data
key ring, refresh tokens as their SHA-256. Hashing is slow on purpose and runs off the event
loop. What a refused sign-in changes (the failure count, a lock, a replayed refresh token's
family revoked, a used-up provider attempt) is kept: such a refusal is raised as ``Kept``,
which the endpoint answers instead of raising, so its unit of work commits.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, TypeVar

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import MultiFernet
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.concurrency import run_in_threadpool

from identity import oidc, rules
from identity.models import Account, AccountChange, RefreshToken
from identity.schemas import (
    AccountAction,
    AccountCreate,
    AccountRead,
    AccountsRead,
    AccountUpdate,
    ChangeRead,
    ChangesRead,
    SignedOut,
    SignedOutRead,
    SignIn,
    Tokens,
    TotpSecret,
)
from shared.auth import PEOPLE_ROLES, Principal, Role, check_scope, mint_token
from shared.errors import BadInput, Conflict, DomainError, Forbidden, NotFound, Unauthorized
from shared.sealing import sealer
from shared.settings import Settings

ISSUER_NAME = "12345热线"
T = TypeVar("T")


def wall_time() -> datetime:
    """The real time, for what tokens say: services check a token's times against their
    own real clocks, whatever time a development stack's clock has been moved to."""
    return datetime.now(UTC)


class SignInLocked(DomainError):
    status_code = 429
    code = "sign_in_locked"


class Kept(Exception):
    """A refusal whose unit of work is committed all the same (a failed sign-in counted, a
    copied refresh token's family revoked): the endpoint answers it instead of raising."""

    def __init__(self, refusal: DomainError) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with RFC 9106's second recommended parameters


@cache
def _absent_hash() -> str:
    # An unknown username costs the same hashing as a known one: timing tells nothing.
    return _hasher().hash(secrets.token_hex(16))


def _seal(settings: Settings) -> MultiFernet:
    ring = [k.get_secret_value() for k in (settings.pii_key, *settings.pii_retired_keys)]
    return sealer(ring, "totp")


def read(account: Account) -> AccountRead:
    return AccountRead(
        username=account.username,
        display_name=account.display_name,
        role=Role(account.role),
        unit_id=account.unit_id,
        district=account.district,
        totp=account.totp_secret is not None,
        password=account.password_hash is not None,
        disabled_at=account.disabled_at,
        locked_until=account.locked_until,
        created_at=account.created_at,
        updated_at=account.updated_at,
    )


# argon2id takes 64 MiB a hash: two at a time keep a burst of sign-ins within the pod's
# memory (deploy/k8s/render.py) and leave the event loop's threads to everything else.
HASHING_AT_ONCE = 2
_hashing: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


async def _off_loop(work: Callable[[], T]) -> T:
    loop = asyncio.get_running_loop()
    gate = _hashing.setdefault(loop, asyncio.Semaphore(HASHING_AT_ONCE))
    async with gate:
        return await run_in_threadpool(work)


async def _hash(password: str, username: str) -> str:
    problem = rules.password_problem(password, username)
    if problem is not None:
        raise BadInput(problem[0], zh=problem[1], code="weak_password")
    return await _off_loop(lambda: _hasher().hash(password))


async def _verify(stored: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher().verify(stored or _absent_hash(), password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    return await _off_loop(verify)


async def sign_in(session: AsyncSession, settings: Settings, now: datetime, body: SignIn) -> Tokens:
    """Tokens for a right username and password (and code, if the account has a second
    factor); after ``sign_in_attempts`` failures in a row the account waits."""
    account = await session.get(Account, body.username, with_for_update=True)
    if account is not None and rules.is_locked(account.locked_until, now):
        assert account.locked_until is not None
        raise SignInLocked(
            f"too many failed sign-ins; try again after {account.locked_until.isoformat()}",
            zh="连续登录失败次数过多，账号已暂时锁定，请稍后再试",
        )
    password = body.password.get_secret_value()
    if account is None or not await _verify(account.password_hash, password):
        if account is not None:
            await _failed(session, settings, account, now)
        raise Kept(
            Unauthorized("wrong username or password", code="sign_in_failed", zh="用户名或密码错误")
        )
    if account.disabled_at is not None:
        raise Unauthorized("the account is disabled", code="account_disabled", zh="账号已停用")
    if account.totp_secret is not None:
        if body.totp is None:
            raise Unauthorized(
                "the account signs in with a code", code="totp_required", zh="请输入动态验证码"
            )
        secret = _seal(settings).decrypt(account.totp_secret.encode()).decode()
        step = rules.totp_step(secret, body.totp, now, account.totp_last_step)
        if step is None:
            await _failed(session, settings, account, now)
            raise Kept(Unauthorized("wrong code", code="totp_invalid", zh="动态验证码不正确"))
        account.totp_last_step = step
    account.failed_sign_ins = 0
    account.locked_until = None
    if _hasher().check_needs_rehash(account.password_hash or ""):
        account.password_hash = await _off_loop(lambda: _hasher().hash(password))
    return await _issue(session, settings, account, now)


async def oidc_sign_in(
    session: AsyncSession,
    settings: Settings,
    client: oidc.OidcClient,
    now: datetime,
    state: str,
    code: str,
) -> Tokens:
    """Tokens for a person the city's identity provider vouched for: their account is made
    or brought up to date from its claims (role, unit, district as the city mapped them).
    Whatever the outcome the attempt is used up."""
    try:
        claims = await oidc.finish(session, client, now, state, code)
        username = claims.get(settings.oidc_username_claim)
        if not isinstance(username, str) or not username.strip():
            raise oidc.failed(f"no {settings.oidc_username_claim} claim")
        scope = rules.scope_from_claims(
            claims,
            roles_claim=settings.oidc_roles_claim,
            role_map=settings.oidc_roles,
            unit_claim=settings.oidc_unit_claim,
            district_claim=settings.oidc_district_claim,
        )
        if scope is None:
            raise Forbidden(
                "the identity provider gives this person no role in the hotline",
                code="oidc_no_role",
                zh="该统一身份认证账号未分配热线角色，请联系系统管理员",
            )
        role, unit_id, district = scope
        try:
            check_scope(role, unit_id, district)
        except BadInput as missing:
            raise Forbidden(missing.message, code="oidc_no_role", zh=missing.zh) from None
        account = await session.get(Account, username, with_for_update=True)
        name = str(claims.get(settings.oidc_name_claim) or username)
        if account is None:
            account = Account(
                username=username,
                display_name=name,
                role=role.value,
                unit_id=unit_id,
                district=district,
                created_at=now,
                updated_at=now,
            )
            session.add(account)
            scope_now = {"role": role.value, "unit_id": unit_id, "district": district}
            _record(session, username, AccountAction.CREATED, "oidc", now, **scope_now)
        elif account.disabled_at is not None:
            raise Unauthorized("the account is disabled", code="account_disabled", zh="账号已停用")
        else:
            wanted = {
                "display_name": name,
                "role": role.value,
                "unit_id": unit_id,
                "district": district,
            }
            changed = {k: v for k, v in wanted.items() if getattr(account, k) != v}
            if changed:
                for key, value in changed.items():
                    setattr(account, key, value)
                account.updated_at = now
                _record(session, username, AccountAction.UPDATED, "oidc", now, **changed)
        await session.flush()
    except DomainError as refused:
        raise Kept(refused) from None
    return await _issue(session, settings, account, now)


async def _failed(
    session: AsyncSession, settings: Settings, account: Account, now: datetime
) -> None:
    account.failed_sign_ins, account.locked_until = rules.after_failure(
        account.failed_sign_ins,
        now,
        attempts=settings.sign_in_attempts,
        lock=timedelta(minutes=settings.sign_in_lock_minutes),
    )
    if account.locked_until is not None:
        until = account.locked_until.isoformat()
        _record(session, account.username, AccountAction.LOCKED, "identity", now, until=until)
    await session.flush()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _issue(
    session: AsyncSession, settings: Settings, account: Account, now: datetime
) -> Tokens:
    ttl = timedelta(seconds=settings.access_ttl_seconds)
    issued = wall_time()
    access = mint_token(
        settings,
        role=account.role,
        subject=account.username,
        unit_id=account.unit_id,
        district=account.district,
        ttl=ttl,
        now=issued,
    )
    refresh = secrets.token_urlsafe(32)
    refresh_expires = now + timedelta(hours=settings.refresh_ttl_hours)
    session.add(
        RefreshToken(
            token_hash=_token_hash(refresh),
            username=account.username,
            issued_at=now,
            expires_at=refresh_expires,
        )
    )
    await session.flush()
    return Tokens(
        access_token=access,
        expires_at=issued.replace(microsecond=0) + ttl,
        refresh_token=refresh,
        refresh_expires_at=refresh_expires,
        account=read(account),
    )


async def refresh(session: AsyncSession, settings: Settings, now: datetime, token: str) -> Tokens:
    """New tokens for a refresh token, used once; a used one presented again revokes every
    refresh token of the account (it was copied)."""
    expired = Unauthorized(
        "the sign-in has expired", code="refresh_invalid", zh="登录已过期，请重新登录"
    )
    row = await session.get(RefreshToken, _token_hash(token), with_for_update=True)
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise expired
    if row.used_at is not None:
        if rules.copied(row.used_at, now):
            await session.execute(_revoke_all(row.username, now))
            raise Kept(expired)
        raise expired
    account = await session.get(Account, row.username)
    if account is None or account.disabled_at is not None:
        raise expired
    row.used_at = now
    return await _issue(session, settings, account, now)


def _revoke_all(username: str, now: datetime) -> Any:
    return (
        update(RefreshToken)
        .where(col(RefreshToken.username) == username, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )


async def sign_out(session: AsyncSession, now: datetime, token: str) -> None:
    """This refresh token no longer renews (the access token lapses within minutes)."""
    row = await session.get(RefreshToken, _token_hash(token))
    if row is not None and row.revoked_at is None:
        row.revoked_at = now


async def _account(session: AsyncSession, username: str, *, lock: bool = False) -> Account:
    account = await session.get(Account, username, with_for_update=lock)
    if account is None:
        raise NotFound(f"no account {username}", zh=f"没有账号 {username}")
    return account


def _record(
    session: AsyncSession,
    username: str,
    action: AccountAction,
    by: Principal | str,
    now: datetime,
    **detail: Any,
) -> None:
    session.add(
        AccountChange(
            username=username,
            action=action.value,
            detail=detail,
            at=now,
            by=by if isinstance(by, str) else by.subject,
        )
    )


def _check_role(role: Role, unit_id: str | None, district: str | None) -> None:
    if role not in PEOPLE_ROLES:
        raise BadInput(f"a person cannot hold the role {role}", zh="该角色不能分配给人员")
    check_scope(role, unit_id, district)


async def create(
    session: AsyncSession, by: Principal | str, now: datetime, body: AccountCreate
) -> AccountRead:
    _check_role(body.role, body.unit_id, body.district)
    if await session.get(Account, body.username) is not None:
        raise Conflict(f"the account {body.username} exists", zh=f"账号 {body.username} 已存在")
    password = body.password.get_secret_value() if body.password else None
    account = Account(
        username=body.username,
        display_name=body.display_name,
        role=body.role.value,
        unit_id=body.unit_id,
        district=body.district,
        password_hash=await _hash(password, body.username) if password else None,
        created_at=now,
        updated_at=now,
    )
    session.add(account)
    scope = {"role": body.role.value, "unit_id": body.unit_id, "district": body.district}
    _record(session, body.username, AccountAction.CREATED, by, now, **scope)
    await session.flush()
    return read(account)


async def update_account(
    session: AsyncSession, by: Principal, now: datetime, username: str, body: AccountUpdate
) -> AccountRead:
    """Change an account. A new role, unit or district, a disabled account, a password set
    by an administrator: every token the account holds stops counting."""
    account = await _account(session, username, lock=True)
    sent = body.model_fields_set
    role = body.role or Role(account.role)
    scope = {
        "role": role.value,
        "unit_id": body.unit_id if "unit_id" in sent else account.unit_id,
        "district": body.district if "district" in sent else account.district,
    }
    _check_role(role, scope["unit_id"], scope["district"])
    sign_out_all = False
    changed = {k: v for k, v in scope.items() if getattr(account, k) != v}
    if body.display_name is not None and body.display_name != account.display_name:
        changed["display_name"] = body.display_name
    if changed:
        for key, value in changed.items():
            setattr(account, key, value)
        _record(session, username, AccountAction.UPDATED, by, now, **changed)
        sign_out_all = sign_out_all or changed.keys() - {"display_name"} != set()
    if body.disabled is True and account.disabled_at is None:
        account.disabled_at = now
        _record(session, username, AccountAction.DISABLED, by, now)
        sign_out_all = True
    elif body.disabled is False and account.disabled_at is not None:
        account.disabled_at = None
        account.failed_sign_ins = 0
        account.locked_until = None
        _record(session, username, AccountAction.ENABLED, by, now)
    if body.password is not None:
        account.password_hash = await _hash(body.password.get_secret_value(), username)
        account.failed_sign_ins = 0
        account.locked_until = None
        _record(session, username, AccountAction.PASSWORD_SET, by, now)
        sign_out_all = True
    if body.remove_totp and account.totp_secret is not None:
        account.totp_secret = None
        account.totp_last_step = None
        _record(session, username, AccountAction.TOTP_REMOVED, by, now)
    if sign_out_all:
        await _sign_out_everywhere(session, account, now)
    account.updated_at = now
    await session.flush()
    return read(account)


async def _sign_out_everywhere(session: AsyncSession, account: Account, now: datetime) -> None:
    account.signed_out_at = rules.signed_out_from(wall_time())
    await session.execute(_revoke_all(account.username, now))


async def sign_out_everywhere(
    session: AsyncSession, by: Principal, now: datetime, username: str
) -> None:
    account = await _account(session, username, lock=True)
    await _sign_out_everywhere(session, account, now)
    _record(session, username, AccountAction.SIGNED_OUT, by, now)


async def get(session: AsyncSession, username: str) -> AccountRead:
    return read(await _account(session, username))


async def listing(
    session: AsyncSession,
    *,
    role: Role | None,
    unit_id: str | None,
    disabled: bool | None,
    limit: int,
    offset: int,
) -> AccountsRead:
    query = select(Account)
    if role is not None:
        query = query.where(col(Account.role) == role.value)
    if unit_id is not None:
        query = query.where(col(Account.unit_id) == unit_id)
    if disabled is not None:
        query = query.where(
            col(Account.disabled_at).is_not(None)
            if disabled
            else col(Account.disabled_at).is_(None)
        )
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(col(Account.username)).limit(limit).offset(offset))
    return AccountsRead(total=total or 0, items=[read(a) for a in rows])


async def changes(session: AsyncSession, username: str) -> ChangesRead:
    await _account(session, username)
    rows = await session.scalars(
        select(AccountChange)
        .where(col(AccountChange.username) == username)
        .order_by(col(AccountChange.id).desc())
        .limit(200)
    )
    return ChangesRead(
        items=[
            ChangeRead(
                username=c.username,
                action=AccountAction(c.action),
                detail=c.detail,
                at=c.at,
                by=c.by,
            )
            for c in rows
        ]
    )


async def change_password(
    session: AsyncSession, who: Principal, now: datetime, current: str, new: str
) -> None:
    account = await _account(session, who.subject, lock=True)
    if not await _verify(account.password_hash, current):
        raise Unauthorized(
            "the current password is wrong", code="sign_in_failed", zh="原密码不正确"
        )
    account.password_hash = await _hash(new, account.username)
    account.updated_at = now
    _record(session, account.username, AccountAction.PASSWORD_SET, who, now)


def new_totp(who: Principal) -> TotpSecret:
    """A fresh secret for the caller's authenticator app; nothing is kept until confirmed."""
    secret = pyotp.random_base32(32)
    uri = pyotp.TOTP(secret).provisioning_uri(name=who.subject, issuer_name=ISSUER_NAME)
    return TotpSecret(secret=secret, uri=uri)


async def enrol_totp(
    session: AsyncSession, settings: Settings, who: Principal, now: datetime, secret: str, code: str
) -> None:
    """Keep the second factor once a code from the app proves it was scanned."""
    step = rules.totp_step(secret, code, now, None)
    if step is None:
        raise BadInput(
            "the code does not match the secret", code="totp_invalid", zh="动态验证码不正确"
        )
    account = await _account(session, who.subject, lock=True)
    account.totp_secret = _seal(settings).encrypt(secret.encode()).decode()
    account.totp_last_step = step
    account.updated_at = now
    _record(session, account.username, AccountAction.TOTP_ENROLLED, who, now)


async def signed_out(session: AsyncSession, settings: Settings) -> SignedOutRead:
    """People whose tokens issued before a time no longer count, for as long as any token
    issued before it could still be alive."""
    alive = timedelta(seconds=max(settings.access_ttl_seconds, settings.jwt_ttl_seconds))
    now = wall_time()
    rows = await session.scalars(select(Account).where(col(Account.signed_out_at) > now - alive))
    return SignedOutRead(
        items=[SignedOut(subject=a.username, at=a.signed_out_at) for a in rows if a.signed_out_at]
    )


async def prune(session: AsyncSession, now: datetime) -> int:
    """Refresh tokens past their expiry (hourly)."""
    result = await session.execute(
        delete(RefreshToken).where(col(RefreshToken.expires_at) < now - timedelta(days=1))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
