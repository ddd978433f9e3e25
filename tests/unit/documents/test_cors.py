"""The CORS rule `portal storage cors` prints and applies: the portal's
origin only, PUT only, exactly the headers the presigned upload signs; the
bucket's other rules survive an apply."""

from __future__ import annotations

from uuid import uuid4

import pytest

from portal.documents.maintenance import CORS_RULE_ID, cors_rule, origin_of, with_cors_rule
from portal.documents.storage import S3Storage, object_key


@pytest.mark.parametrize(
    ("base_url", "origin"),
    [
        ("https://portal.example.com", "https://portal.example.com"),
        ("https://Portal.Example.com/app/", "https://portal.example.com"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("https://portal.example.com:8443/x?y=1", "https://portal.example.com:8443"),
    ],
)
def test_the_origin_is_scheme_host_and_port_of_the_base_url(base_url: str, origin: str) -> None:
    assert origin_of(base_url) == origin
    assert cors_rule(base_url)["AllowedOrigins"] == [origin]


def test_the_rule_allows_exactly_what_the_presigned_put_sends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    storage = S3Storage("documents", "https://s3.example.com", "us-east-1")
    ticket = storage.direct_upload(object_key(uuid4(), uuid4(), uuid4()), size=10, md5_b64="a" * 24, sha256_b64="b" * 44, expires_in=60)
    rule = cors_rule("https://portal.example.com")
    assert rule["AllowedMethods"] == [ticket.method]
    assert {name.lower() for name in rule["AllowedHeaders"]} == {name.lower() for name in ticket.headers}
    assert rule["ID"] == CORS_RULE_ID
    assert rule["MaxAgeSeconds"] > 0


def test_applying_keeps_other_rules_and_replaces_our_own() -> None:
    theirs = {"ID": "website", "AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}
    stale = cors_rule("https://old.example.com")
    fresh = cors_rule("https://portal.example.com")
    assert with_cors_rule([], fresh) == [fresh]
    assert with_cors_rule([theirs, stale], fresh) == [theirs, fresh]
