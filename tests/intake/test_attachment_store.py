"""Attachments in S3-compatible object storage (production) through MinIO's client, against a
storage service on a real port: the bytes go to the bucket, named by their SHA-256, and come
back under the ticket's access rules; a store that cannot be reached delays the upload (503)
and keeps nothing half-done."""

import hashlib

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from shared.auth import Role
from tests.intake.test_citizens_rules import _photo_with_gps
from tests.support.s3 import ACCESS_KEY, BUCKET, SECRET_KEY, ObjectStorage
from tests.support.serving import InThread
from tests.support.stack import free_port

CALL = {"channel": "phone", "text": "路灯不亮", "ticket_type": "complaint", "outcome": "submitted"}


@pytest.fixture
def storage():
    port, service = free_port(), ObjectStorage()
    with InThread(service.app, port):
        service.port = port
        yield service


@pytest.fixture
def app_on_storage(make_app, settings, storage):
    return make_app(
        "intake",
        settings=settings.model_copy(
            update={
                "attachment_s3_endpoint": f"127.0.0.1:{storage.port}",
                "attachment_s3_bucket": BUCKET,
                "attachment_s3_access_key": ACCESS_KEY,
                "attachment_s3_secret_key": SecretStr(SECRET_KEY),
                "attachment_s3_secure": False,
            }
        ),
    )


async def test_an_attachments_bytes_live_in_the_bucket(
    app_on_storage, client_for, storage, session
):
    async with client_for(app_on_storage, Role.AGENT) as agent:
        ticket = (await agent.post("/v1/tickets", json=CALL)).json()
        added = await agent.post(
            f"/v1/tickets/{ticket['id']}/attachments",
            files={"file": ("a.jpg", _photo_with_gps(23.1, 113.3), "image/jpeg")},
        )
        assert added.status_code == 201, added.text
        content = await agent.get(f"/v1/attachments/{added.json()['id']}")
    [(key, stored)] = storage.objects.items()
    assert key == hashlib.sha256(stored).hexdigest() and content.content == stored
    assert storage.unsigned == 0
    assert await session.scalar(text("SELECT count(*) FROM intake.blob")) == 0


async def test_an_unreachable_store_delays_the_upload_and_keeps_nothing(
    make_app, settings, client_for, session
):
    app = make_app(
        "intake",
        settings=settings.model_copy(
            update={
                "attachment_s3_endpoint": f"127.0.0.1:{free_port()}",  # nothing listens
                "attachment_s3_access_key": ACCESS_KEY,
                "attachment_s3_secret_key": SecretStr(SECRET_KEY),
                "attachment_s3_secure": False,
            }
        ),
    )
    async with client_for(app, Role.AGENT) as agent:
        ticket = (await agent.post("/v1/tickets", json=CALL)).json()
        refused = await agent.post(
            f"/v1/tickets/{ticket['id']}/attachments",
            files={"file": ("a.jpg", _photo_with_gps(23.1, 113.3), "image/jpeg")},
        )
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "peer_unavailable"
    assert await session.scalar(text("SELECT count(*) FROM intake.attachment")) == 0
