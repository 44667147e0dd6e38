import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field

from shared.edge import EdgeMiddleware
from shared.errors import BadInput, NotFound, RuleViolation, install_error_handlers


class Body(BaseModel):
    working_days: int = Field(gt=0)


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(EdgeMiddleware, max_body_bytes=10_000)

    @app.post("/extend")
    async def extend(body: Body) -> dict[str, int]:
        if body.working_days > 10:
            raise RuleViolation("extension_limit_reached", "at most two extensions (Art 18)")
        if body.working_days == 7:
            raise BadInput("seven is not a handling length")
        if body.working_days == 9:
            raise NotFound("no such ticket")
        if body.working_days == 5:
            raise RuntimeError("secret internals 13812345678")
        return {"ok": 1}

    return app


@pytest.fixture
async def client():
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"working_days": 11}, 409, "extension_limit_reached"),
        ({"working_days": 7}, 422, "bad_input"),
        ({"working_days": 9}, 404, "not_found"),
        ({"working_days": 0}, 422, "invalid_request"),
        ({}, 422, "invalid_request"),
    ],
)
async def test_errors_have_one_shape(client, body, status, code):
    response = await client.post("/extend", json=body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


async def test_validation_message_names_the_field(client):
    response = await client.post("/extend", json={"working_days": "many"})
    assert "working_days" in response.json()["error"]["message"]


async def test_malformed_json_is_422_not_500(client):
    response = await client.post(
        "/extend", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


async def test_unknown_path_and_method_use_the_shape(client):
    assert (await client.get("/nowhere")).json()["error"]["code"] == "not_found"
    assert (await client.get("/extend")).json()["error"]["code"] == "method_not_allowed"


async def test_unexpected_error_is_500_without_internals(client):
    response = await client.post("/extend", json={"working_days": 5})
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal", "message": "系统内部错误，已记录，请稍后重试"}
    }
