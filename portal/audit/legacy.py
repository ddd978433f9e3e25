"""Events from before the chain was keyed.

They keep their plain SHA-256 hashes: rewriting them would erase the very
evidence they are. Instead the migration that brought keys signs, once, the
head each chain had then (``AuditChainHead.legacy_seal``). Verify accepts an
unkeyed event only up to that seq and only when the event there still has
the sealed hash, so the old events are pinned as firmly as a checkpoint pins
the new ones, and a keyed event rewritten as an unkeyed one is caught. A
chain that had no events then has no seal, and no unkeyed event may appear.
"""

from __future__ import annotations

from uuid import UUID

import structlog

from portal.audit.checkpoints import LEGACY_SEAL, sign
from portal.audit.keys import key_ring
from portal.audit.tables import AuditChainHead
from portal.db import get_engine
from tenants.rls import run_on_postgres

log = structlog.get_logger(__name__)

_UNSEALED = "SELECT tenant, seq, hash FROM audit_chain_head WHERE seq > 0 AND legacy_seal = ''"
_SEAL = "UPDATE audit_chain_head SET legacy_seal = {} WHERE tenant = {}"


async def seal_legacy_chains() -> int:
    """Sign the head of every chain that has events (the migration's step,
    run once, in its transaction); returns how many were sealed."""
    # The owner may be subject to FORCE ROW LEVEL SECURITY: act as the system.
    await run_on_postgres(get_engine(), "SELECT set_config('app.system', 'on', true)")
    key = key_ring().current
    rows = await AuditChainHead.raw(_UNSEALED)
    for row in rows:
        tenant = UUID(str(row["tenant"]))
        seal = sign(LEGACY_SEAL, tenant, int(row["seq"]), str(row["hash"]), key)
        await AuditChainHead.raw(_SEAL, seal.to_json(), tenant)
    log.info("audit_legacy_chains_sealed", count=len(rows), key_id=key.id)
    return len(rows)
