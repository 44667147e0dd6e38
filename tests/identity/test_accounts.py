"""The user directory and sign-in (issue 19): passwords, second factors, refresh tokens,
locks, and signing people out."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from shared.auth import Principal, Role, decode_token, mint_token

PASSWORD = "Guangzhou-12345"


@pytest.fixture
def app(make_app):
    return make_app("identity")


@pytest.fixture
async def admin(app, client_for):
    async with client_for(app, Role.ADMIN) as client:
        yield client


@pytest.fixture
async def anonymous(app, client_for):
    async with client_for(app) as client:
        yield client


async def _add(admin, username="clerk", **fields):
    body = {"username": username, "display_name": "王小明", "role": "unit", "unit_id": "tianhe-gov"}
    response = await admin.post("/v1/users", json={**body, "password": PASSWORD, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def _sign_in(anonymous, username="clerk", password=PASSWORD, **extra):
    return await anonymous.post(
        "/v1/sessions", json={"username": username, "password": password, **extra}
    )


async def test_a_person_signs_in_and_their_token_carries_role_and_unit(admin, anonymous, settings):
    await _add(admin)
    response = await _sign_in(anonymous)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert decode_token(settings, tokens["access_token"]) == Principal(
        "clerk", Role.UNIT, "tianhe-gov"
    )
    assert tokens["account"]["display_name"] == "王小明"
    mine = await anonymous.get(
        "/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert mine.json()["username"] == "clerk"
    assert "password_hash" not in mine.text and PASSWORD not in mine.text


async def test_a_wrong_password_and_an_unknown_name_are_refused_alike(admin, anonymous):
    await _add(admin)
    wrong = await _sign_in(anonymous, password="Wrong-password-1")
    unknown = await _sign_in(anonymous, username="nobody")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["message"] == "用户名或密码错误"


async def test_after_five_failures_in_a_row_the_account_waits(admin, anonymous, clock):
    await _add(admin)
    for _ in range(5):
        assert (await _sign_in(anonymous, password="Wrong-password-1")).status_code == 401
    locked = await _sign_in(anonymous)  # even the right password waits
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "sign_in_locked"
    changes = (await admin.get("/v1/users/clerk/changes")).json()["items"]
    assert changes[0]["action"] == "locked"
    clock.advance(timedelta(minutes=16))
    assert (await _sign_in(anonymous)).status_code == 200


async def test_a_success_starts_the_count_again(admin, anonymous):
    await _add(admin)
    for _ in range(4):
        await _sign_in(anonymous, password="Wrong-password-1")
    assert (await _sign_in(anonymous)).status_code == 200
    for _ in range(4):
        await _sign_in(anonymous, password="Wrong-password-1")
    assert (await _sign_in(anonymous)).status_code == 200


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Short-1", "至少 10 位"),
        ("alllowercaseletters", "至少三种"),
        ("Clerk-2026-abc", "不能包含用户名"),
    ],
)
async def test_a_weak_password_is_refused_and_nothing_is_created(admin, password, why):
    body = {"username": "clerk", "display_name": "王", "role": "agent", "password": password}
    response = await admin.post("/v1/users", json=body)
    assert response.status_code == 422
    assert why in response.json()["error"]["message"]
    assert (await admin.get("/v1/users/clerk")).status_code == 404


@pytest.mark.parametrize(
    "fields",
    [
        {"role": "unit", "unit_id": None},  # a unit's staff name their unit
        {"role": "agent", "district": "天河区"},  # only agency staff have a district (Art 5)
        {"role": "service"},  # a person is never a service
        {"role": "caller"},
    ],
)
async def test_a_role_without_its_scope_is_refused(admin, fields):
    body = {"username": "x1", "display_name": "王", "password": PASSWORD, **fields}
    assert (await admin.post("/v1/users", json=body)).status_code == 422


async def test_a_username_is_taken_once(admin):
    await _add(admin)
    body = {"username": "clerk", "display_name": "李", "role": "agent", "password": PASSWORD}
    assert (await admin.post("/v1/users", json=body)).status_code == 409


async def _enrol(anonymous, clock):
    tokens = (await _sign_in(anonymous)).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    secret = (await anonymous.post("/v1/me/totp/secret", headers=auth)).json()["secret"]
    code = pyotp.TOTP(secret).at(clock.now())
    wrong = await anonymous.put(
        "/v1/me/totp", json={"secret": secret, "code": "000000"}, headers=auth
    )
    assert wrong.status_code == 422 or code == "000000"
    enrolled = await anonymous.put(
        "/v1/me/totp", json={"secret": secret, "code": code}, headers=auth
    )
    assert enrolled.status_code == 204, enrolled.text
    return secret


async def test_a_second_factor_is_asked_once_enrolled_and_each_code_counts_once(
    admin, anonymous, clock
):
    await _add(admin)
    secret = await _enrol(anonymous, clock)
    missing = await _sign_in(anonymous)
    assert (missing.status_code, missing.json()["error"]["code"]) == (401, "totp_required")
    clock.advance(timedelta(seconds=60))
    code = pyotp.TOTP(secret).at(clock.now())
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    refused = await _sign_in(anonymous, totp=wrong)
    assert refused.json()["error"]["code"] == "totp_invalid"
    assert (await _sign_in(anonymous, totp=code)).status_code == 200
    replayed = await _sign_in(anonymous, totp=code)
    assert replayed.json()["error"]["code"] == "totp_invalid"
    account = (await admin.get("/v1/users/clerk")).json()
    assert account["totp"] is True


async def test_a_refresh_token_renews_once(admin, anonymous, clock, settings):
    await _add(admin)
    first = (await _sign_in(anonymous)).json()
    renewed = await anonymous.post(
        "/v1/sessions/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert renewed.status_code == 200
    second = renewed.json()
    assert decode_token(settings, second["access_token"]).subject == "clerk"
    again = await anonymous.post(
        "/v1/sessions/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert again.status_code == 401
    # Within the minute two tabs may renew at once: the newer token still renews.
    third = await anonymous.post(
        "/v1/sessions/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert third.status_code == 200


async def test_a_refresh_token_presented_again_later_revokes_the_whole_sign_in(
    admin, anonymous, clock
):
    """A used refresh token seen again after the grace minute was copied: every refresh
    token of the account stops renewing."""
    await _add(admin)
    first = (await _sign_in(anonymous)).json()
    second = (
        await anonymous.post("/v1/sessions/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    clock.advance(timedelta(minutes=5))
    replay = await anonymous.post(
        "/v1/sessions/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert replay.status_code == 401
    after = await anonymous.post(
        "/v1/sessions/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert after.status_code == 401


async def test_signing_out_ends_renewal(admin, anonymous):
    await _add(admin)
    tokens = (await _sign_in(anonymous)).json()
    body = {"refresh_token": tokens["refresh_token"]}
    assert (await anonymous.post("/v1/sessions/sign-out", json=body)).status_code == 204
    assert (await anonymous.post("/v1/sessions/refresh", json=body)).status_code == 401


async def test_disabling_a_person_signs_them_out_and_refuses_their_sign_in(
    admin, anonymous, app, client_for, settings
):
    await _add(admin)
    tokens = (await _sign_in(anonymous)).json()
    before = mint_token(
        settings,
        role=Role.UNIT,
        subject="clerk",
        unit_id="tianhe-gov",
        now=datetime.now(UTC) - timedelta(seconds=5),
    )
    disabled = await admin.patch("/v1/users/clerk", json={"disabled": True})
    assert disabled.json()["disabled_at"] is not None
    refused = await _sign_in(anonymous)
    assert refused.json()["error"]["code"] == "account_disabled"
    renew = {"refresh_token": tokens["refresh_token"]}
    assert (await anonymous.post("/v1/sessions/refresh", json=renew)).status_code == 401
    async with client_for(app, Role.SERVICE, as_service="dispatch") as dispatch:
        listed = (await dispatch.get("/v1/signed-out")).json()["items"]
    at = {i["subject"]: datetime.fromisoformat(i["at"]).timestamp() for i in listed}
    assert "clerk" in at
    with pytest.raises(Exception, match="signed out"):
        decode_token(settings, before, signed_out=at)
    enabled = await admin.patch("/v1/users/clerk", json={"disabled": False})
    assert enabled.json()["disabled_at"] is None
    assert (await _sign_in(anonymous)).status_code == 200
    actions = [c["action"] for c in (await admin.get("/v1/users/clerk/changes")).json()["items"]]
    assert actions == ["enabled", "disabled", "created"]


async def test_a_new_role_signs_the_person_out_a_new_name_does_not(admin, anonymous):
    await _add(admin)
    await admin.patch("/v1/users/clerk", json={"display_name": "王大明"})
    assert (await admin.get("/v1/users/clerk")).json()["display_name"] == "王大明"
    listed = await admin.get("/v1/users", params={"role": "unit"})
    assert [u["username"] for u in listed.json()["items"]] == ["clerk"]
    moved = await admin.patch(
        "/v1/users/clerk", json={"role": "supervisor", "unit_id": None, "district": "天河区"}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["role"] == "supervisor" and moved.json()["unit_id"] is None
    changes = (await admin.get("/v1/users/clerk/changes")).json()["items"]
    assert changes[0]["detail"] == {"role": "supervisor", "unit_id": None, "district": "天河区"}


async def test_a_person_changes_their_own_password(admin, anonymous):
    await _add(admin)
    auth = {"Authorization": f"Bearer {(await _sign_in(anonymous)).json()['access_token']}"}
    wrong = await anonymous.post(
        "/v1/me/password", json={"current": "nope", "new": "Another-pass-2026"}, headers=auth
    )
    assert wrong.status_code == 401
    changed = await anonymous.post(
        "/v1/me/password", json={"current": PASSWORD, "new": "Another-pass-2026"}, headers=auth
    )
    assert changed.status_code == 204
    assert (await _sign_in(anonymous)).status_code == 401
    assert (await _sign_in(anonymous, password="Another-pass-2026")).status_code == 200


async def test_the_public_keys_are_published_without_private_parts(anonymous):
    keys = (await anonymous.get("/.well-known/jwks.json")).json()["keys"]
    assert {k["kid"] for k in keys} >= {"identity", "intake", "dispatch", "sla"}
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and "d" not in k for k in keys)
