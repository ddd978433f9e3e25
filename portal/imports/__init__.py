"""Spreadsheet import and export, the parts every domain shares.

- ``sheets``: read an uploaded CSV or XLSX (checked by content) into rows of
  text keyed by column, with per-row errors (row, column, message) and hard
  limits on size, rows and cells.
- ``values``: typed readings of those texts (dates incl. Excel serials,
  numbers with thousands separators).
- ``registry``: the ``Importer`` contract (plan, then save) a domain
  implements, the dry-run / all-or-nothing flow, and a registry by name.
- ``sealing``: the parsed rows signed for the stateless confirm step of the
  import pages.
- ``writers``: CSV (UTF-8 with BOM) and XLSX files for exports and templates.

The domain mappings live in their packages (``portal/orders/importing.py``,
``portal/orders/exporting.py``).
"""
