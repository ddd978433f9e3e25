from tenants.rls import SUPPLIER_FUNCTIONS, indexes_and_policies, policy_sql

ID = "2026-12-05T09:00:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "progress reports and photos follow their order's visibility for suppliers"

RLS = (
    SUPPLIER_FUNCTIONS
    + policy_sql("progress_report", supplier_column="supplier", parents={"order": "outsourced_order"})
    + policy_sql("progress_photo", supplier_column="supplier", parents={"report": "progress_report"})
)

forwards = indexes_and_policies("progress", ID, DESCRIPTION, [], RLS)
