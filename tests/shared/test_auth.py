from datetime import UTC, datetime, timedelta
from typing import Annotated

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI

from shared.auth import Principal, Role, decode_token, mint_token, require
from shared.errors import BadInput, Unauthorized, install_error_handlers
from shared.settings import Settings

SETTINGS = Settings(env="test")


def test_token_round_trip_keeps_role_and_unit():
    token = mint_token(SETTINGS, role=Role.UNIT, subject="clerk-1", unit_id="tianhe-gov")
    assert decode_token(SETTINGS, token) == Principal("clerk-1", Role.UNIT, "tianhe-gov")


def test_unit_role_without_unit_cannot_be_minted():
    with pytest.raises(BadInput):
        mint_token(SETTINGS, role=Role.SUB_UNIT, subject="x")


def test_art5_a_district_agencys_token_carries_its_district_and_only_agency_staff_have_one():
    token = mint_token(SETTINGS, role=Role.DISPATCHER, subject="d", district="天河区")
    principal = decode_token(SETTINGS, token)
    assert principal.district == "天河区"
    assert principal.sees_district("天河区") and not principal.sees_district("海珠区")
    city = decode_token(SETTINGS, mint_token(SETTINGS, role=Role.DISPATCHER, subject="c"))
    assert city.sees_district("海珠区") and city.sees_district(None)
    with pytest.raises(BadInput):
        mint_token(SETTINGS, role=Role.UNIT, subject="u", unit_id="x", district="天河区")
    forged = jwt.encode(
        {**jwt.decode(token, options={"verify_signature": False}), "role": "admin"},
        SETTINGS.jwt_secret.get_secret_value(),
        algorithm="HS256",
    )
    with pytest.raises(Unauthorized):
        decode_token(SETTINGS, forged)  # an admin is the city's, never a district's


def test_art21_a_guidance_token_names_its_department():
    with pytest.raises(BadInput):
        mint_token(SETTINGS, role=Role.GUIDANCE, subject="g")


def test_expired_token_is_refused():
    issued = datetime.now(UTC) - timedelta(hours=2)
    token = mint_token(SETTINGS, role=Role.AGENT, subject="a", ttl=timedelta(minutes=5), now=issued)
    with pytest.raises(Unauthorized, match="expired"):
        decode_token(SETTINGS, token)


def test_a_token_verified_once_is_refused_once_it_expires(settings):
    """Verified tokens are remembered for a minute; their expiry is checked on every use."""
    issued = datetime.now(UTC)
    # Expiring at second 30 of a minute: a use just before and just after share the minute.
    ttl = timedelta(seconds=60 - issued.timestamp() % 60 + 30)
    token = mint_token(settings, role=Role.AGENT, subject="a1", ttl=ttl, now=issued)
    expires = (issued + ttl).timestamp()
    assert decode_token(settings, token, now=expires - 1).subject == "a1"
    with pytest.raises(Unauthorized, match="expired"):
        decode_token(settings, token, now=expires + 1)


def test_token_signed_with_another_secret_is_refused():
    other = Settings(env="test", jwt_secret="another-secret-that-is-long-enough-0123")
    with pytest.raises(Unauthorized, match="invalid"):
        decode_token(SETTINGS, mint_token(other, role=Role.ADMIN, subject="a"))


def test_unknown_role_is_refused():
    claims = {
        "iss": "hotline12345",
        "sub": "x",
        "role": "mayor",
        "exp": int((datetime.now(UTC) + timedelta(hours=1)).timestamp()),
    }
    token = jwt.encode(claims, SETTINGS.jwt_secret.get_secret_value(), algorithm="HS256")
    with pytest.raises(Unauthorized):
        decode_token(SETTINGS, token)


def _app() -> FastAPI:
    app = FastAPI()
    app.state.settings = SETTINGS
    install_error_handlers(app)

    @app.get("/agency-only")
    async def agency_only(
        who: Annotated[Principal, Depends(require(Role.DISPATCHER, Role.ADMIN))],
    ) -> dict[str, str]:
        return {"role": who.role}

    return app


@pytest.mark.parametrize("role", list(Role))
async def test_require_admits_declared_roles_and_refuses_the_rest(role):
    token = mint_token(SETTINGS, role=role, subject="t", unit_id="u1")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_app()), base_url="http://t"
    ) as client:
        response = await client.get("/agency-only", headers={"Authorization": f"Bearer {token}"})
    if role in (Role.DISPATCHER, Role.ADMIN):
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("header", [None, "Bearer", "Basic abc", "Bearer not-a-jwt"])
async def test_missing_or_malformed_credentials_answer_401(header):
    headers = {"Authorization": header} if header else {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_app()), base_url="http://t"
    ) as client:
        response = await client.get("/agency-only", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
