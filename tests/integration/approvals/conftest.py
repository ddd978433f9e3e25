from tests.integration.orders.conftest import shop

__all__ = ["shop"]
