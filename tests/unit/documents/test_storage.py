"""Object keys are made in one place and nothing else is accepted; the local
backend stores atomically; download headers cannot be bent by a name."""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from portal.documents.storage import (
    InvalidKey,
    LocalStorage,
    base_key,
    checked,
    checkpoint_key,
    checkpoint_prefix,
    content_disposition,
    object_key,
    preview_keys,
)
from portal.security_headers import content_security_policy

# Fixed ids: xdist workers must collect the same parametrized ids.
TENANT = UUID("0b3f4c1e-9a4d-4b9e-8f1a-2c5d6e7f8091")


def test_keys_are_built_from_ids_only() -> None:
    tenant, document, version = uuid4(), uuid4(), uuid4()
    key = object_key(tenant, document, version)
    assert key == f"tenants/{tenant}/documents/{document}/{version}"
    thumb, preview = preview_keys(key)
    assert base_key(thumb) == key
    assert base_key(preview) == key
    with pytest.raises(ValueError, match="badly formed"):
        object_key("../../etc", document, version)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "key",
    [
        "../etc/passwd",
        "tenants/../../etc/passwd",
        f"tenants/{TENANT}/documents/{TENANT}/../{TENANT}",
        f"/tenants/{TENANT}/documents/{TENANT}/{TENANT}",
        f"tenants/{TENANT}/documents/{TENANT}/{TENANT}.html",
        f"tenants/{str(TENANT).upper()}/documents/{TENANT}/{TENANT}",
        f"audit/{TENANT}/checkpoints/../../{TENANT}.json",
        f"audit/{TENANT}/checkpoints/999999999994-5.json.html",
        "",
    ],
)
def test_anything_else_is_refused_before_any_io(key: str) -> None:
    with pytest.raises(InvalidKey):
        checked(key)
    with pytest.raises(InvalidKey):
        LocalStorage(Path("/nonexistent")).local_path(key)


@pytest.mark.parametrize(
    "name",
    ['a"; filename="evil.html', "a\r\nSet-Cookie: x=1", "图纸 rev B.pdf", "x;y,z.pdf", "back\\slash.pdf"],
)
def test_content_disposition_cannot_be_bent_by_a_name(name: str) -> None:
    header = content_disposition("attachment", name)
    assert header.startswith('attachment; filename="')
    assert "\r" not in header
    assert "\n" not in header
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert '"' not in fallback
    assert "\\" not in fallback
    assert header.count('filename="') == 1
    assert "filename*=UTF-8''" in header


def test_local_storage_stores_reads_lists_and_deletes(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "blobs")
    key = object_key(uuid4(), uuid4(), uuid4())
    staged = storage.staging_dir() / "upload-x"
    staged.write_bytes(b"hello")

    async def scenario() -> None:
        await storage.put_file(key, staged)
        assert not staged.exists()
        info = await storage.stat(key)
        assert info is not None
        assert info.size == 5
        with storage.open(key) as stream:
            assert stream.read() == b"hello"
        thumb, _ = preview_keys(key)
        await storage.put_bytes(thumb, b"webp")
        assert sorted(item.key for item in storage.walk()) == sorted([key, thumb])
        await storage.delete(key)
        assert await storage.stat(key) is None
        await storage.delete(key)  # twice is fine

    asyncio.run(scenario())
    assert list(storage.staging_dir().iterdir()) == []


def test_checkpoint_keys_are_built_from_tenant_and_seq_and_list_newest_first(tmp_path: Path) -> None:
    tenant = uuid4()
    storage = LocalStorage(tmp_path / "blobs")

    async def scenario() -> list[str]:
        for seq in (9, 10, 1000):
            await storage.put_bytes(checkpoint_key(tenant, seq), b"{}")
        await storage.put_bytes(checkpoint_key(uuid4(), 11), b"{}")
        return await storage.list_keys(checkpoint_prefix(tenant), 2)

    newest = asyncio.run(scenario())

    assert checkpoint_key(tenant, 5) == f"audit/{tenant}/checkpoints/999999999994-5.json"
    assert checked(checkpoint_key(tenant, 5)) == checkpoint_key(tenant, 5)
    assert newest == [checkpoint_key(tenant, 1000), checkpoint_key(tenant, 10)]
    assert asyncio.run(storage.read_bytes(checkpoint_key(tenant, 9))) == b"{}"
    assert asyncio.run(storage.read_bytes(checkpoint_key(tenant, 8))) is None
    # Document maintenance walks tenants/ only: checkpoints are never orphans.
    assert list(storage.walk()) == []
    with pytest.raises(InvalidKey):
        preview_keys(checkpoint_key(tenant, 5))
    with pytest.raises(InvalidKey):
        asyncio.run(storage.list_keys("audit/../", 1))


def test_the_csp_names_only_well_formed_extra_origins() -> None:
    assert "connect-src 'self';" in content_security_policy()
    assert "connect-src 'self' https://s3.example.com:9000;" in content_security_policy(["https://s3.example.com:9000"])
    for bad in ("javascript:alert(1)", "https://a.example.com; script-src *", "*", "https://x.example.com/path"):
        assert bad not in content_security_policy([bad])
