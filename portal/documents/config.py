"""Document settings: size limits per category (overridable with
``PORTAL_UPLOAD_LIMITS_MB``) and the lifetimes of presigned URLs."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping

from portal.documents.content import CATEGORIES
from portal.settings import ConfigError

MB = 1024 * 1024
# The browser has this long to start its PUT to storage.
UPLOAD_URL_SECONDS = 15 * 60
# The confirm call may come this long after the presign (a slow upload on
# a weak signal); objects of unconfirmed uploads become orphans after it.
UPLOAD_TICKET_SECONDS = 6 * 3600
# A presigned download is used at once by the browser that asked for it.
DOWNLOAD_URL_SECONDS = 60
# `portal storage gc` leaves younger objects alone: they may belong to an
# upload still in flight. Longer than the ticket lifetime on purpose.
GC_GRACE_SECONDS = 24 * 3600
# On the direct (S3) path, objects up to this size are read back whole and
# hashed by the app; larger ones rely on the storage's own checks of the
# signed Content-MD5 and x-amz-checksum-sha256 (see docs/security.md).
FULL_READ_LIMIT = 16 * MB


def parse_limits(value: str | None) -> dict[str, int]:
    """``"photo=15,drawing=200"`` -> bytes per category, the rest default."""
    limits = {key: category.limit_mb * MB for key, category in CATEGORIES.items()}
    for part in filter(None, (item.strip() for item in (value or "").split(","))):
        key, _, megabytes = part.partition("=")
        key = key.strip()
        if key not in CATEGORIES:
            raise ConfigError("PORTAL_UPLOAD_LIMITS_MB", f"unknown category {key!r}; use one of {', '.join(CATEGORIES)}")
        try:
            number = int(megabytes)
        except ValueError:
            raise ConfigError("PORTAL_UPLOAD_LIMITS_MB", f"{key}: {megabytes.strip()!r} is not a whole number of MB") from None
        if not 1 <= number <= 5000:
            raise ConfigError("PORTAL_UPLOAD_LIMITS_MB", f"{key}: use 1 to 5000 MB")
        limits[key] = number * MB
    return limits


@functools.cache
def upload_limits() -> Mapping[str, int]:
    return parse_limits(os.environ.get("PORTAL_UPLOAD_LIMITS_MB"))


def largest_limit() -> int:
    return max(upload_limits().values())
