"""Quality: the QC documents an order requires and QA's review of them."""
