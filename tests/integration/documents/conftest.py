"""Helpers for document tests: uploads through HTTP as the worlds' users."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from tests.support.factories import World, api_token, bearer, make_world


@pytest.fixture
def world(run: Any) -> World:
    return run(make_world, "docs")  # type: ignore[no-any-return]


@pytest.fixture
def tokens(client: Any, world: World) -> dict[str, str]:
    return {key: api_token(client, account, world.slug) for key, account in world.accounts.items()}


def upload(
    client: Any,
    token: str,
    data: bytes,
    *,
    name: str = "spec.pdf",
    declared: str = "application/pdf",
    category: str = "spec",
    attached_type: str = "supplier",
    attached_id: UUID | str | None = None,
    title: str = "",
    document_id: UUID | str | None = None,
) -> Any:
    """A multipart upload through the API: a new document, or with
    ``document_id`` a new version of one."""
    files = {"file": (name, data, declared)}
    if document_id is not None:
        return client.post(f"/api/v1/documents/{document_id}/versions", files=files, headers=bearer(token))
    fields = {"attached_type": attached_type, "attached_id": str(attached_id), "category": category, "title": title}
    return client.post("/api/v1/documents", data=fields, files=files, headers=bearer(token))


def raw_upload(client: Any, token: str, fields: dict[str, str], filename: str, data: bytes, declared: str) -> Any:
    """A multipart body written by hand, the way a hostile client can send
    it: the file name goes out as raw UTF-8 bytes (httpx would escape
    control characters)."""
    boundary = "----portal-test-boundary-7f3a9c"
    body = bytearray()
    for name, value in fields.items():
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    quoted = filename.replace('"', "%22").encode()
    body += f"--{boundary}\r\n".encode() + b'Content-Disposition: form-data; name="file"; filename="' + quoted + b'"\r\n'
    body += f"Content-Type: {declared or 'application/octet-stream'}\r\n\r\n".encode() + data + f"\r\n--{boundary}--\r\n".encode()
    headers = {**bearer(token), "content-type": f"multipart/form-data; boundary={boundary}"}
    return client.post("/api/v1/documents", content=bytes(body), headers=headers)


def uploaded(client: Any, token: str, data: bytes, **kwargs: Any) -> dict[str, Any]:
    response = upload(client, token, data, **kwargs)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def wait_for_previews(run: Any) -> None:
    """Run the preview jobs the uploads queued (the tests' app runs none by itself)."""
    from portal.jobs.runner import run_due_jobs

    run(run_due_jobs)
