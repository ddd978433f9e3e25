"""The isolation matrix, roles: every route of the app called by every role
with its own ids, against the permission table kept by hand
(tests/tenancy/permissions.py). A module of its own, with worlds of its own,
so that ``--dist loadfile`` can run it beside the rest of the matrix
(tests/tenancy/test_isolation_matrix.py says how the matrix is split); the
writes of allowed roles move only this module's seeded objects.
"""

from __future__ import annotations

from typing import Any

from tests.tenancy.matrix import IDENTITIES, Worlds
from tests.tenancy.permissions import PERMISSIONS
from tests.tenancy.test_isolation_matrix import (
    BODY_DECIDES,
    ENDPOINTS,
    SUPPLIER_BOUND,
    Endpoint,
    _bound_body,
    _call,
    _params,
    _reached,
)


@_params(ENDPOINTS)
def test_each_role_gets_what_the_permission_table_says(endpoint: Endpoint, client: Any, worlds: Worlds) -> None:
    """With its own ids an allowed role reaches the handler (GET and write
    alike, a write with its sample body), and a refused role gets 403."""
    failures = []
    for identity in IDENTITIES:
        response = _call(client, worlds, endpoint, worlds.own, identity)
        if not endpoint.allowed(identity):
            ok = response.status_code == 403
        elif identity == "other_supplier_admin" and SUPPLIER_BOUND & set(endpoint.id_params):
            ok = response.status_code == 404 or (response.status_code == 403 and (endpoint.method, endpoint.path) in BODY_DECIDES)
        elif identity == "other_supplier_admin" and _bound_body(endpoint):
            # Another supplier's objects in the body: refused, never done.
            ok = response.status_code in (400, 404, 409, 422)
        else:
            ok = _reached(endpoint, response)
        if not ok:
            failures.append(f"{identity}: {response.status_code} {response.headers.get('location', '')}".strip())
    assert failures == [], f"{endpoint}: permissions.py says {sorted(PERMISSIONS[(endpoint.method, endpoint.path)])}"
