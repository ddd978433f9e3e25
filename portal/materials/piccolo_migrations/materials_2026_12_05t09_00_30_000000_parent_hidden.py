from tenants.rls import SUPPLIER_FUNCTIONS, indexes_and_policies, policy_sql

ID = "2026-12-05T09:00:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "a draft dispatch and its lines are hidden from the supplier in the database too"

RLS = (
    SUPPLIER_FUNCTIONS
    + policy_sql("dispatch", supplier_column="supplier", visible="status <> 'draft'", parents={"order": "outsourced_order"})
    + policy_sql("dispatch_line", supplier_column="supplier", parents={"dispatch": "dispatch"})
    + policy_sql("material_movement", supplier_column="supplier", parents={"dispatch": "dispatch"})
)

forwards = indexes_and_policies("materials", ID, DESCRIPTION, [], RLS)
