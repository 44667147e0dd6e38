"""Sign-in (/v1/sessions, and through the city's identity provider /v1/sessions/oidc), one's
own account (/v1/me), the directory (/v1/users, admins),
whom the services must refuse (/v1/signed-out) and the public keys (/.well-known/jwks.json)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from identity import oidc, service
from identity.schemas import (
    AccountCreate,
    AccountRead,
    AccountsRead,
    AccountUpdate,
    ChangesRead,
    OidcOffered,
    OidcRedirect,
    OidcReturn,
    OidcStart,
    PasswordChange,
    Refresh,
    SignedOutRead,
    SignIn,
    Tokens,
    TotpConfirm,
    TotpSecret,
)
from shared.auth import PEOPLE_ROLES, Principal, Role, require, token_keys
from shared.deps import ClockDep, SessionDep, SettingsDep
from shared.errors import refusal
from shared.service import AdminDep, ServiceDep

router = APIRouter(tags=["identity"])
Person = Annotated[Principal, Depends(require(*PEOPLE_ROLES))]


@router.post("/v1/sessions", response_model=Tokens)
async def sign_in(
    request: Request, body: SignIn, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> Tokens | JSONResponse:
    """Sign in with a username and password (and the six-digit code of an authenticator
    app, for an account with a second factor): an access token for the services and a
    refresh token that renews it. No token is needed to call this."""
    try:
        return await service.sign_in(session, settings, clock.now(), body)
    except service.Kept as kept:
        return refusal(request, kept.refusal)


@router.post("/v1/sessions/refresh", response_model=Tokens)
async def refresh(
    request: Request, body: Refresh, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> Tokens | JSONResponse:
    """New tokens for a refresh token; each refresh token is used once."""
    try:
        token = body.refresh_token.get_secret_value()
        return await service.refresh(session, settings, clock.now(), token)
    except service.Kept as kept:
        return refusal(request, kept.refusal)


@router.post("/v1/sessions/sign-out", status_code=204)
async def sign_out(body: Refresh, session: SessionDep, clock: ClockDep) -> Response:
    """Sign out: the refresh token no longer renews."""
    await service.sign_out(session, clock.now(), body.refresh_token.get_secret_value())
    return Response(status_code=204)


async def get_oidc(request: Request) -> oidc.OidcClient:
    return request.app.state.oidc


OidcDep = Annotated[oidc.OidcClient, Depends(get_oidc)]


@router.get("/v1/oidc", response_model=OidcOffered)
async def oidc_offered(client: OidcDep, settings: SettingsDep) -> OidcOffered:
    """Whether sign-in through the city's identity provider is offered, and its name."""
    return OidcOffered(enabled=client.enabled, display_name=settings.oidc_display_name)


@router.post("/v1/sessions/oidc/start", response_model=OidcRedirect)
async def oidc_start(
    body: OidcStart, session: SessionDep, settings: SettingsDep, client: OidcDep, clock: ClockDep
) -> OidcRedirect:
    """Begin a sign-in at the identity provider: where to send the browser, which comes
    back to ``redirect_uri`` (one of those configured) with a state and a code."""
    url = await oidc.start(session, settings, client, clock.now(), body.redirect_uri)
    return OidcRedirect(authorize_url=url)


@router.post("/v1/sessions/oidc", response_model=Tokens)
async def oidc_finish(
    request: Request,
    body: OidcReturn,
    session: SessionDep,
    settings: SettingsDep,
    client: OidcDep,
    clock: ClockDep,
) -> Tokens | JSONResponse:
    """Finish it with the state and code the browser brought back: tokens as for a
    password sign-in."""
    try:
        return await service.oidc_sign_in(
            session, settings, client, clock.now(), body.state, body.code
        )
    except service.Kept as kept:
        return refusal(request, kept.refusal)


@router.get("/.well-known/jwks.json")
async def jwks(settings: SettingsDep) -> dict[str, Any]:
    """The public keys tokens are verified with (RFC 7517)."""
    return token_keys(settings).jwks()


@router.get("/v1/me", response_model=AccountRead)
async def me(session: SessionDep, who: Person) -> AccountRead:
    return await service.get(session, who.subject)


@router.post("/v1/me/password", status_code=204)
async def change_password(
    body: PasswordChange, session: SessionDep, who: Person, clock: ClockDep
) -> Response:
    """Change one's own password (the current one is asked again)."""
    await service.change_password(
        session, who, clock.now(), body.current.get_secret_value(), body.new.get_secret_value()
    )
    return Response(status_code=204)


@router.post("/v1/me/totp/secret", response_model=TotpSecret)
async def totp_secret(who: Person) -> TotpSecret:
    """A new second factor's secret to scan; it counts once confirmed with a code."""
    return service.new_totp(who)


@router.put("/v1/me/totp", status_code=204)
async def enrol_totp(
    body: TotpConfirm, session: SessionDep, settings: SettingsDep, who: Person, clock: ClockDep
) -> Response:
    """Confirm a second factor with a code from the app; from now on sign-in asks for one."""
    await service.enrol_totp(session, settings, who, clock.now(), body.secret, body.code)
    return Response(status_code=204)


@router.get("/v1/users", response_model=AccountsRead)
async def users(
    session: SessionDep,
    _: AdminDep,
    role: Role | None = None,
    unit_id: str | None = None,
    disabled: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AccountsRead:
    """The directory, by username; filtered by role, unit or whether disabled."""
    return await service.listing(
        session, role=role, unit_id=unit_id, disabled=disabled, limit=limit, offset=offset
    )


@router.post("/v1/users", response_model=AccountRead, status_code=201)
async def create_user(
    body: AccountCreate, session: SessionDep, admin: AdminDep, clock: ClockDep
) -> AccountRead:
    """Add a person: role, unit (a unit's or sub-unit's staff), district (a district
    agency's dispatchers and supervisors, Art 5), and a password unless they sign in
    through the city's identity provider."""
    return await service.create(session, admin, clock.now(), body)


@router.get("/v1/users/{username}", response_model=AccountRead)
async def user(username: str, session: SessionDep, _: AdminDep) -> AccountRead:
    return await service.get(session, username)


@router.patch("/v1/users/{username}", response_model=AccountRead)
async def update_user(
    username: str, body: AccountUpdate, session: SessionDep, admin: AdminDep, clock: ClockDep
) -> AccountRead:
    """Change a person's name, role, unit or district, disable or enable them, set a new
    password, remove their second factor. A new role, unit or district, disabling and a
    new password sign them out everywhere within a minute."""
    return await service.update_account(session, admin, clock.now(), username, body)


@router.post("/v1/users/{username}/sign-out", status_code=204)
async def sign_out_user(
    username: str, session: SessionDep, admin: AdminDep, clock: ClockDep
) -> Response:
    """Sign a person out everywhere: their tokens stop counting within a minute."""
    await service.sign_out_everywhere(session, admin, clock.now(), username)
    return Response(status_code=204)


@router.get("/v1/users/{username}/changes", response_model=ChangesRead)
async def user_changes(username: str, session: SessionDep, _: AdminDep) -> ChangesRead:
    """Who changed the account, when and what (newest first)."""
    return await service.changes(session, username)


@router.get("/v1/signed-out", response_model=SignedOutRead)
async def signed_out(session: SessionDep, settings: SettingsDep, _: ServiceDep) -> SignedOutRead:
    """For the services: people whose tokens issued before a time no longer count."""
    return await service.signed_out(session, settings)
