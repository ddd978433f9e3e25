import pytest

from tests.support.earlier_jobs import own_jobs_only

__all__ = ["own_jobs_only"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
