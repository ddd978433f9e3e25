"""The audit trail's tables.

``AuditEvent`` rows are never updated or deleted (on PostgreSQL the app role
has no UPDATE or DELETE on the table). Each event carries the hash of the
one before it in its tenant's chain, keyed with the audit key named by
``key_id`` (empty for events from before the chain was keyed);
``AuditChainHead`` holds the end of each chain and is the row writers lock to
take the next sequence number, and ``legacy_seal`` the signed end of the
unkeyed events it had when keys came in (``portal.audit.legacy``).
"""

from __future__ import annotations

from piccolo.columns import JSON, UUID, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.audit.keys import KEY_ID_LENGTH
from tenants.tables import Tenant, User

HASH_LENGTH = 64


class AuditEvent(Table, tablename="audit_event"):
    id = UUID(primary_key=True)
    # RESTRICT, not the default CASCADE: removing a tenant or a user must not
    # delete (or, with SET NULL, rewrite) the events that name them.
    tenant = ForeignKey(Tenant, null=False, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict)
    seq = Integer()
    at = Timestamptz(default=TimestamptzNow())
    actor = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict)
    actor_label = Varchar(length=250)
    action = Varchar(length=80)
    entity_type = Varchar(length=80)
    entity_id = Varchar(length=100)
    before = JSON(null=True, default=None)
    after = JSON(null=True, default=None)
    address = Varchar(length=64, default="")
    prev_hash = Varchar(length=HASH_LENGTH)
    hash = Varchar(length=HASH_LENGTH)
    key_id = Varchar(length=KEY_ID_LENGTH, default="")


class AuditChainHead(Table, tablename="audit_chain_head"):
    id = UUID(primary_key=True)
    tenant = ForeignKey(Tenant, null=False, unique=True, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict)
    seq = Integer()
    hash = Varchar(length=HASH_LENGTH)
    legacy_seal = Text(default="")


TABLES = (AuditEvent, AuditChainHead)
