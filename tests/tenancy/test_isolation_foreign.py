"""The isolation matrix, another tenant's ids: every route that takes an id
in its path, called by every role with the other world's ids, answers as a
missing id does and changes nothing. A module of its own, with worlds of its
own, so that ``--dist loadfile`` can run it beside the rest of the matrix
(tests/tenancy/test_isolation_matrix.py says how the matrix is split).
"""

from __future__ import annotations

from typing import Any

from tests.tenancy.matrix import IDENTITIES, Worlds
from tests.tenancy.test_isolation_matrix import ENDPOINTS, Endpoint, _like_missing, _params, changes_nothing


@_params([endpoint for endpoint in ENDPOINTS if endpoint.id_params])
def test_foreign_tenant_ids_answer_like_missing_ones(endpoint: Endpoint, client: Any, worlds: Worlds) -> None:
    """Another tenant's id is as unknown as a missing one: the same answer
    (404, or 403 where the role may not do this to any object), never more."""
    with changes_nothing(client, worlds, endpoint):
        problems = [_like_missing(client, worlds, endpoint, worlds.foreign_ids, identity, "foreign ids") for identity in IDENTITIES]
    assert [problem for problem in problems if problem] == []
