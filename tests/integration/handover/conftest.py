"""A handover world: supplier A (the world's first supplier, with the
supplier users) hands part P-100 over to supplier B (the second, whose
admin is ``other_supplier_admin``); a third supplier C takes no part.

A holds: order "transfer" (P-100, 10 ordered, 4 delivered... accepted 0 here,
open 10) with the buyer's drawing and A's certificate on it, order
"cancel" (P-100), order "kept" (P-200, not handed over), and steel
dispatched and received."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest

from tests.integration.documents.conftest import uploaded
from tests.integration.orders.conftest import due
from tests.support.documents.samples import png
from tests.support.factories import PASSWORD, World, api_token, bearer, make_world


@dataclass
class HandoverWorld:
    world: World
    tokens: dict[str, str]
    part_id: str
    other_part_id: str
    idle_part_id: str
    material_id: str
    orders: dict[str, dict[str, Any]]
    drawing_id: str
    certificate_id: str
    third_supplier_id: str
    third_token: str

    def as_(self, key: str, language: str | None = None) -> dict[str, str]:
        headers = bearer(self.third_token if key == "third" else self.tokens[key])
        return {**headers, "accept-language": language} if language else headers

    @property
    def a(self) -> str:
        return str(self.world.supplier_ids[0])

    @property
    def b(self) -> str:
        return str(self.world.supplier_ids[1])


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _order(client: Any, planner: dict[str, str], supplier: str, item_id: str, quantity: str = "10") -> dict[str, Any]:
    body = {"supplier_id": supplier, "lines": [{"item_id": item_id, "quantity": quantity, "unit_price": "12.50", "due_date": due(20)}]}
    order = _ok(client.post("/api/v1/orders", json=body, headers=planner), 201)
    return dict(_ok(client.post(f"/api/v1/orders/{order['id']}/transitions", json={"event": "issue"}, headers=planner)))


async def _third_member(slug: str, email: str, supplier_id: UUID) -> None:
    from tenants.context import operator_context, system_scope, tenant_scope
    from tenants.roles import Role
    from tenants.services.members import add_membership, ensure_user
    from tenants.services.tenants import tenant_by_slug

    async with system_scope("test-factory"):
        tenant = await tenant_by_slug(slug)
    async with tenant_scope(operator_context(tenant, "test")):
        await add_membership(await ensure_user(email, email, PASSWORD), Role.SUPPLIER_ADMIN, supplier_id)


@pytest.fixture
def ho(client: Any, run: Any) -> HandoverWorld:
    world = run(make_world, "ho")
    tokens = {key: api_token(client, account, world.slug) for key, account in world.accounts.items()}
    admin, planner = bearer(tokens["admin"]), bearer(tokens["planner"])
    third = _ok(client.post("/api/v1/suppliers", json={"code": "S3", "name": f"Third {world.slug}"}, headers=admin), 201)
    third_email = f"third.{world.slug}@test.example"
    run(_third_member, world.slug, third_email, UUID(third["id"]))

    third_token = _ok(client.post("/api/v1/auth/token", json={"email": third_email, "password": PASSWORD, "tenant": world.slug}))[
        "access_token"
    ]
    items = {}
    for code, kind in (("P-100", "part"), ("P-200", "part"), ("P-300", "part"), ("M-STEEL", "material")):
        items[code] = _ok(
            client.post("/api/v1/items", json={"code": code, "name": code, "unit": "pcs", "kind": kind}, headers=planner), 201
        )["id"]
    bom = [{"material_id": items["M-STEEL"], "quantity_per_unit": "1.25", "scrap_rate": "0"}]
    _ok(client.put(f"/api/v1/items/{items['P-100']}/bom", json=bom, headers=planner))
    a = str(world.supplier_ids[0])
    orders = {
        "transfer": _order(client, planner, a, items["P-100"]),
        "cancel": _order(client, planner, a, items["P-100"], "5"),
        "kept": _order(client, planner, a, items["P-200"]),
    }
    supplier = bearer(tokens["supplier_admin"])
    for order in orders.values():
        _ok(client.post(f"/api/v1/orders/{order['id']}/transitions", json={"event": "accept"}, headers=supplier))
    transfer_id = orders["transfer"]["id"]
    drawing = uploaded(
        client,
        tokens["planner"],
        png(),
        name="drawing.png",
        declared="image/png",
        category="drawing",
        attached_type="order",
        attached_id=transfer_id,
        title="Drawing",
    )
    certificate = uploaded(
        client,
        tokens["supplier_admin"],
        png(color=(200, 20, 20)),
        name="cert.png",
        declared="image/png",
        category="material_certificate",
        attached_type="order",
        attached_id=transfer_id,
        title="Certificate",
    )
    dispatch = _ok(
        client.post(
            "/api/v1/dispatches",
            json={"supplier_id": a, "lines": [{"item_id": items["M-STEEL"], "quantity": "30", "lot": "H1"}]},
            headers=planner,
        ),
        201,
    )
    _ok(client.post(f"/api/v1/dispatches/{dispatch['id']}/send", headers=planner))
    receipt = {"lines": [{"line_id": dispatch["lines"][0]["id"], "received_quantity": "30"}]}
    _ok(client.post(f"/api/v1/dispatches/{dispatch['id']}/receipt", json=receipt, headers=supplier))
    return HandoverWorld(
        world,
        tokens,
        items["P-100"],
        items["P-200"],
        items["P-300"],
        items["M-STEEL"],
        orders,
        drawing["id"],
        certificate["id"],
        third["id"],
        third_token,
    )


def create(client: Any, ho: HandoverWorld, **body: Any) -> Any:
    payload = {"from_supplier_id": ho.a, "to_supplier_id": ho.b, "item_ids": [ho.part_id], **body}
    return client.post("/api/v1/handovers", json=payload, headers=ho.as_("planner"))


def started(client: Any, ho: HandoverWorld) -> dict[str, Any]:
    handover = _ok(create(client, ho), 201)
    return dict(
        _ok(client.post(f"/api/v1/handovers/{handover['id']}/start", json={"version": handover["version"]}, headers=ho.as_("planner")))
    )


SIGNER = {
    "planner": "planner",
    "qa": "qa",
    "finance": "finance",
    "outgoing_supplier": "supplier_admin",
    "incoming_supplier": "other_supplier_admin",
}


def sign_everything(
    client: Any, ho: HandoverWorld, handover_id: str, decisions: dict[str, str], skip: Collection[str] = ()
) -> dict[str, Any]:
    """Each party signs off every entry it sees (but the ids in ``skip``),
    attaching evidence where asked; ``decisions`` maps record ids (orders,
    materials) to decisions."""
    full = _ok(client.get(f"/api/v1/handovers/{handover_id}", headers=ho.as_("planner")))
    for item in full["items"]:
        if item["id"] in skip:
            continue
        who = SIGNER[item["party"]]
        if item["evidence"]:
            uploaded(
                client,
                ho.tokens[who],
                png(),
                name="evidence.png",
                declared="image/png",
                category="photo",
                attached_type="handover_item",
                attached_id=item["id"],
                title="Evidence",
            )
        decision = decisions.get(item["record_id"] or "", item["decisions"][0] if item["decisions"] else "")
        if decision == "write_off":
            who = "finance"
        signed = client.post(
            f"/api/v1/handovers/{handover_id}/items/{item['id']}/sign-off", json={"decision": decision, "note": "ok"}, headers=ho.as_(who)
        )
        assert signed.status_code == 200, (item, signed.text)
    return dict(_ok(client.get(f"/api/v1/handovers/{handover_id}", headers=ho.as_("planner"))))
