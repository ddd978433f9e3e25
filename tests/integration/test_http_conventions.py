"""What every HTTP response promises (CONTRACT.md "HTTP"): health, security
headers, the error shapes, the language, compression, the API schema, and
one transaction per request."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from tests.support.factories import api_token, bearer, make_world

PAGE = "/login"


@pytest.fixture
def clean_jar(client: Any) -> Iterator[Any]:
    """The shared client with no cookie before or after: a language cookie
    left behind would change every later test's language."""
    client.cookies.clear()
    try:
        yield client
    finally:
        client.cookies.clear()


@pytest.fixture
def broken_storage_path(tmp_path: Path) -> Path:
    """A storage root below a regular file: it can never be created."""
    blocker = tmp_path / "a-regular-file"
    blocker.write_text("not a directory")
    return blocker / "blobs"


def directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name.lower()] = values
    return parsed


# Health


def test_health_answers_ok(client: Any) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "storage": "ok"}


def test_probe_names_broken_storage(run: Any, app: Any, broken_storage_path: Path) -> None:
    from portal.documents.storage import LocalStorage
    from portal.health import probe

    parts = run(probe, app.state.engine, LocalStorage(broken_storage_path))
    assert parts == {"database": "ok", "storage": "error"}


def test_health_answers_503_naming_broken_storage(client: Any, app: Any, broken_storage_path: Path) -> None:
    from portal.documents.storage import LocalStorage

    working = app.state.storage
    app.state.storage = LocalStorage(broken_storage_path)
    try:
        response = client.get("/health")
    finally:
        app.state.storage = working
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["storage"] == "error"
    assert body["database"] == "ok"
    assert body["failed"] == ["storage"]
    assert client.get("/health").status_code == 200


# Security headers


@pytest.mark.parametrize("path", [PAGE, "/api/v1/nope", "/nope", "/api/v1/me"])
def test_security_headers_on_every_kind_of_response(clean_jar: Any, path: str) -> None:
    response = clean_jar.get(path, follow_redirects=False)
    policy = directives(response.headers["content-security-policy"])
    script_sources = policy.get("script-src", policy.get("default-src"))
    assert script_sources, policy
    assert "'unsafe-inline'" not in script_sources
    assert "'unsafe-eval'" not in script_sources
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
    # Over plain HTTP, HSTS would lock out a local installation.
    assert "strict-transport-security" not in response.headers


def test_pages_load_no_inline_script(clean_jar: Any) -> None:
    """The policy forbids inline scripts, so a page that had one would break."""
    html = clean_jar.get(PAGE).text
    for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.DOTALL | re.IGNORECASE):
        assert "src=" in attributes, attributes
        assert not body.strip()
    assert not re.search(r"\son[a-z]+=", html), "inline event handler attribute"


# Errors


def test_unknown_api_path_is_a_json_404(clean_jar: Any) -> None:
    response = clean_jar.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "not_found"
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]


def test_unknown_page_is_a_readable_html_404(clean_jar: Any) -> None:
    response = clean_jar.get("/nope")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text.lower()
    assert "Traceback" not in response.text
    assert 'href="/"' in response.text


def test_unknown_method_is_a_json_405_on_the_api(clean_jar: Any) -> None:
    response = clean_jar.delete("/api/v1/auth/token")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("accept_language", "expected", "unexpected"),
    [("en-US,en;q=0.9", "Sign in", "登录"), ("zh-CN,zh;q=0.9", "登录", "Sign in")],
)
def test_page_speaks_the_browsers_language(clean_jar: Any, accept_language: str, expected: str, unexpected: str) -> None:
    response = clean_jar.get(PAGE, headers={"accept-language": accept_language})
    assert response.status_code == 200
    title = re.search(r"<title>(.*?)</title>", response.text, re.DOTALL)
    assert title
    assert expected in title.group(1)
    assert unexpected not in title.group(1)


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [("en-US,en;q=0.9", "Not found."), ("zh-CN,zh;q=0.9", "未找到。")],
)
def test_error_for_a_matched_route_speaks_the_browsers_language(clean_jar: Any, accept_language: str, expected: str) -> None:
    response = clean_jar.get("/locale/xx", headers={"accept-language": accept_language})
    assert response.status_code == 404
    assert expected in response.text


@pytest.mark.parametrize("path", ["/nope", "/api/v1/nope"])
@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [("en-US,en;q=0.9", "Not found."), ("zh-CN,zh;q=0.9", "未找到。")],
)
def test_404_for_an_unknown_url_speaks_the_browsers_language(clean_jar: Any, path: str, accept_language: str, expected: str) -> None:
    response = clean_jar.get(path, headers={"accept-language": accept_language})
    assert response.status_code == 404
    assert expected in response.text


def test_malformed_api_body_is_a_400_with_fields(clean_jar: Any) -> None:
    response = clean_jar.post("/api/v1/auth/token", json={"email": "someone@test.example"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"]
    assert isinstance(error["fields"], dict)
    assert error["fields"]


def test_malformed_api_body_names_the_missing_field(clean_jar: Any) -> None:
    response = clean_jar.post("/api/v1/auth/token", json={"email": "someone@test.example"})
    assert response.status_code == 400
    assert "password" in response.json()["error"]["fields"]


def test_api_body_that_is_not_json_is_a_400_json_error(clean_jar: Any) -> None:
    response = clean_jar.post("/api/v1/auth/token", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("invalid", "bad_request")
    assert "Traceback" not in response.text


# API schema


def test_openapi_lists_the_token_endpoint_and_health(clean_jar: Any) -> None:
    response = clean_jar.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "post" in paths["/api/v1/auth/token"]
    assert "get" in paths["/health"]
    assert "get" in paths["/api/v1/suppliers"]


# Language switch


def test_language_switch_sets_the_cookie_and_redirects(clean_jar: Any) -> None:
    response = clean_jar.get("/locale/en", params={"next": "/login"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert response.cookies.get("portal_locale") == "en"
    # The cookie now wins over the browser's Accept-Language.
    page = clean_jar.get(PAGE, headers={"accept-language": "zh-CN"})
    assert "Sign in" in page.text


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/x", "/\\evil.example", "evil.example", ""])
def test_language_switch_never_redirects_off_site(clean_jar: Any, target: str) -> None:
    response = clean_jar.get("/locale/zh-CN", params={"next": target}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert response.cookies.get("portal_locale") == "zh_CN"


def test_language_switch_to_an_unsupported_language_is_404(clean_jar: Any) -> None:
    response = clean_jar.get("/locale/xx", follow_redirects=False)
    assert response.status_code == 404
    assert "portal_locale" not in response.cookies


# Compression


def test_large_page_is_gzipped_when_the_client_accepts_it(clean_jar: Any) -> None:
    response = clean_jar.get(PAGE, headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers.get("content-encoding") == "gzip"
    assert "accept-encoding" in response.headers.get("vary", "").lower()
    assert "<html" in response.text.lower()
    plain = clean_jar.get(PAGE, headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert int(response.headers["content-length"]) < len(plain.content)


# One transaction per request


def test_failed_request_saves_nothing_and_a_successful_one_is_visible(client: Any, run: Any) -> None:
    world = run(make_world)
    headers = bearer(api_token(client, world.accounts["admin"], world.slug))
    before = client.get("/api/v1/suppliers", headers=headers)
    assert before.status_code == 200
    codes = [item["code"] for item in before.json()["items"]]
    assert codes == ["S1", "S2"]

    duplicate = client.post("/api/v1/suppliers", json={"code": "S1", "name": "Another S1"}, headers=headers)
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "supplier_code_taken"
    after = client.get("/api/v1/suppliers", headers=headers).json()["items"]
    assert [item["code"] for item in after] == codes

    created = client.post("/api/v1/suppliers", json={"code": "S3", "name": "Supplier three"}, headers=headers)
    assert created.status_code == 201, created.text
    supplier_id = created.json()["id"]
    listed = client.get("/api/v1/suppliers", headers=headers).json()
    assert [item["code"] for item in listed["items"]] == ["S1", "S2", "S3"]
    assert supplier_id in {item["id"] for item in listed["items"]}
    assert listed["next"] is None
    detail = client.get(f"/api/v1/suppliers/{supplier_id}", headers=headers)
    assert detail.status_code == 200
    assert detail.json()["name"] == "Supplier three"


async def _request_that_creates_a_tenant(status: int | None) -> tuple[list[int], bool]:
    """Runs one request through TransactionMiddleware whose handler saves a
    tenant and then answers ``status`` (None: raises instead); returns the
    statuses the client saw and whether the tenant exists afterwards."""
    from portal.db import TransactionMiddleware, get_engine
    from tenants.context import system_scope
    from tenants.services.tenants import TenantCreate, create_tenant
    from tenants.tables import Tenant

    slug = f"txn-{uuid4().hex[:10]}"

    async def handler(scope: Any, receive: Any, send: Any) -> None:
        await create_tenant(TenantCreate(slug=slug, name="Transaction probe"))
        if status is None:
            raise RuntimeError("handler failed after writing")
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    sent: list[int] = []

    async def send(message: Any) -> None:
        if message["type"] == "http.response.start":
            sent.append(message["status"])

    scope: Any = {"type": "http", "path": "/test/transaction", "method": "POST", "headers": [], "state": {}}
    try:
        await TransactionMiddleware(handler, get_engine())(scope, receive, send)
    except RuntimeError:
        assert status is None
    async with system_scope("test"):
        exists = bool(await Tenant.exists().where(Tenant.slug == slug))
    return sent, exists


@pytest.mark.parametrize(
    ("status", "saved"), [(200, True), (201, True), (303, True), (400, False), (409, False), (500, False), (None, False)]
)
def test_transaction_commits_below_400_and_rolls_back_otherwise(run: Any, status: int | None, saved: bool) -> None:
    sent, exists = run(_request_that_creates_a_tenant, status)
    assert sent == ([] if status is None else [status])
    assert exists is saved
