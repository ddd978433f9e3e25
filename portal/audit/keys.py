"""The keys that make the audit trail tamper-evident against someone who can
write the database: event hashes and checkpoints are HMACs, and the key
lives in the environment, never in the database.

The current key is PORTAL_AUDIT_KEY or, unset, one derived from
PORTAL_SECRET_KEY. Each key is known by its id, a fingerprint stored beside
every event and checkpoint it signed, so that after a rotation the old ones
verify with the key listed in PORTAL_AUDIT_OLD_KEYS.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from dataclasses import dataclass

from portal.settings import Settings, get_settings

KEY_ID_LENGTH = 16
_DERIVE_LABEL = b"portal audit chain key v1"
_ID_LABEL = b"portal audit key id v1"


@dataclass(frozen=True)
class AuditKey:
    id: str
    secret: bytes

    def sign(self, text: str) -> str:
        return hmac.new(self.secret, text.encode("utf-8"), hashlib.sha256).hexdigest()


def audit_key(secret: bytes) -> AuditKey:
    return AuditKey(id=hmac.new(secret, _ID_LABEL, hashlib.sha256).hexdigest()[:KEY_ID_LENGTH], secret=secret)


def derived_key(secret_key: str) -> AuditKey:
    """The audit key a PORTAL_SECRET_KEY stands for when PORTAL_AUDIT_KEY is unset."""
    return audit_key(hmac.new(secret_key.encode("utf-8"), _DERIVE_LABEL, hashlib.sha256).digest())


@dataclass(frozen=True)
class KeyRing:
    current: AuditKey
    known: dict[str, AuditKey]

    def get(self, key_id: str) -> AuditKey | None:
        return self.known.get(key_id)


def ring_of(settings: Settings) -> KeyRing:
    current = audit_key(settings.audit_key.encode("utf-8")) if settings.audit_key else derived_key(settings.secret_key)
    known = {current.id: current}
    for old in settings.audit_old_keys:
        # An old entry may be a retired PORTAL_AUDIT_KEY or a retired
        # PORTAL_SECRET_KEY the key was derived from: both are tried, and
        # the key id stored with each event picks the one that signed it.
        for candidate in (audit_key(old.encode("utf-8")), derived_key(old)):
            known.setdefault(candidate.id, candidate)
    return KeyRing(current=current, known=known)


@functools.cache
def key_ring() -> KeyRing:
    return ring_of(get_settings())
