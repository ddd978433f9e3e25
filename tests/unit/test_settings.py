"""``Settings.from_env``: the defaults of CONTRACT.md, and one ConfigError
naming the variable for every value that cannot work."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from portal.documents.content import CATEGORIES
from portal.settings import MB, ConfigError, Settings

KEY = "k" * 40


def settings(var_dir: Path, **env: str) -> Settings:
    return Settings.from_env({"PORTAL_VAR_DIR": str(var_dir), **env})


def test_defaults_put_database_and_blobs_under_the_var_dir(tmp_path: Path) -> None:
    result = settings(tmp_path, PORTAL_SECRET_KEY=KEY)
    assert result.database_url == f"sqlite:///{tmp_path}/portal.db"
    assert result.database_kind == "sqlite"
    assert result.sqlite_path == tmp_path / "portal.db"
    assert result.storage_url == f"file://{tmp_path}/blobs"
    assert result.storage_kind == "file"
    assert result.local_storage_path == tmp_path / "blobs"
    assert result.port == 8000
    assert result.environment == "development"
    assert not result.is_production
    assert result.smtp_url is None


def test_port_is_read_from_the_environment(tmp_path: Path) -> None:
    assert settings(tmp_path, PORTAL_SECRET_KEY=KEY, PORT="9123").port == 9123


@pytest.mark.parametrize("port", ["eighty", "", "80.5"])
def test_bad_port_is_refused_naming_port(tmp_path: Path, port: str) -> None:
    with pytest.raises(ConfigError) as error:
        settings(tmp_path, PORTAL_SECRET_KEY=KEY, PORT=port)
    assert error.value.variable == "PORT"
    assert str(error.value).startswith("PORT:")


def test_postgresql_url_is_accepted(tmp_path: Path) -> None:
    url = "postgresql://portal:secret@db.example:5432/portal"
    result = settings(tmp_path, PORTAL_SECRET_KEY=KEY, PORTAL_DATABASE_URL=url)
    assert result.database_url == url
    assert result.database_kind == "postgresql"


@pytest.mark.parametrize("url", ["mysql://root@localhost/portal", "portal.db", "sqlite://relative.db"])
def test_unusable_database_url_is_refused_naming_the_variable(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError) as error:
        settings(tmp_path, PORTAL_SECRET_KEY=KEY, PORTAL_DATABASE_URL=url)
    assert error.value.variable == "PORTAL_DATABASE_URL"
    assert "PORTAL_DATABASE_URL" in str(error.value)


def test_unknown_storage_scheme_is_refused_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        settings(tmp_path, PORTAL_SECRET_KEY=KEY, PORTAL_STORAGE_URL="ftp://x")
    assert error.value.variable == "PORTAL_STORAGE_URL"
    assert "PORTAL_STORAGE_URL" in str(error.value)
    assert "ftp" in str(error.value)


def test_s3_storage_needs_a_bucket(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        settings(tmp_path, PORTAL_SECRET_KEY=KEY, PORTAL_STORAGE_URL="s3://")
    assert error.value.variable == "PORTAL_STORAGE_URL"
    assert "bucket" in str(error.value)


def test_s3_storage_with_a_bucket_is_accepted(tmp_path: Path) -> None:
    result = settings(tmp_path, PORTAL_SECRET_KEY=KEY, PORTAL_STORAGE_URL="s3://documents")
    assert result.storage_kind == "s3"
    assert result.s3_bucket == "documents"


def test_production_without_a_secret_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        settings(tmp_path, PORTAL_ENV="production")
    assert error.value.variable == "PORTAL_SECRET_KEY"
    assert "PORTAL_SECRET_KEY" in str(error.value)
    # Production never falls back to a key generated on disk.
    assert not (tmp_path / "secret_key").exists()


def test_production_with_a_secret_key_is_accepted(tmp_path: Path) -> None:
    result = settings(tmp_path, PORTAL_ENV="production", PORTAL_SECRET_KEY=KEY)
    assert result.is_production
    assert result.secret_key == KEY


def test_unknown_environment_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        settings(tmp_path, PORTAL_ENV="staging", PORTAL_SECRET_KEY=KEY)
    assert error.value.variable == "PORTAL_ENV"


def test_short_secret_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        settings(tmp_path, PORTAL_SECRET_KEY="too-short")
    assert error.value.variable == "PORTAL_SECRET_KEY"
    assert "32" in str(error.value)


def test_development_generates_a_private_secret_key_and_reuses_it(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    first = settings(var_dir)
    key_file = var_dir / "secret_key"
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.secret_key) >= 32
    assert key_file.read_text().strip() == first.secret_key
    # The next start reads the same key back: sessions survive a restart.
    assert settings(var_dir).secret_key == first.secret_key


def test_generated_keys_differ_between_installations(tmp_path: Path) -> None:
    assert settings(tmp_path / "a").secret_key != settings(tmp_path / "b").secret_key


def test_migration_database_url_defaults_to_the_database_url(tmp_path: Path) -> None:
    url = "postgresql://app:pw@db.example/portal"
    assert settings(tmp_path, PORTAL_SECRET_KEY=KEY, PORTAL_DATABASE_URL=url).migration_database_url == url
    assert settings(tmp_path, PORTAL_SECRET_KEY=KEY).migration_database_url == f"sqlite:///{tmp_path}/portal.db"


def test_migration_database_url_can_differ_and_is_validated(tmp_path: Path) -> None:
    app_url = "postgresql://app:pw@db.example/portal"
    owner_url = "postgresql://owner:pw@db.example/portal"
    result = settings(tmp_path, PORTAL_SECRET_KEY=KEY, PORTAL_DATABASE_URL=app_url, PORTAL_MIGRATION_DATABASE_URL=owner_url)
    assert result.database_url == app_url
    assert result.migration_database_url == owner_url
    with pytest.raises(ConfigError) as error:
        settings(tmp_path, PORTAL_SECRET_KEY=KEY, PORTAL_DATABASE_URL=app_url, PORTAL_MIGRATION_DATABASE_URL="mysql://x/y")
    assert error.value.variable == "PORTAL_MIGRATION_DATABASE_URL"


def test_smtp_url_must_be_smtp(tmp_path: Path) -> None:
    assert settings(tmp_path, PORTAL_SECRET_KEY=KEY, PORTAL_SMTP_URL="smtp://mail:25").smtp_url == "smtp://mail:25"
    with pytest.raises(ConfigError) as error:
        settings(tmp_path, PORTAL_SECRET_KEY=KEY, PORTAL_SMTP_URL="http://mail")
    assert error.value.variable == "PORTAL_SMTP_URL"


def test_upload_limits_default_to_each_categorys_limit(tmp_path: Path) -> None:
    limits = settings(tmp_path, PORTAL_SECRET_KEY=KEY).upload_limits
    assert set(limits) == set(CATEGORIES)
    assert limits["drawing"] == 200 * MB
    assert limits["photo"] == 25 * MB


def test_upload_limits_override_only_the_categories_named(tmp_path: Path) -> None:
    limits = settings(tmp_path, PORTAL_SECRET_KEY=KEY, PORTAL_UPLOAD_LIMITS_MB=" photo=15, drawing = 300 ,").upload_limits
    assert limits["photo"] == 15 * MB
    assert limits["drawing"] == 300 * MB
    assert limits["spec"] == CATEGORIES["spec"].limit_mb * MB


@pytest.mark.parametrize(
    ("value", "named"),
    [("photos=5", "photos"), ("photo=five", "five"), ("photo=0", "1 to 5000"), ("photo=5001", "1 to 5000"), ("photo", "photo=")],
)
def test_bad_upload_limits_are_refused_at_start_naming_the_variable(tmp_path: Path, value: str, named: str) -> None:
    with pytest.raises(ConfigError) as error:
        settings(tmp_path, PORTAL_SECRET_KEY=KEY, PORTAL_UPLOAD_LIMITS_MB=value)
    assert error.value.variable == "PORTAL_UPLOAD_LIMITS_MB"
    assert str(error.value).startswith("PORTAL_UPLOAD_LIMITS_MB:")
    assert named in str(error.value)


def test_passwords_are_hashed_at_full_strength_unless_the_tests_ask(tmp_path: Path) -> None:
    assert settings(tmp_path, PORTAL_SECRET_KEY=KEY).hash_strength == "strong"
    assert settings(tmp_path, PORTAL_SECRET_KEY=KEY, PORTAL_PASSWORD_HASH="cheap").hash_strength == "cheap"


@pytest.mark.parametrize(
    ("env", "problem"),
    [({"PORTAL_PASSWORD_HASH": "md5"}, "'md5'"), ({"PORTAL_ENV": "production", "PORTAL_PASSWORD_HASH": "cheap"}, "production")],
)
def test_cheap_or_unknown_password_hashing_is_refused(tmp_path: Path, env: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigError) as error:
        settings(tmp_path, PORTAL_SECRET_KEY=KEY, **env)
    assert error.value.variable == "PORTAL_PASSWORD_HASH"
    assert problem in error.value.problem


def test_login_delay_step_defaults_to_a_fifth_of_a_second_and_is_checked(tmp_path: Path) -> None:
    assert settings(tmp_path, PORTAL_SECRET_KEY=KEY).login_delay_step == 0.2
    assert settings(tmp_path, PORTAL_SECRET_KEY=KEY, PORTAL_LOGIN_DELAY_STEP="0").login_delay_step == 0
    for bad in ("soon", "-1", "5"):
        with pytest.raises(ConfigError) as error:
            settings(tmp_path, PORTAL_SECRET_KEY=KEY, PORTAL_LOGIN_DELAY_STEP=bad)
        assert error.value.variable == "PORTAL_LOGIN_DELAY_STEP"
