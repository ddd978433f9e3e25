"""The isolation matrix, what pages show: no page, list or export a role may
open names the other tenant or, for supplier users, another supplier or the
buyer's drafts."""

from __future__ import annotations

from typing import Any

from tests.tenancy.matrix import IDENTITIES, Worlds
from tests.tenancy.test_isolation_matrix import ENDPOINTS, SUPPLIER_USERS, Endpoint, _call, _params


@_params([endpoint for endpoint in ENDPOINTS if endpoint.method == "GET"])
def test_no_page_shows_foreign_or_hidden_data(endpoint: Endpoint, client: Any, worlds: Worlds) -> None:
    """Every GET a role may call, with its own ids: the body never names the
    other tenant (slug, ids of its objects and of its orders' lines,
    deliveries, reports, documents, order numbers, supplier names, emails),
    nor for supplier users another supplier's objects, name and order numbers
    or the buyer's drafts."""
    foreign = worlds.foreign_seed
    marks = [worlds.foreign.slug, str(worlds.foreign.tenant_id), *(str(i) for i in worlds.foreign.supplier_ids)]
    marks += [account.email for account in worlds.foreign.accounts.values()]
    marks += [str(value) for value in {**foreign.first, **foreign.second, **foreign.hidden}.values()]
    # The seeded orders carry ERP numbers of their own (matrix_seed.seed):
    # numbers and supplier names of the other tenant.
    marks += foreign.first_marks + foreign.second_marks
    supplier_marks = [str(value) for name, value in worlds.other_supplier.items() if worlds.own.get(name) != value]
    supplier_marks += [str(value) for name, value in worlds.hidden.items() if worlds.own.get(name) != value]
    supplier_marks += worlds.home_seed.second_marks + worlds.home_seed.hidden_marks
    leaks = []
    for identity in IDENTITIES[:-1]:
        if not endpoint.allowed(identity):
            continue
        text = _call(client, worlds, endpoint, worlds.own, identity).text
        checked = marks + (supplier_marks if identity in SUPPLIER_USERS else [])
        leaks += [f"{identity} shows {mark}" for mark in set(checked) if mark in text]
    assert leaks == []
