"""Documents on S3 against a real S3-compatible server (``rclone serve s3``):
the direct path presign -> PUT straight to storage -> confirm, what storage
and confirm refuse, short-lived presigned downloads, and how little of an
object the app reads to verify it."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import httpx
import pytest

from portal.documents.storage import RangeReader, S3Storage, object_key, use_process_storage
from tests.integration.documents.conftest import upload, uploaded, wait_for_previews
from tests.support.documents import samples
from tests.support.documents.rclone import RcloneS3, rclone_s3
from tests.support.factories import World, api_token, bearer, make_world

pytestmark = pytest.mark.s3


@pytest.fixture(scope="session")
def s3_server() -> Iterator[RcloneS3]:
    with rclone_s3() as server:
        yield server


@pytest.fixture(scope="module")
def s3(client: Any, s3_server: RcloneS3, tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Storage]:
    """The app's storage swapped for an S3 bucket on the rclone server."""
    import os

    saved = {name: os.environ.get(name) for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ["AWS_ACCESS_KEY_ID"] = s3_server.access_key
    os.environ["AWS_SECRET_ACCESS_KEY"] = s3_server.secret_key
    bucket = s3_server.create_bucket("portal-documents")
    storage = S3Storage(bucket, s3_server.endpoint, s3_server.region, staging=tmp_path_factory.mktemp("s3-staging"))
    assert storage.client is not None  # created now, with the keys above
    previous = client.app.state.storage
    client.app.state.storage = storage
    # The preview jobs read the same storage as the app's requests.
    use_process_storage(storage)
    try:
        yield storage
    finally:
        client.app.state.storage = previous
        use_process_storage(previous)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="module")
def s3_world(client: Any, run: Any) -> tuple[World, dict[str, str]]:
    world = run(make_world, "docs-s3")
    return world, {key: api_token(client, account, world.slug) for key, account in world.accounts.items()}


def announce(data: bytes, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": "spec.pdf",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "md5": hashlib.md5(data).hexdigest(),  # noqa: S324 - what S3 checks a body against
        "content_type": "application/pdf",
        "category": "spec",
        "attached_type": "supplier",
    }
    body.update(overrides)
    return body


def presign(client: Any, token: str, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/documents/uploads", json=body, headers=bearer(token))


def put(ticket: dict[str, Any], data: bytes) -> httpx.Response:
    """What the browser does: the presigned PUT with the signed headers."""
    return httpx.request(ticket["method"], ticket["url"], content=data, headers=ticket["headers"], timeout=30)


def confirm(client: Any, token: str, ticket: str) -> Any:
    return client.post("/api/v1/documents/uploads/confirm", json={"ticket": ticket}, headers=bearer(token))


def direct_upload(client: Any, token: str, data: bytes, **overrides: Any) -> dict[str, Any]:
    presigned = presign(client, token, announce(data, **overrides))
    assert presigned.status_code == 201, presigned.text
    ticket = presigned.json()
    stored = put(ticket, data)
    assert stored.status_code == 200, stored.text
    confirmed = confirm(client, token, ticket["ticket"])
    assert confirmed.status_code == 201, confirmed.text
    return confirmed.json()  # type: ignore[no-any-return]


def test_presign_put_confirm_then_verify_and_download(client: Any, run: Any, s3: S3Storage, s3_world: tuple[World, dict[str, str]]) -> None:
    from portal.documents.maintenance import verify_objects

    world, tokens = s3_world
    data = samples.pdf(2)
    presigned = presign(client, tokens["supplier_operator"], announce(data, attached_id=str(world.supplier_ids[0])))
    assert presigned.status_code == 201, presigned.text
    ticket = presigned.json()
    assert ticket["method"] == "PUT"
    query = parse_qs(urlsplit(ticket["url"]).query)
    assert query["X-Amz-Expires"] == ["900"]
    signed = set(query["X-Amz-SignedHeaders"][0].split(";"))
    assert {"content-length", "content-md5", "x-amz-checksum-sha256", "host"} <= signed
    key = object_key(world.tenant_id, ticket["document_id"], ticket["version_id"])
    assert urlsplit(ticket["url"]).path == f"/{s3.bucket}/{key}"
    # Nothing exists before the confirm.
    assert client.get(f"/api/v1/documents/{ticket['document_id']}", headers=bearer(tokens["planner"])).status_code == 404

    assert put(ticket, data).status_code == 200
    confirmed = confirm(client, tokens["supplier_operator"], ticket["ticket"])
    assert confirmed.status_code == 201, confirmed.text
    document = confirmed.json()
    assert document["id"] == ticket["document_id"]
    assert document["current"]["id"] == ticket["version_id"]
    assert document["current"]["sha256"] == hashlib.sha256(data).hexdigest()
    # Confirming again changes nothing.
    again = confirm(client, tokens["supplier_operator"], ticket["ticket"])
    assert again.status_code == 201
    assert again.json()["current"]["id"] == ticket["version_id"]
    assert len(client.get(f"/api/v1/documents/{document['id']}/versions", headers=bearer(tokens["qa"])).json()["items"]) == 1

    checked, problems = run(lambda: verify_objects(s3))
    assert checked >= 1
    assert [problem for problem in problems if problem.key == key] == []

    redirect = client.get(f"/api/v1/documents/{document['id']}/content", headers=bearer(tokens["qa"]), follow_redirects=False)
    assert redirect.status_code == 303
    assert redirect.headers["cache-control"] == "no-store"
    location = redirect.headers["location"]
    download_query = parse_qs(urlsplit(location).query)
    assert download_query["X-Amz-Expires"] == ["60"]
    assert download_query["response-content-disposition"][0].startswith("attachment;")
    assert download_query["response-content-type"] == ["application/pdf"]
    fetched = httpx.get(location, timeout=30)
    assert fetched.status_code == 200
    assert fetched.content == data
    assert fetched.headers["content-disposition"].startswith("attachment;")
    assert fetched.headers["content-type"] == "application/pdf"


def test_storage_refuses_a_put_that_is_not_what_was_announced(client: Any, s3: S3Storage, s3_world: tuple[World, dict[str, str]]) -> None:
    world, tokens = s3_world
    data = samples.pdf()
    for body in (data[:-1] + b"X", data + b"more"):
        presigned = presign(client, tokens["qa"], announce(data, attached_id=str(world.supplier_ids[0]))).json()
        try:
            stored = put(presigned, body)
            refused = stored.status_code >= 400
        except httpx.HTTPError:
            refused = True
        assert refused, "storage took a body the URL was not signed for"
        missing = confirm(client, tokens["qa"], presigned["ticket"])
        assert missing.status_code == 409
        assert missing.json()["error"]["code"] == "upload_missing"


def test_confirm_refuses_an_object_that_does_not_match_and_deletes_it(
    client: Any, s3: S3Storage, s3_world: tuple[World, dict[str, str]]
) -> None:
    """Behind the storage's own checks, confirm checks again: an object put
    at the key some other way (wrong size, wrong bytes) is refused."""
    world, tokens = s3_world
    data = samples.pdf()
    for wrong in (data + b"%trailing", data[:-4] + b"XXXX"):
        ticket = presign(client, tokens["qa"], announce(data, attached_id=str(world.supplier_ids[0]))).json()
        key = object_key(world.tenant_id, ticket["document_id"], ticket["version_id"])
        s3.client.put_object(Bucket=s3.bucket, Key=key, Body=wrong)
        refused = confirm(client, tokens["qa"], ticket["ticket"])
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "upload_mismatch"
        assert s3._stat(key) is None
        assert client.get(f"/api/v1/documents/{ticket['document_id']}", headers=bearer(tokens["qa"])).status_code == 404


def test_confirm_refuses_content_that_is_not_what_it_claims(client: Any, s3: S3Storage, s3_world: tuple[World, dict[str, str]]) -> None:
    world, tokens = s3_world
    for data, name, declared, code in (
        (samples.png(), "certificate.pdf", "application/pdf", "file_type_mismatch"),
        (samples.pdf_with_javascript(), "spec.pdf", "application/pdf", "file_active_content"),
        (samples.pdf_zip_polyglot(), "spec.pdf", "application/pdf", "file_polyglot"),
    ):
        presigned = presign(client, tokens["qa"], announce(data, name=name, content_type=declared, attached_id=str(world.supplier_ids[0])))
        ticket = presigned.json()
        assert put(ticket, data).status_code == 200
        refused = confirm(client, tokens["qa"], ticket["ticket"])
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == code
        assert s3._stat(object_key(world.tenant_id, ticket["document_id"], ticket["version_id"])) is None


def test_presign_refuses_what_it_can_before_a_byte_moves(client: Any, s3: S3Storage, s3_world: tuple[World, dict[str, str]]) -> None:
    world, tokens = s3_world
    target = {"attached_id": str(world.supplier_ids[0])}
    cases = [
        (announce(samples.svg_with_script(), name="x.svg", content_type="image/svg+xml", **target), 422, "file_type_unknown"),
        (
            announce(samples.pdf(), size=300 * 1024 * 1024, category="photo", name="x.jpg", content_type="image/jpeg", **target),
            413,
            "file_too_large",
        ),
        (announce(samples.pdf(), category="photo", **target), 422, "file_type_not_allowed"),
        (announce(samples.pdf(), name="../../x.pdf", **target), 422, "file_name_invalid"),
        (announce(samples.pdf(), size=0, **target), 422, "file_empty"),
        (announce(samples.pdf(), sha256="nope", **target), 400, "invalid_document"),
        (announce(samples.pdf(), attached_id=str(world.supplier_ids[1])), 201, None),
    ]
    for body, status, code in cases:
        response = presign(client, tokens["qa"], body)
        assert response.status_code == status, (body, response.text)
        if code:
            assert response.json()["error"]["code"] == code
    # Supplier users cannot even ask for another supplier's target.
    assert presign(client, tokens["supplier_admin"], announce(samples.pdf(), attached_id=str(world.supplier_ids[1]))).status_code == 404
    assert presign(client, tokens["finance"], announce(samples.pdf(), **target)).status_code == 403


def test_a_ticket_belongs_to_its_user_and_tenant(client: Any, run: Any, s3: S3Storage, s3_world: tuple[World, dict[str, str]]) -> None:
    world, tokens = s3_world
    data = samples.pdf()
    ticket = presign(client, tokens["planner"], announce(data, attached_id=str(world.supplier_ids[0]))).json()
    assert put(ticket, data).status_code == 200
    for token in (tokens["qa"], api_token(client, run(make_world, "docs-s3-other").accounts["planner"], _slug(client, run))):
        refused = confirm(client, token, ticket["ticket"])
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "upload_not_found"
    assert confirm(client, tokens["planner"], "not-a-ticket").status_code == 404
    assert confirm(client, tokens["planner"], ticket["ticket"]).status_code == 201


def _slug(client: Any, run: Any) -> str:
    # The world created just before this call: the newest tenant named docs-s3-other-*.
    from tenants.context import system_scope
    from tenants.tables import Tenant

    async def newest() -> str:
        async with system_scope("test"):
            row = (
                await Tenant.select(Tenant.slug)
                .where(Tenant.slug.like("docs-s3-other-%"))
                .order_by(Tenant.created_at, ascending=False)
                .first()
            )
        return str(row["slug"])

    return run(newest)  # type: ignore[no-any-return]


def test_a_new_version_through_the_direct_path(client: Any, s3: S3Storage, s3_world: tuple[World, dict[str, str]]) -> None:
    world, tokens = s3_world
    first = direct_upload(client, tokens["qa"], samples.pdf(1), attached_id=str(world.supplier_ids[0]))
    second = direct_upload(client, tokens["supplier_admin"], samples.pdf(2), name="spec-b.pdf", document_id=first["id"])
    assert second["id"] == first["id"]
    assert second["current"]["version"] == 2
    versions = client.get(f"/api/v1/documents/{first['id']}/versions", headers=bearer(tokens["qa"])).json()["items"]
    old = client.get(
        f"/api/v1/documents/{first['id']}/versions/{versions[1]['id']}/content", headers=bearer(tokens["qa"]), follow_redirects=False
    )
    assert httpx.get(old.headers["location"], timeout=30).content == samples.pdf(1)


def test_verification_reads_only_what_it_needs_from_a_large_object(
    client: Any, run: Any, s3: S3Storage, s3_world: tuple[World, dict[str, str]]
) -> None:
    """A 20 MB drawing: confirm reads its first and last blocks, not the body.
    A 20 MB PDF: the trailer, cross-reference table and the catalog's
    objects, not the page content. A small photo: read whole (and re-hashed)."""
    world, tokens = s3_world
    drawing = samples.step(20 * 1024 * 1024)
    wait_for_previews(run)
    s3.bytes_read = 0
    direct_upload(
        client, tokens["qa"], drawing, name="housing.step", content_type="", category="drawing", attached_id=str(world.supplier_ids[0])
    )
    # The head block, and the tail, which may straddle two blocks.
    assert s3.bytes_read <= 3 * RangeReader.BLOCK, s3.bytes_read

    big_pdf = _pdf_with_large_page(20 * 1024 * 1024)
    wait_for_previews(run)
    s3.bytes_read = 0
    direct_upload(client, tokens["qa"], big_pdf, name="drawing-set.pdf", category="drawing", attached_id=str(world.supplier_ids[0]))
    assert s3.bytes_read <= 4 * RangeReader.BLOCK, s3.bytes_read

    photo = samples.jpeg(800, 600)
    wait_for_previews(run)  # the PDF's preview (off the request path) reads page 1
    s3.bytes_read = 0
    direct_upload(
        client, tokens["qa"], photo, name="p.jpg", content_type="image/jpeg", category="photo", attached_id=str(world.supplier_ids[0])
    )
    assert s3.bytes_read == len(photo)


def _pdf_with_large_page(size: int) -> bytes:
    """A valid PDF whose one page has a large (uncompressed) content stream."""
    content = b"q 1 0 0 1 0 0 cm Q\n" * (size // 19)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    return samples._raw_pdf(objects)


def test_uploads_through_the_app_and_previews_work_on_s3(
    client: Any, run: Any, s3: S3Storage, s3_world: tuple[World, dict[str, str]]
) -> None:
    world, tokens = s3_world
    photo = uploaded(
        client, tokens["qa"], samples.png(640, 480), name="p.png", declared="image/png", category="photo", attached_id=world.supplier_ids[0]
    )
    wait_for_previews(run)
    version = client.get(f"/api/v1/documents/{photo['id']}", headers=bearer(tokens["qa"])).json()["current"]
    assert version["preview"] == "ready"
    thumb = client.get(f"/api/v1/documents/{photo['id']}/versions/{version['id']}/thumbnail", headers=bearer(tokens["qa"]))
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/webp"
    refused = upload(client, tokens["qa"], samples.html_page(), name="a.pdf", attached_id=world.supplier_ids[0])
    assert refused.status_code == 422


def test_gc_removes_abandoned_direct_uploads_but_nothing_confirmed(
    client: Any, run: Any, s3: S3Storage, s3_world: tuple[World, dict[str, str]]
) -> None:
    from datetime import timedelta

    from portal.documents.maintenance import collect_garbage

    world, tokens = s3_world
    data = samples.pdf()
    kept = direct_upload(client, tokens["qa"], data, attached_id=str(world.supplier_ids[0]))
    abandoned = presign(client, tokens["qa"], announce(data, attached_id=str(world.supplier_ids[0]))).json()
    assert put(abandoned, data).status_code == 200  # the browser died before confirming
    abandoned_key = object_key(world.tenant_id, abandoned["document_id"], abandoned["version_id"])
    kept_key = object_key(world.tenant_id, kept["id"], kept["current"]["id"])
    young = run(lambda: collect_garbage(s3, grace=timedelta(hours=1)))
    assert abandoned_key not in young.orphans
    report = run(lambda: collect_garbage(s3, grace=timedelta(0)))
    assert abandoned_key in report.orphans
    assert kept_key not in report.orphans
    assert s3._stat(abandoned_key) is None
    assert s3._stat(kept_key) is not None
    # The abandoned ticket can no longer be confirmed into a document.
    assert confirm(client, tokens["qa"], abandoned["ticket"]).status_code == 409


def test_verify_on_s3_names_a_replaced_object(client: Any, run: Any, s3: S3Storage, s3_world: tuple[World, dict[str, str]]) -> None:
    from portal.documents.maintenance import verify_objects

    world, tokens = s3_world
    data = samples.pdf()
    document = direct_upload(client, tokens["qa"], data, attached_id=str(world.supplier_ids[0]))
    key = object_key(world.tenant_id, document["id"], document["current"]["id"])
    try:
        s3.client.put_object(Bucket=s3.bucket, Key=key, Body=data[:-3] + b"!!!")
        _, problems = run(lambda: verify_objects(s3))
        assert [problem.problem for problem in problems if problem.key == key] == ["sha256 mismatch"]
    finally:
        s3.client.put_object(Bucket=s3.bucket, Key=key, Body=data)


def test_the_csp_lets_the_browser_reach_the_storage_endpoint(s3: S3Storage) -> None:
    from portal.security_headers import content_security_policy

    origins = s3.browser_origins()
    assert origins == [s3.endpoint]
    policy = content_security_policy(origins)
    assert f"connect-src 'self' {s3.endpoint}" in policy
    assert "connect-src 'self' javascript:" not in content_security_policy(["javascript:alert(1)"])


def test_the_md5_we_announce_is_what_s3_checks(s3: S3Storage, tmp_path: Path) -> None:
    """Content-MD5 is base64 of the raw digest; hex is accepted too."""
    from portal.documents.services import _md5_b64

    digest = hashlib.md5(b"abc").digest()  # noqa: S324
    assert _md5_b64(digest.hex()) == base64.b64encode(digest).decode()
    assert _md5_b64(base64.b64encode(digest).decode()) == base64.b64encode(digest).decode()
    assert _md5_b64("zz") is None


def _portal(s3_server: RcloneS3, bucket: str, *args: str) -> Any:
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "PORTAL_STORAGE_URL": f"s3://{bucket}",
        "PORTAL_S3_ENDPOINT": s3_server.endpoint,
        "AWS_ACCESS_KEY_ID": s3_server.access_key,
        "AWS_SECRET_ACCESS_KEY": s3_server.secret_key,
        "PORTAL_BASE_URL": "https://portal.example.com/",
    }
    return subprocess.run([sys.executable, "-m", "portal", *args], env=env, capture_output=True, text=True, timeout=60)


def test_storage_cors_prints_the_rule_for_the_portals_origin(s3_server: RcloneS3, s3: S3Storage) -> None:
    import json

    printed = _portal(s3_server, s3.bucket, "storage", "cors")
    assert printed.returncode == 0, printed.stderr
    [rule] = json.loads(printed.stdout)["CORSRules"]
    assert rule["AllowedOrigins"] == ["https://portal.example.com"]
    assert rule["AllowedMethods"] == ["PUT"]
    # What this storage's presigned PUT makes the browser send.
    ticket = s3.direct_upload(object_key(uuid4(), uuid4(), uuid4()), size=3, md5_b64="a" * 24, sha256_b64="b" * 44, expires_in=60)
    assert {name.lower() for name in ticket.headers} <= {name.lower() for name in rule["AllowedHeaders"]}


def test_storage_cors_apply_says_in_one_line_when_the_server_has_no_cors_rules(s3_server: RcloneS3, s3: S3Storage) -> None:
    # rclone serve s3 implements no PutBucketCors (it takes the request for
    # a CreateBucket): the command must fail plainly, naming the storage,
    # and leave the bucket as it was. AWS S3 and MinIO accept the rule.
    s3.client.put_object(Bucket=s3.bucket, Key="cors-probe", Body=b"still here")
    applied = _portal(s3_server, s3.bucket, "storage", "cors", "--apply")
    assert applied.returncode == 1
    lines = applied.stderr.strip().splitlines()
    assert len(lines) == 1, applied.stderr
    assert lines[0].startswith(f"portal: PORTAL_STORAGE_URL: could not set the CORS rule on s3://{s3.bucket} (")
    assert "Traceback" not in applied.stderr
    assert s3.client.get_object(Bucket=s3.bucket, Key="cors-probe")["Body"].read() == b"still here"
    s3.client.delete_object(Bucket=s3.bucket, Key="cors-probe")
