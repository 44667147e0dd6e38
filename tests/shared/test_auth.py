import json
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, FastAPI

from shared.auth import (
    Principal,
    Role,
    _raw,
    decode_token,
    dev_key,
    issuer_of,
    jwk,
    mint_token,
    require,
    token_keys,
)
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
        dev_key("identity"),
        algorithm="EdDSA",
        headers={"kid": "identity"},
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


def _pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _signed(claims: dict, key, kid: str = "identity", algorithm: str = "EdDSA") -> str:
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})


def _claims(role: str = "admin", sub: str = "x") -> dict:
    now = datetime.now(UTC)
    return {
        "iss": "hotline12345",
        "sub": sub,
        "role": role,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }


def test_token_signed_with_a_key_not_believed_is_refused():
    other = Settings(
        env="test", signing_key=_pem(Ed25519PrivateKey.generate()), signing_key_id="identity"
    )
    with pytest.raises(Unauthorized, match="invalid"):
        decode_token(SETTINGS, mint_token(other, role=Role.ADMIN, subject="a"))


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda c: jwt.encode(c, None, algorithm="none"), id="alg-none"),
        pytest.param(
            # The public key used as an HMAC secret: the classic algorithm confusion.
            lambda c: _signed(c, _raw(dev_key("identity").public_key()), algorithm="HS256"),
            id="hs256-with-the-public-key",
        ),
        pytest.param(lambda c: _signed(c, dev_key("identity"), kid="nobody"), id="unknown-kid"),
        pytest.param(
            lambda c: _signed(c, dev_key("intake"), kid="identity"), id="wrong-key-for-kid"
        ),
    ],
)
def test_forged_tokens_are_refused(forge):
    with pytest.raises(Unauthorized):
        decode_token(SETTINGS, forge(_claims()))


@pytest.mark.parametrize(
    ("kid", "role", "sub"),
    [
        ("intake", "admin", "x"),  # a service's key cannot sign a person
        ("intake", "service", "dispatch"),  # nor another service
        ("sla", "caller", "ticket-1"),  # only dispatch sends rating links
        ("identity.2027", "service", "sla"),
    ],
)
def test_an_issuer_signs_only_what_it_may(kid, role, sub):
    token = _signed(_claims(role, sub), dev_key(issuer_of(kid)), kid=kid)
    with pytest.raises(Unauthorized):
        decode_token(Settings(env="test", public_keys=json.dumps(_jwks(kid))), token)


def _jwks(*kids: str) -> dict:
    return {"keys": [jwk(kid, dev_key(issuer_of(kid)).public_key()) for kid in kids]}


def test_a_rotated_key_is_believed_by_its_id_and_signs_what_its_issuer_may():
    new = Ed25519PrivateKey.generate()
    keys = {
        "keys": [
            jwk("identity", dev_key("identity").public_key()),
            jwk("identity.2027", new.public_key()),
        ]
    }
    believing = Settings(env="test", public_keys=json.dumps(keys))
    signer = Settings(
        env="test",
        signing_key=_pem(new),
        signing_key_id="identity.2027",
        public_keys=json.dumps(keys),
    )
    token = mint_token(signer, role=Role.SUPERVISOR, subject="s")
    assert jwt.get_unverified_header(token)["kid"] == "identity.2027"
    assert decode_token(believing, token).role is Role.SUPERVISOR
    assert (
        decode_token(believing, mint_token(SETTINGS, role=Role.AGENT, subject="a")).subject == "a"
    )


def test_in_production_a_service_verifies_but_cannot_mint_a_persons_token(monkeypatch):
    """Issue 19: services hold the public keys and their own key only."""
    sla = Ed25519PrivateKey.generate()
    identity = Ed25519PrivateKey.generate()
    keys = {"keys": [jwk("sla", sla.public_key()), jwk("identity", identity.public_key())]}
    production = dict(
        env="production",
        database_url="postgresql://x/y",
        session_secret="s" * 40,
        pii_key="k" * 44,
        public_keys=json.dumps(keys),
    )
    at_sla = Settings(**production, signing_key=_pem(sla), signing_key_id="sla")
    with pytest.raises(RuntimeError):
        mint_token(at_sla, role=Role.ADMIN, subject="me")
    own = mint_token(at_sla, role=Role.SERVICE, subject="sla")
    assert decode_token(at_sla, own) == Principal("sla", Role.SERVICE)
    at_identity = Settings(**production, signing_key=_pem(identity), signing_key_id="identity")
    person = mint_token(at_identity, role=Role.ADMIN, subject="me")
    assert decode_token(at_sla, person).role is Role.ADMIN
    with pytest.raises(ValueError, match="HOTLINE_PUBLIC_KEYS"):
        token_keys(Settings(**{**production, "public_keys": json.dumps(_jwks("identity"))}))


def test_a_person_signed_out_is_refused_for_tokens_issued_before():
    issued = datetime.now(UTC) - timedelta(minutes=5)
    token = mint_token(SETTINGS, role=Role.UNIT, subject="clerk", unit_id="u", now=issued)
    later = mint_token(SETTINGS, role=Role.UNIT, subject="clerk", unit_id="u")
    signed_out = {"clerk": (issued + timedelta(minutes=1)).timestamp()}
    with pytest.raises(Unauthorized, match="signed out"):
        decode_token(SETTINGS, token, signed_out=signed_out)
    assert decode_token(SETTINGS, later, signed_out=signed_out).subject == "clerk"
    assert decode_token(SETTINGS, token, signed_out={"someone-else": time.time()})


def test_unknown_role_is_refused():
    with pytest.raises(Unauthorized):
        decode_token(SETTINGS, _signed(_claims(role="mayor"), dev_key("identity")))


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
    subject = "sla" if role is Role.SERVICE else "t"
    token = mint_token(SETTINGS, role=role, subject=subject, unit_id="u1")
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
