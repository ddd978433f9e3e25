"""The isolation matrix, ids in query strings and JSON bodies: every id a
handler takes besides its path (``supplier_id`` of a list filter, the
``order_id`` of a delivery, the ``order_line_id`` of each delivery line, the
``line_id`` of each receipt line, ...) filled with another tenant's, another
supplier's, a hidden parent's and a missing id, must answer as a missing id
does and change nothing in the database. The same body with the caller's
own ids must then succeed: the refusals come from the id, not from a body
the route would refuse anyway.

A module of its own, with worlds of its own: the successful writes at the
end of each case use up seeded objects (a receipt, a dispatch) that no other
module's case then expects.
"""

from __future__ import annotations

from typing import Any

from tests.tenancy.matrix import IDENTITIES, Worlds, changed_tables
from tests.tenancy.test_isolation_matrix import (
    ENDPOINTS,
    ID_FIELD_COMPANIONS,
    Endpoint,
    _call,
    _id_fields,
    _outcome,
    _params,
    database,
    foreign_values,
    id_key,
    sample_body,
    with_value,
)

# Routes whose sample body cannot succeed on the matrix's installation, with
# the reason; their ids are tried all the same.
NO_SUCCESS = {
    ("POST", "/api/v1/orders/{order_id:uuid}/answers"): (
        "answering moves the shared seeded order out of 'issued' for every later route;"
        " tests/integration/orders/test_line_answers.py proves the answer"
    ),
    ("POST", "/api/v1/documents/uploads"): "direct uploads need S3 storage (409 on files); test_s3.py tries other suppliers' ids there",
    ("POST", "/documents/uploads"): "direct uploads need S3 storage (409 on files); test_s3.py tries other suppliers' ids there",
}


@_params([endpoint for endpoint in ENDPOINTS if endpoint.method == "GET" or endpoint.takes_json])
def test_ids_in_query_and_body_answer_like_missing_ones(
    endpoint: Endpoint, client: Any, worlds: Worlds, handlers: dict[tuple[str, str], Any]
) -> None:
    query, body = _id_fields(handlers[(endpoint.method, endpoint.path)], endpoint)
    callers = [identity for identity in IDENTITIES[:-1] if endpoint.allowed(identity)]
    problems = []
    before = database(client, worlds)
    for identity in callers:
        sample = sample_body(client, worlds, endpoint, worlds.own)
        for name in query + body:
            key = id_key(endpoint, name)
            assert key is not None
            answers = {}
            for label, value in foreign_values(worlds, key, identity):
                extra: dict[str, Any] = {}
                if name in query:
                    extra["query"] = {name: str(value), **ID_FIELD_COMPANIONS.get(name, {})}
                else:
                    companions = ID_FIELD_COMPANIONS.get(name, {})
                    extra["body"] = with_value({**sample, **companions} if isinstance(sample, dict) else sample, name, str(value))
                answers[label] = _outcome(_call(client, worlds, endpoint, worlds.own, identity, **extra))
            if len(set(answers.values())) != 1 or any(answer[0] >= 500 for answer in answers.values()):
                problems.append(f"{identity} {endpoint} {name}: {answers}")
    assert problems == []
    changed = changed_tables(before, database(client, worlds))
    assert changed == [], f"refused ids changed these tables: {changed}"
    if not endpoint.writes or not body or (endpoint.method, endpoint.path) in NO_SUCCESS:
        return
    # The same body with the caller's own ids does what the route is for.
    response = _call(client, worlds, endpoint, worlds.own, callers[0])
    assert response.status_code < 400, f"{callers[0]} {endpoint} with its own ids: {response.status_code} {response.text[:300]}"
