"""Pages that belong to no single domain: home and the language switch."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.approvals.services import waiting_for_me
from portal.conversations.services import unanswered
from portal.deliveries.services import deliveries_to_receive
from portal.errors import NotFound
from portal.i18n import LOCALE_COOKIE, SUPPORTED_LOCALES, normalize_locale
from portal.kpi.board import lines_at_risk
from portal.materials.services import list_dispatches
from portal.materials.states import Status as DispatchStatus
from portal.orders.pages import DUE_SOON_DAYS, inbox_context
from portal.orders.services import inbox as orders_inbox
from portal.progress.services import lines_due
from portal.quality.ncrs import open_ages
from portal.quality.services import qc_todo
from portal.reconciliation.services import todo as statements_todo
from tenants.context import TenantContext, peek
from tenants.services.invitations import list_invitations

ONE_YEAR = 365 * 24 * 3600


def safe_next(target: str | None) -> str:
    """Only paths on this site: never an open redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@get("/", name="home", include_in_schema=False)
async def show_home(request: Request[Any, Any, Any]) -> Template:
    """A supplier's home is what needs them now (the phone's start page);
    everyone else gets the overview."""
    context = peek()
    if isinstance(context, TenantContext) and context.is_supplier:
        return Template(
            template_name="orders/inbox.html",
            context={
                **await inbox_context(),
                "lines_due": await lines_due(DUE_SOON_DAYS),
                "unanswered": await unanswered(),
                "active_nav": "home",
            },
        )
    home: dict[str, Any] = {"active_nav": "home"}
    if isinstance(context, TenantContext):
        home.update(await _buyer_home(context))
    return Template(template_name="home/index.html", context=home)


async def _buyer_home(context: TenantContext) -> dict[str, Any]:
    """What waits for this role: the planner's orders, revisions, receipt
    discrepancies; QA's review queue and deliveries to inspect; finance's
    statements; the admin's invitations; everyone's unanswered messages."""
    home: dict[str, Any] = {"unanswered": await unanswered()}
    if context.can("approvals.decide"):
        home["approvals"] = await waiting_for_me()
    if context.can("orders.manage"):
        home["inbox"] = await orders_inbox(DUE_SOON_DAYS)
        home["discrepancies"], home["discrepancies_next"] = await list_dispatches(
            status=DispatchStatus.RECEIVED_WITH_DISCREPANCY.value, limit=10
        )
    if context.can("quality.review"):
        home["qc"] = await qc_todo()
        home["deliveries"] = await deliveries_to_receive()
    if context.can("orders.manage") or context.can("quality.review"):
        # The buyer's board: late and at-risk lines, open NCRs by age, QC
        # documents waiting, 12-month trends (charts load as images, after
        # the page, from the scorecards the kpi.scorecards job keeps).
        home["at_risk"] = await lines_at_risk()
        home["ncr_ages"] = await open_ages()
        home["qc_waiting"] = len((home.get("qc") or await qc_todo()).to_review)
    if context.can("statements.manage"):
        home["statements"] = await statements_todo()
    if context.can("invitations.manage"):
        home["invitations"] = [invitation for invitation in await list_invitations() if invitation.status == "pending"]
    return home


@get("/locale/{code:str}", name="switch_locale", include_in_schema=False)
async def switch_locale(code: FromPath[str], next: FromQuery[str | None] = None) -> Redirect:
    locale = normalize_locale(code)
    if locale not in SUPPORTED_LOCALES:
        raise NotFound()
    cookie = Cookie(key=LOCALE_COOKIE, value=locale, max_age=ONE_YEAR, httponly=True, samesite="lax")
    return Redirect(path=safe_next(next), cookies=[cookie], status_code=303)
