"""The operations settings (metrics token, rate limits, PostgreSQL
timeouts) and the pure parts of the metrics door and the request id."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.limits.rates import DEFAULT_LIMITS, Rate
from portal.logs import request_id_of
from portal.metrics import metrics_allowed
from portal.settings import ConfigError, Settings

KEY = "k" * 40
TOKEN = "prometheus-token-0123456789"


def settings(var_dir: Path, **env: str) -> Settings:
    return Settings.from_env({"PORTAL_VAR_DIR": str(var_dir), "PORTAL_SECRET_KEY": KEY, **env})


def test_defaults_limit_sign_in_and_api_and_time_out_statements(tmp_path: Path) -> None:
    result = settings(tmp_path)
    assert result.rate_limits == DEFAULT_LIMITS
    assert result.metrics_token is None
    assert result.statement_timeout_ms == 30_000
    assert result.slow_query_ms == 500


def test_rate_limits_override_one_limit_or_turn_all_off(tmp_path: Path) -> None:
    assert settings(tmp_path, PORTAL_RATE_LIMITS="api=5/10").rate_limits == {"signin": DEFAULT_LIMITS["signin"], "api": Rate(5, 10)}
    assert settings(tmp_path, PORTAL_RATE_LIMITS="off").rate_limits == {}
    assert settings(tmp_path, PORTAL_STATEMENT_TIMEOUT_MS="0", PORTAL_SLOW_QUERY_MS="0").statement_timeout_ms == 0


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PORTAL_RATE_LIMITS", "login=5/10"),
        ("PORTAL_RATE_LIMITS", "api=5"),
        ("PORTAL_RATE_LIMITS", "api=0/10"),
        ("PORTAL_RATE_LIMITS", "api=5/0"),
        ("PORTAL_STATEMENT_TIMEOUT_MS", "-5"),
        ("PORTAL_STATEMENT_TIMEOUT_MS", "soon"),
        ("PORTAL_SLOW_QUERY_MS", "1.5"),
        ("PORTAL_METRICS_TOKEN", "short"),
    ],
)
def test_bad_values_name_their_variable(tmp_path: Path, variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        settings(tmp_path, **{variable: value})
    assert raised.value.variable == variable


def test_metrics_need_the_exact_token_and_no_proxy_header() -> None:
    bearer = (b"authorization", f"Bearer {TOKEN}".encode())
    assert metrics_allowed([bearer], TOKEN)
    assert not metrics_allowed([bearer], None)
    assert not metrics_allowed([], TOKEN)
    assert not metrics_allowed([(b"authorization", f"Bearer {TOKEN}x".encode())], TOKEN)
    assert not metrics_allowed([(b"authorization", f"Basic {TOKEN}".encode())], TOKEN)
    for proxy in (b"x-forwarded-for", b"forwarded", b"x-real-ip"):
        assert not metrics_allowed([bearer, (proxy, b"203.0.113.1")], TOKEN)


def test_request_id_is_the_callers_when_usable_else_new() -> None:
    assert request_id_of({"headers": [(b"x-request-id", b"abc-123.def:9")]}) == "abc-123.def:9"
    for unusable in (b"short", b"with space 12345", b"x" * 65, "\u4e2d\u6587\u4e2d\u6587\u4e2d\u6587\u4e2d\u6587".encode()):
        generated = request_id_of({"headers": [(b"x-request-id", unusable)]})
        assert generated != unusable.decode("latin-1")
        assert len(generated) == 32
    assert request_id_of({"headers": []}) != request_id_of({"headers": []})


def test_storage_that_cannot_be_reached_is_told_apart_from_a_bug() -> None:
    from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError

    from portal.documents.storage import StorageUnavailable
    from portal.outage import storage_unavailable

    assert storage_unavailable(EndpointConnectionError(endpoint_url="http://127.0.0.1:9"))
    assert storage_unavailable(ConnectTimeoutError(endpoint_url="http://127.0.0.1:9"))
    assert storage_unavailable(StorageUnavailable("s3://bucket: gone"))
    wrapped = RuntimeError("upload failed")
    wrapped.__cause__ = EndpointConnectionError(endpoint_url="http://127.0.0.1:9")
    assert storage_unavailable(wrapped)
    assert not storage_unavailable(ValueError("a bug of ours"))
    assert not storage_unavailable(OSError("disk full"))
