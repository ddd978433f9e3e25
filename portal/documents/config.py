"""Document settings: size limits per category (``PORTAL_UPLOAD_LIMITS_MB``,
read with the other settings) and the lifetimes of presigned URLs."""

from __future__ import annotations

from collections.abc import Mapping

from portal.settings import MB as MB  # re-exported: intake and the tests count in MB
from portal.settings import get_settings

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


def upload_limits() -> Mapping[str, int]:
    # Parsed and checked with the other settings at start-up.
    return get_settings().upload_limits


def largest_limit() -> int:
    return max(upload_limits().values())
