"""Sign-in through the city's identity provider (issue 19): the code flow with PKCE, the ID
token checked, the provider's claims mapped to the hotline's role, unit and district."""

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from identity.oidc import OidcClient
from pydantic import SecretStr

from shared.auth import Principal, Role, decode_token
from tests.support.idp import Provider

CALLBACK = "https://12345.example.gov.cn/signin/oidc/callback"
CLERK = {
    "sub": "u-1001",
    "preferred_username": "li.lei",
    "name": "李雷",
    "roles": ["staff", "12345-clerk"],
    "unit_id": "tianhe-urban",
}


@pytest.fixture
def provider():
    return Provider("http://idp.test")


@pytest.fixture
def app(make_app, settings, provider):
    values = provider.settings()
    configured = settings.model_copy(
        update={
            **values,
            "oidc_client_secret": SecretStr(values["oidc_client_secret"]),
            "oidc_redirect_uris": [CALLBACK],
        }
    )
    app = make_app("identity", settings=configured)
    idp = httpx.AsyncClient(transport=httpx.ASGITransport(app=provider.app))
    app.state.oidc = OidcClient(configured, idp)
    return app


@pytest.fixture
async def anonymous(app, client_for):
    async with client_for(app) as client:
        yield client


async def _round_trip(anonymous, provider, person, *, code=None, state=None):
    """What the browser does: to the provider and back with its code."""
    provider.person = person
    start = await anonymous.post("/v1/sessions/oidc/start", json={"redirect_uri": CALLBACK})
    assert start.status_code == 200, start.text
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=provider.app)) as browser:
        back = await browser.get(start.json()["authorize_url"])
    query = parse_qs(urlparse(back.headers["location"]).query)
    body = {"state": state or query["state"][0], "code": code or query["code"][0]}
    return await anonymous.post("/v1/sessions/oidc", json=body)


async def test_a_person_the_provider_vouches_for_gets_the_mapped_role_and_unit(
    anonymous, provider, settings, app, client_for
):
    assert (await anonymous.get("/v1/oidc")).json() == {
        "enabled": True,
        "display_name": "统一身份认证",
    }
    answer = await _round_trip(anonymous, provider, CLERK)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert decode_token(settings, tokens["access_token"]) == Principal(
        "li.lei", Role.UNIT, "tianhe-urban"
    )
    assert tokens["account"]["display_name"] == "李雷" and tokens["account"]["password"] is False
    async with client_for(app, Role.ADMIN) as admin:
        changes = (await admin.get("/v1/users/li.lei/changes")).json()["items"]
    assert [(c["action"], c["by"]) for c in changes] == [("created", "oidc")]


async def test_the_provider_moving_a_person_moves_their_account(
    anonymous, provider, app, client_for
):
    await _round_trip(anonymous, provider, CLERK)
    moved = {**CLERK, "roles": ["12345-dispatch"], "district": "天河区"}
    answer = await _round_trip(anonymous, provider, moved)
    assert answer.json()["account"]["role"] == "dispatcher"
    assert answer.json()["account"]["district"] == "天河区"
    assert answer.json()["account"]["unit_id"] is None
    async with client_for(app, Role.ADMIN) as admin:
        await admin.patch("/v1/users/li.lei", json={"disabled": True})
    refused = await _round_trip(anonymous, provider, moved)
    assert refused.json()["error"]["code"] == "account_disabled"


async def test_a_person_without_a_hotline_role_is_refused_and_no_account_is_made(
    anonymous, provider, app, client_for
):
    refused = await _round_trip(anonymous, provider, {**CLERK, "roles": ["staff"]})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "oidc_no_role")
    no_unit = await _round_trip(anonymous, provider, {**CLERK, "unit_id": None})
    assert no_unit.status_code == 403
    async with client_for(app, Role.ADMIN) as admin:
        assert (await admin.get("/v1/users/li.lei")).status_code == 404


@pytest.mark.parametrize(
    "tamper",
    [
        {"aud": "another-client"},
        {"iss": "http://elsewhere.test"},
        {"nonce": "not-this-sign-ins"},
        {"exp": 1_000_000_000},
    ],
)
async def test_an_id_token_not_for_this_sign_in_is_refused(anonymous, provider, tamper):
    provider.tamper = tamper
    refused = await _round_trip(anonymous, provider, CLERK)
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "oidc_failed")


async def test_a_state_is_used_once_and_a_forged_one_is_refused(anonymous, provider, clock):
    first = await _round_trip(anonymous, provider, CLERK)
    assert first.status_code == 200
    forged = await _round_trip(anonymous, provider, CLERK, state="forged-state")
    assert forged.json()["error"]["code"] == "oidc_failed"
    # A code stolen on its way back cannot be redeemed without the verifier this service
    # keeps, nor after the attempt is used: the provider refuses, the attempt is gone.
    provider.person = CLERK
    start = await anonymous.post("/v1/sessions/oidc/start", json={"redirect_uri": CALLBACK})
    state = parse_qs(urlparse(start.json()["authorize_url"]).query)["state"][0]
    clock.advance(timedelta(minutes=11))
    late = await anonymous.post("/v1/sessions/oidc", json={"state": state, "code": "x"})
    assert late.json()["error"]["code"] == "oidc_failed"


async def test_only_registered_redirect_uris_are_sent_to_the_provider(anonymous):
    elsewhere = {"redirect_uri": "https://attacker.example/callback"}
    assert (await anonymous.post("/v1/sessions/oidc/start", json=elsewhere)).status_code == 422


async def test_without_a_provider_configured_it_is_not_offered(make_app, client_for):
    async with client_for(make_app("identity")) as anonymous:
        assert (await anonymous.get("/v1/oidc")).json()["enabled"] is False
        body = {"redirect_uri": CALLBACK}
        assert (await anonymous.post("/v1/sessions/oidc/start", json=body)).status_code == 404
