"""The city's object storage for tests: the part of the S3 API the attachment store uses (put,
get, a missing key), in memory. It checks that requests are signed (AWS Signature V4) with
the access key it was given; it does not recompute the signature."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response

ACCESS_KEY = "hotline-test"
SECRET_KEY = "hotline-test-secret"
BUCKET = "attachments"


class ObjectStorage:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.unsigned = 0  # requests that came without this key's signature
        self.app = FastAPI()
        self.app.add_api_route("/{bucket}/{key:path}", self.put, methods=["PUT"])
        self.app.add_api_route("/{bucket}/{key:path}", self.get, methods=["GET"])

    def _signed(self, request: Request) -> bool:
        signed = request.headers.get("authorization", "").startswith(
            f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/"
        )
        self.unsigned += not signed
        return signed

    async def put(self, bucket: str, key: str, request: Request) -> Response:
        if not self._signed(request) or bucket != BUCKET:
            return Response(status_code=403)
        self.objects[key] = await request.body()
        return Response(headers={"ETag": '"0"'})

    async def get(self, bucket: str, key: str, request: Request) -> Response:
        if not self._signed(request) or bucket != BUCKET:
            return Response(status_code=403)
        if key not in self.objects:
            error = (
                '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code>'
                f"<Message>no such key</Message><Key>{key}</Key></Error>"
            )
            return Response(error, status_code=404, media_type="application/xml")
        return Response(self.objects[key], media_type="application/octet-stream")
