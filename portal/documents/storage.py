"""Where document bytes live: local files (the embedded default) or an
S3-compatible bucket. One small interface; boto3 is synchronous, so every S3
call runs in a worker thread, never on the event loop.

Object keys are built here, from tenant, document and version ids (and the
audit trail's checkpoints from tenant and sequence number), and nowhere
else; a key never comes from a client. Methods named ``open`` and
``walk`` block: call them inside a worker thread.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import os
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import quote, urlsplit
from uuid import UUID

import anyio.to_thread

from portal.settings import Settings

THUMB_SUFFIX = ".thumb.webp"
PREVIEW_SUFFIX = ".preview.webp"
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
KEY_PATTERN = re.compile(
    rf"^tenants/(?P<tenant>{_UUID})/documents/(?P<document>{_UUID})/(?P<version>{_UUID})(?P<suffix>\.thumb\.webp|\.preview\.webp)?$"
)
# Audit checkpoints live outside ``tenants/``: document garbage collection
# and verification never see them. The name's first number counts down as
# the sequence number rises, so a listing (ascending on every store) starts
# with the newest checkpoint.
CHECKPOINT_PATTERN = re.compile(rf"^audit/(?P<tenant>{_UUID})/checkpoints/(?P<countdown>\d{{12}})-(?P<seq>\d+)\.json$")
_CHECKPOINT_SEQ_LIMIT = 10**12 - 1
DOCUMENTS_PREFIX = "tenants/"
CHECKPOINTS_PREFIX = "audit/"
# Staged files are named by the app (a random UUID), never by the client.
STAGING_DIR = ".incoming"


class StorageUnavailable(Exception):
    pass


class InvalidKey(ValueError):
    """A key that ``object_key`` could not have built: refused before any I/O."""


def object_key(tenant_id: UUID, document_id: UUID, version_id: UUID) -> str:
    """The one place object keys are made."""
    return f"tenants/{UUID(str(tenant_id))}/documents/{UUID(str(document_id))}/{UUID(str(version_id))}"


def checkpoint_prefix(tenant_id: UUID) -> str:
    """Where a tenant's audit checkpoints are listed."""
    return f"audit/{UUID(str(tenant_id))}/checkpoints/"


def checkpoint_key(tenant_id: UUID, seq: int) -> str:
    """The one place audit checkpoint keys are made."""
    if not 0 <= seq <= _CHECKPOINT_SEQ_LIMIT:
        raise InvalidKey(f"checkpoint seq {seq}")
    return f"{checkpoint_prefix(tenant_id)}{_CHECKPOINT_SEQ_LIMIT - seq:012d}-{seq}.json"


def preview_keys(key: str) -> tuple[str, str]:
    """The thumbnail's and the preview's keys for a version's key."""
    if not KEY_PATTERN.match(key):
        raise InvalidKey(key)
    return key + THUMB_SUFFIX, key + PREVIEW_SUFFIX


def checked(key: str) -> str:
    """``key`` when one of the key builders above could have made it."""
    if not (KEY_PATTERN.match(key) or CHECKPOINT_PATTERN.match(key)):
        raise InvalidKey(key)
    return key


def checked_prefix(prefix: str) -> str:
    if not re.fullmatch(rf"audit/{_UUID}/checkpoints/", prefix):
        raise InvalidKey(prefix)
    return prefix


def walk_prefix(prefix: str) -> str:
    if prefix not in (DOCUMENTS_PREFIX, CHECKPOINTS_PREFIX):
        raise InvalidKey(prefix)
    return prefix


def base_key(key: str) -> str:
    """The version key a thumbnail or preview key belongs to."""
    match = KEY_PATTERN.match(key)
    if not match:
        raise InvalidKey(key)
    return key[: len(key) - len(match.group("suffix") or "")]


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    modified: datetime
    etag: str | None = None
    checksum_sha256: str | None = None  # base64, as S3 reports it


@dataclass(frozen=True)
class DirectUpload:
    url: str
    method: str
    headers: dict[str, str]
    expires_in: int


def content_disposition(kind: str, name: str) -> str:
    """RFC 6266: an ASCII fallback plus the UTF-8 name (RFC 5987). Only
    printable ASCII other than quote and backslash survives in the fallback,
    whatever the name: a header cannot be split or re-quoted by it."""
    fallback = "".join(ch if " " <= ch <= "~" and ch not in '"\\' else "_" for ch in name)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


class Storage(Protocol):
    name: str
    direct_uploads: bool

    async def check(self) -> None:
        """Raise StorageUnavailable when the store cannot be written."""

    def staging_dir(self) -> Path:
        """A local folder for files being received; on the blob file system
        for local storage, so that storing is a rename."""

    async def put_file(self, key: str, path: Path) -> None:
        """Store a finished local file under ``key``; the file is consumed."""

    async def put_bytes(self, key: str, data: bytes) -> None: ...

    async def read_bytes(self, key: str) -> bytes | None:
        """A small object's bytes, None when there is none under ``key``."""

    async def list_keys(self, prefix: str, limit: int) -> list[str]:
        """The first ``limit`` keys under ``prefix``, in ascending order."""

    async def stat(self, key: str) -> StoredObject | None: ...

    async def delete(self, key: str) -> None: ...

    def open(self, key: str, *, whole: bool = False) -> contextlib.AbstractContextManager[IO[bytes]]:
        """A seekable reader of the object (blocking); ``whole`` when the
        caller will read every byte."""

    def walk(self, prefix: str = DOCUMENTS_PREFIX) -> Iterator[StoredObject]:
        """Every object under ``tenants/`` (blocking); ``audit/`` for the
        audit checkpoints (only backups want those)."""

    def browser_origins(self) -> list[str]:
        """Origins the browser talks to directly (for the CSP)."""

    def download_url(self, key: str, *, filename: str, content_type: str, inline: bool) -> str | None:
        """A short-lived URL to fetch the object directly, or None when the
        app serves it itself."""

    def local_path(self, key: str) -> Path | None: ...


class LocalStorage:
    name = "file"
    direct_uploads = False

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

    def staging_dir(self) -> Path:
        path = self.root / STAGING_DIR
        path.mkdir(parents=True, exist_ok=True)
        return path

    def local_path(self, key: str) -> Path:
        return self.root / checked(key)

    async def put_file(self, key: str, path: Path) -> None:
        await anyio.to_thread.run_sync(self._put_file, key, path)

    def _put_file(self, key: str, path: Path) -> None:
        target = self.local_path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # The staged file was fsynced by its writer; the rename is atomic and
        # the directory entry is made durable before the row is written.
        os.replace(path, target)
        _fsync_dir(target.parent)

    async def put_bytes(self, key: str, data: bytes) -> None:
        await anyio.to_thread.run_sync(self._put_bytes, key, data)

    def _put_bytes(self, key: str, data: bytes) -> None:
        checked(key)
        with tempfile.NamedTemporaryFile(dir=self.staging_dir(), prefix="put-", delete=False) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        self._put_file(key, Path(handle.name))

    async def read_bytes(self, key: str) -> bytes | None:
        return await anyio.to_thread.run_sync(self._read_bytes, key)

    def _read_bytes(self, key: str) -> bytes | None:
        try:
            return self.local_path(key).read_bytes()
        except FileNotFoundError:
            return None

    async def list_keys(self, prefix: str, limit: int) -> list[str]:
        return await anyio.to_thread.run_sync(self._list_keys, prefix, limit)

    def _list_keys(self, prefix: str, limit: int) -> list[str]:
        try:
            names = sorted(os.listdir(self.root / checked_prefix(prefix)))
        except FileNotFoundError:
            return []
        return [prefix + name for name in names if CHECKPOINT_PATTERN.match(prefix + name)][:limit]

    async def stat(self, key: str) -> StoredObject | None:
        return await anyio.to_thread.run_sync(self._stat, key)

    def _stat(self, key: str) -> StoredObject | None:
        try:
            info = self.local_path(key).stat()
        except FileNotFoundError:
            return None
        return StoredObject(key=key, size=info.st_size, modified=datetime.fromtimestamp(info.st_mtime, UTC))

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(self._delete, key)

    def _delete(self, key: str) -> None:
        self.local_path(key).unlink(missing_ok=True)

    @contextlib.contextmanager
    def open(self, key: str, *, whole: bool = False) -> Iterator[IO[bytes]]:
        with self.local_path(key).open("rb") as handle:
            yield handle

    def walk(self, prefix: str = DOCUMENTS_PREFIX) -> Iterator[StoredObject]:
        top = self.root / walk_prefix(prefix).rstrip("/")
        for directory, _, files in os.walk(top):
            for file in sorted(files):
                path = Path(directory) / file
                key = path.relative_to(self.root).as_posix()
                try:
                    info = path.stat()
                except FileNotFoundError:
                    continue
                yield StoredObject(key=key, size=info.st_size, modified=datetime.fromtimestamp(info.st_mtime, UTC))

    def browser_origins(self) -> list[str]:
        return []

    def download_url(self, key: str, *, filename: str, content_type: str, inline: bool) -> str | None:
        return None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class S3Storage:
    name = "s3"
    direct_uploads = True

    def __init__(self, bucket: str, endpoint: str | None, region: str, staging: Path | None = None) -> None:
        self.bucket = bucket
        self.endpoint = endpoint
        self.region = region
        self.staging = staging or Path(tempfile.gettempdir()) / "portal-staging"
        self.bytes_read = 0  # body bytes fetched by open(): verification's footprint
        self._lock = threading.Lock()

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
            read_timeout=60,
            retries={"max_attempts": 3},
            # Checksums are checked where we ask for them (confirm, verify):
            # botocore would otherwise check a ranged GET's bytes against the
            # whole object's checksum, which some servers send, and fail.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
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

    def staging_dir(self) -> Path:
        path = self.staging / STAGING_DIR
        path.mkdir(parents=True, exist_ok=True)
        return path

    def local_path(self, key: str) -> Path | None:
        return None

    async def put_file(self, key: str, path: Path) -> None:
        await anyio.to_thread.run_sync(self._put_file, key, path)

    def _put_file(self, key: str, path: Path) -> None:
        try:
            self.client.upload_file(
                str(path), self.bucket, checked(key), ExtraArgs={"ContentType": "application/octet-stream", "ChecksumAlgorithm": "SHA256"}
            )
        finally:
            path.unlink(missing_ok=True)

    async def put_bytes(self, key: str, data: bytes) -> None:
        await anyio.to_thread.run_sync(self._put_bytes, key, data)

    def _put_bytes(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=checked(key), Body=data, ContentType="application/octet-stream")

    async def read_bytes(self, key: str) -> bytes | None:
        return await anyio.to_thread.run_sync(self._read_bytes, key)

    def _read_bytes(self, key: str) -> bytes | None:
        with tempfile.TemporaryFile(dir=self.staging_dir()) as handle:
            try:
                self._download(checked(key), handle)
            except FileNotFoundError:
                return None
            handle.seek(0)
            return handle.read()

    async def list_keys(self, prefix: str, limit: int) -> list[str]:
        return await anyio.to_thread.run_sync(self._list_keys, prefix, limit)

    def _list_keys(self, prefix: str, limit: int) -> list[str]:
        keys: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=checked_prefix(prefix), PaginationConfig={"MaxItems": limit}):
            keys += [item["Key"] for item in page.get("Contents", []) if CHECKPOINT_PATTERN.match(item["Key"])]
        return sorted(keys)[:limit]

    async def stat(self, key: str) -> StoredObject | None:
        return await anyio.to_thread.run_sync(self._stat, key)

    def _stat(self, key: str) -> StoredObject | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=checked(key), ChecksumMode="ENABLED")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return StoredObject(
            key=key,
            size=int(head["ContentLength"]),
            modified=head["LastModified"],
            etag=str(head.get("ETag", "")).strip('"') or None,
            checksum_sha256=head.get("ChecksumSHA256"),
        )

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(self._delete, key)

    def _delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=checked(key))

    @contextlib.contextmanager
    def open(self, key: str, *, whole: bool = False) -> Iterator[IO[bytes]]:
        """Ranged reads of only what the reader touches, or (``whole``) one
        streaming GET into a temporary file, for readers of every byte."""
        if whole:
            with tempfile.TemporaryFile(dir=self.staging_dir()) as handle:
                self._download(checked(key), handle)
                handle.seek(0)
                yield handle
            return
        info = self._stat(key)
        if info is None:
            raise FileNotFoundError(key)
        reader = RangeReader(self, checked(key), info.size)
        try:
            yield reader  # type: ignore[misc]
        finally:
            reader.close()

    def _download(self, key: str, handle: IO[bytes]) -> None:
        from botocore.exceptions import ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(key) from None
            raise
        body = response["Body"]
        try:
            for chunk in body.iter_chunks(1024 * 1024):
                handle.write(chunk)
                self._count(len(chunk))
        finally:
            body.close()

    def _count(self, amount: int) -> None:
        with self._lock:
            self.bytes_read += amount

    def walk(self, prefix: str = DOCUMENTS_PREFIX) -> Iterator[StoredObject]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=walk_prefix(prefix)):
            for item in page.get("Contents", []):
                yield StoredObject(
                    key=item["Key"], size=int(item["Size"]), modified=item["LastModified"], etag=str(item.get("ETag", "")).strip('"')
                )

    def browser_origins(self) -> list[str]:
        parts = urlsplit(self.client.meta.endpoint_url)
        return [f"{parts.scheme}://{parts.netloc}"]

    def direct_upload(self, key: str, *, size: int, md5_b64: str, sha256_b64: str, expires_in: int) -> DirectUpload:
        """A presigned PUT for exactly one key, exactly ``size`` bytes whose
        MD5 and SHA-256 are signed in: storage refuses any other body (every
        S3 server checks Content-MD5; AWS S3 and MinIO check the SHA-256)."""
        url = self.client.generate_presigned_url(
            "put_object",
            Params={
                "Bucket": self.bucket,
                "Key": checked(key),
                "ContentLength": size,
                "ContentMD5": md5_b64,
                "ChecksumSHA256": sha256_b64,
                "ContentType": "application/octet-stream",
            },
            ExpiresIn=expires_in,
        )
        headers = {"Content-Type": "application/octet-stream", "Content-MD5": md5_b64, "x-amz-checksum-sha256": sha256_b64}
        return DirectUpload(url=url, method="PUT", headers=headers, expires_in=expires_in)

    async def cors_rules(self) -> list[dict[str, Any]]:
        """The bucket's CORS rules (none when it has no configuration)."""
        return await anyio.to_thread.run_sync(self._cors_rules)

    def _cors_rules(self) -> list[dict[str, Any]]:
        from botocore.exceptions import ClientError

        try:
            response = self.client.get_bucket_cors(Bucket=self.bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NoSuchCORSConfiguration":
                return []
            raise
        return list(response.get("CORSRules", []))

    async def set_cors_rules(self, rules: list[dict[str, Any]]) -> None:
        """Replace the bucket's CORS configuration with ``rules``."""
        await anyio.to_thread.run_sync(lambda: self.client.put_bucket_cors(Bucket=self.bucket, CORSConfiguration={"CORSRules": rules}))

    def download_url(self, key: str, *, filename: str, content_type: str, inline: bool) -> str | None:
        from portal.documents.config import DOWNLOAD_URL_SECONDS

        return str(
            self.client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": checked(key),
                    "ResponseContentDisposition": content_disposition("inline" if inline else "attachment", filename),
                    "ResponseContentType": content_type,
                    "ResponseCacheControl": "private, no-store",
                },
                ExpiresIn=DOWNLOAD_URL_SECONDS,
            )
        )

    def fetch_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` (exclusive) of an object."""
        response = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end - 1}")
        body = response["Body"]
        try:
            data: bytes = body.read()
        finally:
            body.close()
        self._count(len(data))
        return data


class RangeReader(io.RawIOBase):
    """A seekable, read-only view of an S3 object that fetches only the
    blocks a reader touches (ranged GETs), keeping a few in memory. Content
    checks read headers, trailers and structure through it, not the body."""

    BLOCK = 256 * 1024
    CACHED_BLOCKS = 16

    def __init__(self, storage: S3Storage, key: str, size: int) -> None:
        super().__init__()
        self.storage = storage
        self.key = key
        self.size = size
        self.position = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self.position = offset
        elif whence == io.SEEK_CUR:
            self.position += offset
        elif whence == io.SEEK_END:
            self.position = self.size + offset
        else:
            raise ValueError(f"bad whence {whence}")
        self.position = max(0, self.position)
        return self.position

    def _block(self, index: int) -> bytes:
        block = self._blocks.get(index)
        if block is None:
            start = index * self.BLOCK
            block = self.storage.fetch_range(self.key, start, min(self.size, start + self.BLOCK))
            self._blocks[index] = block
            if len(self._blocks) > self.CACHED_BLOCKS:
                self._blocks.popitem(last=False)
        else:
            self._blocks.move_to_end(index)
        return block

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self.size - self.position)
        done = 0
        while done < wanted:
            index, offset = divmod(self.position, self.BLOCK)
            block = self._block(index)
            piece = block[offset : offset + wanted - done]
            if not piece:
                break
            view[done : done + len(piece)] = piece
            done += len(piece)
            self.position += len(piece)
        return done

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = self.size - self.position
        buffer = bytearray(max(0, min(size, self.size - self.position)))
        count = self.readinto(buffer)
        return bytes(buffer[:count])


def sha256_of(stream: IO[bytes]) -> str:
    """Re-hash a stored object (blocking)."""
    digest = hashlib.sha256()
    stream.seek(0)
    while chunk := stream.read(1024 * 1024):
        digest.update(chunk)
    return digest.hexdigest()


def open_storage(settings: Settings) -> Storage:
    if settings.storage_kind == "s3":
        return S3Storage(settings.s3_bucket, settings.s3_endpoint, settings.aws_region, staging=settings.var_dir / "staging")
    return LocalStorage(settings.local_storage_path)


_process_storage: list[Storage] = []


def process_storage() -> Storage:
    """The storage of this process, for work that has no request to ask
    (jobs): the one the app opened, or one opened from the settings."""
    if not _process_storage:
        from portal.settings import get_settings

        _process_storage.append(open_storage(get_settings()))
    return _process_storage[-1]


def use_process_storage(storage: Storage) -> Storage | None:
    """Make ``storage`` the process's storage; returns the one it replaces."""
    previous = _process_storage[-1] if _process_storage else None
    _process_storage[:] = [storage]
    return previous
