"""Which key signs the audit trail, and which keys still verify it."""

from __future__ import annotations

import pytest

from portal.audit.keys import audit_key, derived_key, ring_of
from portal.settings import ConfigError, Settings

SECRET = "secret-key-that-is-long-enough-0123456789"
AUDIT = "audit-key-that-is-long-enough-0123456789ab"


def settings(**env: str) -> Settings:
    return Settings.from_env({"PORTAL_SECRET_KEY": SECRET, "PORTAL_STORAGE_URL": "file:///tmp/unused", **env})


def test_the_key_is_derived_from_the_secret_key_when_no_audit_key_is_set() -> None:
    ring = ring_of(settings())

    assert ring.current == derived_key(SECRET)
    assert ring.current.secret != SECRET.encode()
    assert len(ring.current.id) == 16


def test_an_audit_key_replaces_the_derived_one() -> None:
    ring = ring_of(settings(PORTAL_AUDIT_KEY=AUDIT))

    assert ring.current == audit_key(AUDIT.encode())
    assert ring.get(derived_key(SECRET).id) is None


def test_key_ids_differ_between_keys_and_do_not_reveal_them() -> None:
    assert derived_key(SECRET).id != derived_key(SECRET + "x").id
    assert derived_key(SECRET).id not in derived_key(SECRET).secret.hex()


@pytest.mark.parametrize("old", [AUDIT, SECRET])
def test_a_retired_audit_key_or_secret_key_still_verifies_after_rotation(old: str) -> None:
    retired = audit_key(AUDIT.encode()) if old == AUDIT else derived_key(SECRET)
    new = "new-audit-key-that-is-long-enough-0123456789"

    ring = ring_of(settings(PORTAL_AUDIT_KEY=new, PORTAL_AUDIT_OLD_KEYS=f" {old} , other-old-key-0123456789"))

    assert ring.current == audit_key(new.encode())
    assert ring.get(retired.id) == retired


def test_a_short_audit_key_is_refused_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="PORTAL_AUDIT_KEY"):
        settings(PORTAL_AUDIT_KEY="short")


def test_settings_default_to_no_audit_key() -> None:
    defaults = settings()

    assert (defaults.audit_key, defaults.audit_old_keys) == (None, ())
