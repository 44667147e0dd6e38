"""Where attachments' bytes live, behind one small interface: the database for the embedded
default (one backup holds everything), S3-compatible object storage in production."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from typing import Any, Protocol

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake.citizens.models import Blob
from shared.errors import PeerUnavailable
from shared.settings import Settings


class Store(Protocol):
    async def put(self, session: AsyncSession, key: str, content: bytes) -> None: ...

    async def get(self, session: AsyncSession, key: str) -> bytes | None: ...


class DatabaseStore:
    """Bytes in ``intake.blob``, written in the request's own transaction: an attachment and
    its bytes are stored together or not at all."""

    async def put(self, session: AsyncSession, key: str, content: bytes) -> None:
        await session.execute(
            insert(Blob).values(key=key, content=content).on_conflict_do_nothing()
        )

    async def get(self, session: AsyncSession, key: str) -> bytes | None:
        blob = await session.get(Blob, key)
        return blob.content if blob else None


class ObjectStore:
    """Bytes in an S3-compatible bucket (the city's object storage). Objects are named by
    their SHA-256 and written before the transaction commits: a rolled-back attachment leaves
    an object no row names, never a row without its object."""

    def __init__(
        self,
        *,
        endpoint: str,
        bucket: str,
        access_key: str,
        secret_key: str,
        region: str,
        secure: bool,
        timeout: float,
    ) -> None:
        self.bucket = bucket
        # The region given: the client asks the service for none (one request fewer). Two
        # quick retries, then the request is told to try again (503) rather than kept waiting.
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=3, read=timeout),
            retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503]),
        )
        self.client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            region=region,
            secure=secure,
            http_client=http,
        )

    async def put(self, session: AsyncSession, key: str, content: bytes) -> None:
        await self._call(
            self.client.put_object, self.bucket, key, io.BytesIO(content), len(content)
        )

    async def get(self, session: AsyncSession, key: str) -> bytes | None:
        def read() -> bytes | None:
            try:
                response = self.client.get_object(self.bucket, key)
            except S3Error as error:
                if error.code == "NoSuchKey":
                    return None
                raise
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        result: bytes | None = await self._call(read)
        return result

    @staticmethod
    async def _call(work: Callable[..., Any], *args: Any) -> Any:
        # MinIO's client blocks: it runs in a thread, and a failure is "try again", not a 500.
        try:
            return await asyncio.to_thread(work, *args)
        except (S3Error, MinioException, urllib3.exceptions.HTTPError) as exc:
            raise PeerUnavailable(
                "the attachment store cannot be reached; try again shortly"
            ) from exc


def store_for(settings: Settings) -> Store:
    """Object storage when an endpoint is configured, else the database."""
    if not settings.attachment_s3_endpoint:
        return DatabaseStore()
    secret = settings.attachment_s3_secret_key
    return ObjectStore(
        endpoint=settings.attachment_s3_endpoint,
        bucket=settings.attachment_s3_bucket,
        access_key=settings.attachment_s3_access_key,
        secret_key=secret.get_secret_value() if secret else "",
        region=settings.attachment_s3_region,
        secure=settings.attachment_s3_secure,
        timeout=settings.http_timeout_seconds,
    )
