"""Order counts per tenant, supplier and status, kept exact by the database.

The board shows how many orders are in each status; counting them on every
request reads every order of the tenant. Instead ``order_status_count``
holds one row per tenant, supplier and status, and triggers on
``outsourced_order`` move it in the same statement as every insert, status
or supplier change and delete, whichever code path made it (a service, a
handover's transfer, a bulk import, an operator's SQL). The counts are as
exact as the orders: a rolled-back change rolls its count back with it.

On PostgreSQL a status change moves two count rows; both are taken in one
fixed order (supplier, then status) so that two transactions moving orders
between the same two statuses in opposite directions cannot deadlock.
"""

from __future__ import annotations

# A draft cancelled before it was ever issued is counted apart from the
# cancelled orders its supplier saw: the supplier's counts are of what it
# was shown (orders.tables.shared_with_supplier), and the buyer's board adds
# the two together (services.status_counts).
CANCELLED_DRAFT = "cancelled_draft"


def _bucket(row: str) -> str:
    return f"CASE WHEN {row}.status = 'cancelled' AND {row}.issued_at IS NULL THEN '{CANCELLED_DRAFT}' ELSE {row}.status END"


# Statements built from the bucket expression above, never from input.
_COUNTED = "INSERT INTO order_status_count (tenant, supplier, status, orders)"
_NEW_ROW = f"(NEW.tenant, NEW.supplier, {_bucket('NEW')}, 1)"
_SQLITE_ADD = f"{_COUNTED} VALUES {_NEW_ROW} ON CONFLICT (tenant, supplier, status) DO UPDATE SET orders = orders + 1;"
_OLD_ROW = f"tenant = OLD.tenant AND supplier = OLD.supplier AND status = {_bucket('OLD')}"
_SQLITE_REMOVE = f"UPDATE order_status_count SET orders = orders - 1 WHERE {_OLD_ROW};"  # noqa: S608

TRIGGERS: dict[str, list[str]] = {
    "postgresql": [
        """CREATE OR REPLACE FUNCTION portal_order_count(t uuid, s uuid, st varchar, delta integer) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO order_status_count (tenant, supplier, status, orders) VALUES (t, s, st, delta)
  ON CONFLICT (tenant, supplier, status) DO UPDATE SET orders = order_status_count.orders + excluded.orders
$$""",
        f"""CREATE OR REPLACE FUNCTION portal_order_counted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_bucket varchar;
  new_bucket varchar;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    old_bucket := {_bucket("OLD")};
  END IF;
  IF TG_OP <> 'DELETE' THEN
    new_bucket := {_bucket("NEW")};
  END IF;
  IF TG_OP = 'INSERT' THEN
    PERFORM portal_order_count(NEW.tenant, NEW.supplier, new_bucket, 1);
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM portal_order_count(OLD.tenant, OLD.supplier, old_bucket, -1);
  ELSIF (OLD.tenant, OLD.supplier, old_bucket) IS DISTINCT FROM (NEW.tenant, NEW.supplier, new_bucket) THEN
    IF (OLD.supplier::text, old_bucket) < (NEW.supplier::text, new_bucket) THEN
      PERFORM portal_order_count(OLD.tenant, OLD.supplier, old_bucket, -1);
      PERFORM portal_order_count(NEW.tenant, NEW.supplier, new_bucket, 1);
    ELSE
      PERFORM portal_order_count(NEW.tenant, NEW.supplier, new_bucket, 1);
      PERFORM portal_order_count(OLD.tenant, OLD.supplier, old_bucket, -1);
    END IF;
  END IF;
  RETURN NULL;
END $$""",
        "DROP TRIGGER IF EXISTS order_counted ON outsourced_order",
        "CREATE TRIGGER order_counted AFTER INSERT OR DELETE OR UPDATE OF tenant, supplier, status, issued_at ON outsourced_order "
        "FOR EACH ROW EXECUTE FUNCTION portal_order_counted()",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS order_counted_insert",
        "DROP TRIGGER IF EXISTS order_counted_delete",
        "DROP TRIGGER IF EXISTS order_counted_update",
        f"CREATE TRIGGER order_counted_insert AFTER INSERT ON outsourced_order BEGIN {_SQLITE_ADD} END",
        f"CREATE TRIGGER order_counted_delete AFTER DELETE ON outsourced_order BEGIN {_SQLITE_REMOVE} END",
        "CREATE TRIGGER order_counted_update AFTER UPDATE OF tenant, supplier, status, issued_at ON outsourced_order "
        f"WHEN OLD.tenant IS NOT NEW.tenant OR OLD.supplier IS NOT NEW.supplier OR {_bucket('OLD')} IS NOT {_bucket('NEW')} "
        f"BEGIN {_SQLITE_REMOVE} {_SQLITE_ADD} END",
    ],
}

# Every count again from the orders (as the owner across tenants).
BACKFILL = f"{_COUNTED} SELECT tenant, supplier, {_bucket('o')}, count(*) FROM outsourced_order o GROUP BY 1, 2, 3"  # noqa: S608
RECOUNT = ["DELETE FROM order_status_count", BACKFILL]
