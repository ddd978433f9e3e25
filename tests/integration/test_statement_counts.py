"""A request's number of SQL statements does not grow with the rows it
shows (issue 17): one page that asks the database once per row (a
document's record, a notification's record) costs a statement per row,
and the lists grow all day.

The routes come from the app's own route table (tests/tenancy/
permissions.py, which the isolation matrix holds equal to it): every GET
route, page or API, that a demo supplier admin and a demo admin may call.
The ids they take are found the way a person finds them, by following the
links of the pages from the role's home (as tests/browser/
test_every_page_on_phone.py does), the supplier's ids first so that both
roles open the same records. Each route is counted on the demo data
(plus one row of each kind below, so that every list already holds every
kind of row), then again after ten more rows of every kind the pages list (orders,
documents, notifications, messages, NCRs, progress reports, dispatches,
deliveries) were added through the services, on the records the routes
open: a route whose count grew fails, unless it is listed in GROWS with
the reason. A route that cannot be counted is listed in NOT_COUNTED.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from tenants.demo import DEMO_PASSWORD, load_demo
from tenants.roles import Role
from tests.support.factories import csrf_token, page_post
from tests.support.plans import recorded_statements
from tests.tenancy.permissions import PERMISSIONS

# (email, role) of the two roles counted; the supplier first: its ids win.
ACCOUNTS = [("boss@precision.example", Role.SUPPLIER_ADMIN), ("admin@acme.example", Role.ADMIN)]
TENANT = "acme"
SUPPLIER = "S-PM"
# Rows of each kind added between the two counts.
MORE = 10
# The lot of the material dispatched and delivered: the lot trace lists them.
LOT = "COUNT"

# GET routes not counted, with the reason.
NOT_COUNTED = {
    "/statements/{statement_id:uuid}/pdf": "a PDF (WeasyPrint); the statement's rows are counted through its export",
    "/api/v1/statements/{statement_id:uuid}/pdf": "a PDF (WeasyPrint); the statement's rows are counted through its export",
    "/orders/{order_id:uuid}/labels": "a PDF rendered in the request (WeasyPrint, seconds): its rows are the order's lines",
    "/materials/dispatches/{dispatch_id:uuid}/labels": "a PDF rendered in the request (WeasyPrint, seconds)",
    "/handovers/{handover_id:uuid}/package": "a ZIP of the handover's files",
    "/api/v1/handovers/{handover_id:uuid}/package": "a ZIP of the handover's files",
}

# Routes whose count may grow with the rows added, with the reason.
GROWS = {
    route: "an export walks the whole list a page (50 rows) at a time: a statement or two per page, not per row"
    for route in ("/deliveries/export", "/api/v1/deliveries/export")
}

# Routes that answer only with these query parameters (ids by name).
QUERIES = {
    "/conversations": "?record_type=order&record_id={order_id}",
    "/api/v1/threads": "?record_type=order&record_id={order_id}",
    "/api/v1/lot-trace": f"?lot={LOT}",
}

# Routes the demo data gives no record for.
NOT_IN_DEMO = {
    "/approvals/{approval_id:uuid}": "no approval request in the demo",
    "/api/v1/approvals/{approval_id:uuid}": "no approval request in the demo",
    "/admin/webhooks/{webhook_id:uuid}": "no webhook in the demo",
    "/api/v1/webhooks/{webhook_id:uuid}/deliveries": "no webhook in the demo",
    "/api/v1/invitations/{invitation_id:uuid}": "no invitation waiting in the demo",
}

PARAM = re.compile(r"\{([^}:]+)[^}]*\}")
HREF = re.compile(r"""href="(/[^"#]*)\"""")


def _pattern(route: str) -> re.Pattern[str]:
    return re.compile("/".join("[^/]+" if part.startswith("{") else re.escape(part) for part in route.split("/")) + "$")


ROUTES = sorted(path for method, path in PERMISSIONS if method == "GET")
PATTERNS = {route: _pattern(route) for route in ROUTES}


def route_of(url: str) -> str | None:
    path = urlsplit(url).path
    # Fixed segments win over parameters: /orders/new is not /orders/{order_id}.
    matches = [route for route, pattern in PATTERNS.items() if pattern.match(path)]
    return min(matches, key=lambda route: route.count("{"), default=None)


def ids_in(url: str, route: str) -> dict[str, str]:
    names = [PARAM.fullmatch(part).group(1) if PARAM.fullmatch(part) else "" for part in route.split("/")]  # type: ignore[union-attr]
    return {name: value for name, value in zip(names, urlsplit(url).path.split("/"), strict=True) if name}


class Session:
    """One demo account signed in to the pages and the API."""

    def __init__(self, client: Any, email: str, role: Role) -> None:
        self.client = client
        self.role = role
        response = page_post(client, "/login", {"email": email, "password": DEMO_PASSWORD, "tenant": TENANT}, csrf=csrf_token(client))
        assert response.status_code == 303, response.text
        self.page = {"cookie": f"portal_session={response.cookies['portal_session']}"}
        token = client.post("/api/v1/auth/token", json={"email": email, "password": DEMO_PASSWORD, "tenant": TENANT})
        assert token.status_code == 200, token.text
        self.api = {"authorization": f"Bearer {token.json()['access_token']}"}

    def get(self, url: str) -> Any:
        self.client.cookies.clear()
        headers = self.api if url.startswith("/api/") else self.page
        return self.client.get(url, headers=headers, follow_redirects=False)

    def count(self, url: str) -> tuple[int, int]:
        """(status, statements) of one request to ``url``: the fewer of
        two, so that a per-process cache filled by the first (a session
        checked, a statement built) is not counted as the page's own."""
        counts = []
        for _ in range(2):
            with recorded_statements() as statements:
                response = self.get(url)
            counts.append(len(statements))
        return response.status_code, min(counts)

    def crawl(self) -> dict[str, str]:
        """The ids met on the pages reached by following links from home."""
        waiting: deque[str] = deque(HREF.findall(self.get("/").text))
        seen: set[str] = set()
        ids: dict[str, str] = {}
        while waiting:
            url = waiting.popleft()
            route = route_of(url)
            if route is None or route in seen or route in NOT_COUNTED or self.role not in PERMISSIONS[("GET", route)]:
                continue
            seen.add(route)
            response = self.get(url)
            if response.status_code != 200:
                continue
            ids.update(ids_in(url, route))
            if response.headers.get("content-type", "").startswith("text/html"):
                waiting.extend(HREF.findall(response.text))
        return ids


def url_of(route: str, ids: dict[str, str]) -> str | None:
    names = PARAM.findall(route)
    if not all(name in ids for name in names):
        return None
    return PARAM.sub(lambda match: ids[match.group(1)], route + QUERIES.get(route, ""))


def listed_ids(session: Session, ids: dict[str, str]) -> dict[str, str]:
    """Ids no page links to (a return, a scrap report), from the API list
    each detail route sits under (``GET <list path>/{id}``): the first item's."""
    found: dict[str, str] = {}
    for route in ROUTES:
        *head, last = route.split("/")
        if not route.startswith("/api/") or not PARAM.fullmatch(last) or session.role not in PERMISSIONS[("GET", route)]:
            continue
        name = PARAM.fullmatch(last).group(1)  # type: ignore[union-attr]
        listing = url_of("/".join(head), ids) if name not in ids else None
        response = session.get(listing) if listing else None
        if response is not None and response.status_code == 200 and response.json().get("items"):
            found[name] = str(response.json()["items"][0]["id"])
    return found


async def _people() -> tuple[Any, UUID, dict[str, UUID]]:
    from tenants.context import system_scope
    from tenants.tables import Supplier, Tenant, User

    async with system_scope("statement-counts"):
        tenant: Any = await Tenant.objects().where(Tenant.slug == TENANT).first()
        supplier: Any = await Supplier.select(Supplier.id).where(Supplier.tenant == tenant.id).where(Supplier.code == SUPPLIER).first()
        users = await User.select(User.id, User.email).where(User.email.is_in([email for email, _ in ACCOUNTS]))
    return tenant, supplier["id"], {row["email"]: row["id"] for row in users}


async def busy_order() -> dict[str, str]:
    """The supplier, its order in production (the demo has one), the
    order's first line and its shared thread: the records the counted routes open and the rows
    are added to."""
    from portal.conversations.services import record_threads
    from portal.orders.tables import Order
    from tenants.context import operator_context, tenant_scope
    from tenants.scoping import scoped

    tenant, supplier_id, _ = await _people()
    async with tenant_scope(operator_context(tenant, "statement-counts")):
        order = await scoped(Order).select(Order.id).where((Order.supplier == supplier_id) & (Order.status == "in_production")).first()
        from portal.orders.services import get_order

        found = await get_order(order["id"])
        shared = next(thread.id for thread in await record_threads("order", found.id) if thread.side == "shared")
    ids = {"order_id": found.id, "line_id": found.lines[0].id, "thread_id": shared, "supplier_id": supplier_id}
    return {name: str(value) for name, value in ids.items()}


async def grow(ids: dict[str, str], rows: int) -> None:
    """``rows`` rows of every kind the counted routes list, through the
    services: orders and dispatches sent to the supplier, NCRs on its
    order, documents, messages, progress reports and deliveries on the
    order the routes open, and notifications to both people about it."""
    from portal.conversations.services import MessageIn, post_message
    from portal.deliveries.schemas import DeliveryCreate, DeliveryLineIn
    from portal.deliveries.services import create_delivery
    from portal.documents.services import new_document_target, store_upload
    from portal.documents.storage import open_storage
    from portal.items.tables import Item
    from portal.jobs.runner import run_due_jobs
    from portal.materials import services as materials
    from portal.materials.schemas import DispatchCreate, DispatchLineIn
    from portal.notifications.services import emit
    from portal.orders import services as orders
    from portal.orders.schemas import OrderCreate, OrderLineIn
    from portal.progress.schemas import ReportIn
    from portal.progress.services import create_report
    from portal.quality import ncrs
    from portal.settings import get_settings
    from tenants.context import operator_context, tenant_scope
    from tenants.scoping import scoped
    from tests.support.documents.samples import png, stage

    tenant, supplier_id, users = await _people()
    order_id, line_id, thread_id = UUID(ids["order_id"]), UUID(ids["line_id"]), UUID(ids["thread_id"])
    storage = open_storage(get_settings())
    buyer = replace(operator_context(tenant, "statement-counts"), user_id=users["admin@acme.example"])
    async with tenant_scope(buyer):
        order = await orders.get_order(order_id)
        line = order.lines[0]
        material = await scoped(Item).select(Item.id).where(Item.kind == "material").first()
        due = date.today() + timedelta(days=20)
        for index in range(rows):
            more = OrderLineIn(item_id=line.item_id, quantity=Decimal(5), unit_price=Decimal(2), due_date=due)
            await orders.fire((await orders.create_order(OrderCreate(supplier_id=supplier_id, lines=[more]))).id, "issue")
            sent = DispatchLineIn(item_id=material["id"], quantity=Decimal(1), lot=LOT)
            await materials.send_dispatch((await materials.create_dispatch(DispatchCreate(supplier_id=supplier_id, lines=[sent]))).id)
            target = await new_document_target("order", order_id, "photo", f"Count photo {index}")
            await store_upload(storage, target, stage(storage, png(), f"count-{index}.png", "image/png"))
            opened = await ncrs.open_ncr(ncrs.NcrIn(title=f"Count NCR {index}", description="statement counts", order_line_id=line_id))
            await ncrs.issue_ncr(opened.id, ncrs.IssueIn())
            await post_message(thread_id, MessageIn(body=f"count message {index}", client_id=uuid4()))
            await emit(
                "order.revised",
                users=list(users.values()),
                params={"number": order.number},
                link=f"/orders/{order_id}",
                record=("order", order_id),
            )
    supplier = replace(buyer, role=Role.SUPPLIER_ADMIN, supplier_id=supplier_id, user_id=users["boss@precision.example"])
    async with tenant_scope(supplier):
        for index in range(rows):
            report = ReportIn(client_id=uuid4(), order_line_id=line_id, stage="machining", good_quantity=Decimal(1), note=f"count {index}")
            await create_report(report)
            shipped = [DeliveryLineIn(order_line_id=line_id, quantity=Decimal("0.1"), lot=LOT)]
            await create_delivery(DeliveryCreate(order_id=order_id, lines=shipped, ship=True))
    # The events above reach their people through the jobs.
    await run_due_jobs()


def counts(session: Session, ids: dict[str, str]) -> tuple[dict[str, tuple[int, int]], list[str]]:
    """Per route the role may call: (status, statements); and the routes
    with no id to open them by."""
    found, missing = {}, []
    for route in ROUTES:
        if session.role not in PERMISSIONS[("GET", route)] or route in NOT_COUNTED:
            continue
        url = url_of(route, ids)
        if url is None:
            missing.append(route)
            continue
        found[route] = session.count(url)
    return found, missing


def test_no_route_runs_more_statements_for_more_rows(client: Any, run: Callable[..., Any]) -> None:
    run(load_demo)
    sessions = [Session(client, email, role) for email, role in ACCOUNTS]
    ids: dict[str, str] = {}
    for session in reversed(sessions):
        ids.update(session.crawl())
    ids.update(run(busy_order))
    for session in reversed(sessions):
        ids.update(listed_ids(session, ids))
    # One row of each kind first, so that every list holds every kind of
    # row before it grows: a list may ask once per kind of record its rows
    # name (a notification's order, NCR, message...), never once per row.
    run(grow, ids, 1)
    before = {session.role: counts(session, ids) for session in sessions}
    run(grow, ids, MORE)
    problems = []
    for session in sessions:
        found, missing = before[session.role]
        problems += [f"{route}: no id in the demo to open it for {session.role.value}" for route in missing if route not in NOT_IN_DEMO]
        for route, (status, statements) in sorted(found.items()):
            if status >= 400:
                problems.append(f"{route} answers {status} to {session.role.value}")
                continue
            if route in GROWS:
                continue
            _, grown = session.count(url_of(route, ids) or route)
            if grown > statements:
                problems.append(f"{route} for {session.role.value}: {statements} statements, {grown} with {MORE} more rows of each kind")
    assert not problems, "\n".join(problems)
