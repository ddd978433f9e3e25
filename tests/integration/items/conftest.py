"""The item master is set up by the order loop's ``shop`` world (a part
P-100 and a material M-STEEL)."""

from __future__ import annotations

from tests.integration.orders.conftest import shop

__all__ = ["shop"]
