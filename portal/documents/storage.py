"""Where document bytes live: local files (the embedded default) or an
S3-compatible bucket. One small interface; boto3 is synchronous, so every S3
call runs in a worker thread, never on the event loop."""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

import anyio.to_thread

from portal.settings import Settings


class StorageUnavailable(Exception):
    pass


class Storage(Protocol):
    name: str

    async def check(self) -> None:
        """Raise StorageUnavailable when the store cannot be written."""


class LocalStorage:
    name = "file"

    def __init__(self, root: Path) -> None:
        self.root = root

    async def check(self) -> None:
        await anyio.to_thread.run_sync(self._check)

    def _check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".probe-"):
                pass
        except OSError as exc:
            raise StorageUnavailable(f"{self.root}: {exc.strerror}") from exc


class S3Storage:
    name = "s3"

    def __init__(self, bucket: str, endpoint: str | None, region: str) -> None:
        self.bucket = bucket
        self.endpoint = endpoint
        self.region = region

    @functools.cached_property
    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        # Path-style and SigV4 so MinIO, rclone and other S3-compatible
        # servers accept both direct calls and presigned URLs.
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            connect_timeout=3,
            read_timeout=10,
            retries={"max_attempts": 2},
        )
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY"),
            config=config,
        )

    async def check(self) -> None:
        await anyio.to_thread.run_sync(self._check)

    def _check(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"s3://{self.bucket}: {exc}") from exc


def open_storage(settings: Settings) -> Storage:
    if settings.storage_kind == "s3":
        return S3Storage(settings.s3_bucket, settings.s3_endpoint, settings.aws_region)
    return LocalStorage(settings.local_storage_path)
