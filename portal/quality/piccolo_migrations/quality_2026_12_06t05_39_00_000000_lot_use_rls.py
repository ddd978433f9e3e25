from tenants.rls import SUPPLIER_FUNCTIONS, indexes_and_policies, policy_sql

ID = "2026-12-06T05:39:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "indexes and row-level security of the material lots a delivery used"

INDEXES = [
    "CREATE INDEX IF NOT EXISTS delivery_material_lot_tenant_delivery ON delivery_material_lot (tenant, delivery, position)",
    "CREATE INDEX IF NOT EXISTS delivery_material_lot_tenant_lot ON delivery_material_lot (tenant, lot)",
]

# The supplier's own records, on its deliveries (a draft is the supplier's
# until shipped; the service keeps it from the buyer, like the delivery).
RLS = SUPPLIER_FUNCTIONS + policy_sql("delivery_material_lot", supplier_column="supplier", parents={"delivery": "delivery"})

forwards = indexes_and_policies("quality", ID, DESCRIPTION, INDEXES, RLS)
