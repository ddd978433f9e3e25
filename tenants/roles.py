"""Roles and the permission policy: one table of role -> allowed actions."""

from __future__ import annotations

from enum import StrEnum

from portal.i18n import N_


class Role(StrEnum):
    ADMIN = "admin"
    PLANNER = "planner"
    QA = "qa"
    FINANCE = "finance"
    SUPPLIER_ADMIN = "supplier_admin"
    SUPPLIER_OPERATOR = "supplier_operator"

    @property
    def is_supplier(self) -> bool:
        return self in SUPPLIER_ROLES

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


BUYER_ROLES = frozenset({Role.ADMIN, Role.PLANNER, Role.QA, Role.FINANCE})
SUPPLIER_ROLES = frozenset({Role.SUPPLIER_ADMIN, Role.SUPPLIER_OPERATOR})

ROLE_LABELS = {
    Role.ADMIN: N_("Buyer admin"),
    Role.PLANNER: N_("Planner"),
    Role.QA: N_("Quality (QA)"),
    Role.FINANCE: N_("Finance"),
    Role.SUPPLIER_ADMIN: N_("Supplier admin"),
    Role.SUPPLIER_OPERATOR: N_("Supplier operator"),
}

# Actions are "<domain>.<verb>". Each domain package adds its own rows here
# when it lands, so the whole policy stays readable in one place.
POLICY: dict[str, frozenset[Role]] = {
    "tenant.view": frozenset(Role),
    "users.manage": frozenset({Role.ADMIN}),
    "suppliers.view": frozenset({Role.ADMIN, Role.PLANNER, Role.QA, Role.FINANCE}),
    "suppliers.manage": frozenset({Role.ADMIN}),
    "invitations.manage": frozenset({Role.ADMIN}),
    # A supplier admin's own colleagues, never anyone else.
    "team.manage": frozenset({Role.SUPPLIER_ADMIN}),
    "audit.view": frozenset({Role.ADMIN}),
    "items.view": BUYER_ROLES,
    "items.manage": frozenset({Role.ADMIN, Role.PLANNER}),
    "orders.view": frozenset(Role),
    "orders.manage": frozenset({Role.ADMIN, Role.PLANNER}),
    "orders.respond": frozenset({Role.SUPPLIER_ADMIN}),
    "orders.start": SUPPLIER_ROLES,
    "orders.import": frozenset({Role.ADMIN, Role.PLANNER}),
    "orders.export": frozenset(Role),
    "documents.view": frozenset(Role),
    "documents.upload": frozenset({Role.ADMIN, Role.PLANNER, Role.QA, Role.SUPPLIER_ADMIN, Role.SUPPLIER_OPERATOR}),
    "documents.withdraw": frozenset({Role.ADMIN, Role.PLANNER, Role.QA}),
    "deliveries.view": frozenset(Role),
    "deliveries.ship": SUPPLIER_ROLES,
    "deliveries.receive": frozenset({Role.ADMIN, Role.PLANNER, Role.QA}),
    "materials.view": frozenset(Role),
    "materials.dispatch": frozenset({Role.ADMIN, Role.PLANNER}),
    "materials.confirm": SUPPLIER_ROLES,
    "materials.report": SUPPLIER_ROLES,
    "progress.view": frozenset(Role),
    "progress.report": SUPPLIER_ROLES,
    "progress.configure": frozenset({Role.ADMIN}),
    "quality.view": frozenset(Role),
    "quality.require": frozenset({Role.ADMIN, Role.PLANNER, Role.QA}),
    "quality.review": frozenset({Role.ADMIN, Role.QA}),
    "quality.override": frozenset({Role.ADMIN, Role.QA}),
    "quality.configure": frozenset({Role.ADMIN}),
    "ncrs.view": frozenset(Role),
    "ncrs.manage": frozenset({Role.ADMIN, Role.QA}),
    "ncrs.answer": SUPPLIER_ROLES,
    "ncrs.configure": frozenset({Role.ADMIN}),
    "statements.view": frozenset({Role.ADMIN, Role.FINANCE, Role.SUPPLIER_ADMIN}),
    "statements.manage": frozenset({Role.ADMIN, Role.FINANCE}),
    "statements.approve": frozenset({Role.ADMIN, Role.FINANCE}),
    "statements.respond": frozenset({Role.SUPPLIER_ADMIN}),
    "notifications.view": frozenset(Role),
    "webhooks.manage": frozenset({Role.ADMIN}),
    "jobs.manage": frozenset({Role.ADMIN}),
    # The buyer's groups, or a supplier admin's own supplier's group.
    "chat_robots.manage": frozenset({Role.ADMIN, Role.SUPPLIER_ADMIN}),
    "sla.view": frozenset(Role),
    "sla.configure": frozenset({Role.ADMIN}),
    # Tolerances and document categories: everyone works with them, the
    # buyer's admin sets them.
    # Approvals: the rule names the buyer role that decides each request.
    "approvals.view": BUYER_ROLES,
    "approvals.decide": BUYER_ROLES,
    "approvals.configure": frozenset({Role.ADMIN}),
    "settings.view": frozenset(Role),
    "settings.manage": frozenset({Role.ADMIN}),
    "conversations.view": frozenset(Role),
    "conversations.post": frozenset(Role),
    "handovers.view": frozenset(Role),
    "handovers.manage": frozenset({Role.ADMIN, Role.PLANNER}),
    # Each checklist entry names the party that signs it; the service checks it.
    "handovers.sign": frozenset(Role),
    "handovers.configure": frozenset({Role.ADMIN}),
    "handovers.package": BUYER_ROLES,
    # The buyer's side of a record's conversation never reaches a supplier.
    "conversations.internal": BUYER_ROLES,
    # Buyer-side prices and internal notes never reach supplier roles.
    "prices.view_internal": BUYER_ROLES,
    "notes.view_internal": BUYER_ROLES,
}


ACTION_LABELS = {
    "tenant.view": N_("See the company's shared work"),
    "users.manage": N_("Manage people and their roles"),
    "suppliers.view": N_("See all suppliers"),
    "suppliers.manage": N_("Add and change suppliers"),
    "invitations.manage": N_("Invite people"),
    "team.manage": N_("Invite and remove colleagues of their own supplier"),
    "audit.view": N_("Read the audit trail"),
    "items.view": N_("See the item master"),
    "items.manage": N_("Add and change items and bills of material"),
    "orders.view": N_("See orders"),
    "orders.manage": N_("Create, issue, revise and cancel orders"),
    "orders.respond": N_("Accept or reject orders and acknowledge changes"),
    "orders.start": N_("Report that production started"),
    "orders.import": N_("Import orders from Excel or CSV"),
    "orders.export": N_("Export orders to Excel or CSV"),
    "documents.view": N_("See shared documents"),
    "documents.upload": N_("Upload documents and new versions"),
    "documents.withdraw": N_("Withdraw documents"),
    "deliveries.view": N_("See deliveries"),
    "deliveries.ship": N_("Create and ship delivery notices"),
    "deliveries.receive": N_("Receive deliveries: accept and reject quantities"),
    "materials.view": N_("See material dispatches, returns, scrap and balances"),
    "materials.dispatch": N_("Create and send material dispatches"),
    "materials.confirm": N_("Confirm receipt of dispatched material"),
    "materials.report": N_("Report material returned or scrapped"),
    "progress.view": N_("See production progress and its photos"),
    "progress.report": N_("Report production progress with photos"),
    "progress.configure": N_("Set the production stages suppliers report"),
    "quality.view": N_("See QC checklists and document reviews"),
    "quality.require": N_("Require QC documents on orders and waive them"),
    "quality.review": N_("Approve or reject QC documents"),
    "quality.override": N_("Accept goods while QC documents are still owed, with a reason"),
    "quality.configure": N_("Set the reasons for rejecting goods"),
    "ncrs.view": N_("See nonconformances (NCRs)"),
    "ncrs.manage": N_("Open, decide on and close nonconformances (NCRs)"),
    "ncrs.answer": N_("Answer the steps of the supplier's NCRs"),
    "ncrs.configure": N_("Set the days each NCR step is given"),
    "statements.view": N_("See period statements"),
    "statements.manage": N_("Compute, close and send period statements; propose adjustments"),
    "statements.approve": N_("Approve another person's statement adjustments"),
    "statements.respond": N_("Confirm or dispute the lines of a statement and confirm it"),
    "notifications.view": N_("See and manage their own notifications"),
    "webhooks.manage": N_("Register webhooks for the company's systems"),
    "jobs.manage": N_("See the company's failed background jobs and retry them"),
    "chat_robots.manage": N_("Connect DingTalk, WeCom or Feishu group robots"),
    "sla.view": N_("See the response times suppliers are held to"),
    "sla.configure": N_("Set the response times and the progress margin"),
    "approvals.view": N_("See actions held for approval"),
    "approvals.decide": N_("Approve or reject held actions their role is named for"),
    "approvals.configure": N_("Set which actions need approval, above which amount, by whom"),
    "settings.view": N_("See the tolerances and document categories"),
    "settings.manage": N_("Set tolerances and document categories"),
    "handovers.view": N_("See supplier-change handovers they take part in"),
    "handovers.manage": N_("Start, complete and cancel supplier-change handovers"),
    "handovers.sign": N_("Sign off the handover checklist entries of their side"),
    "handovers.configure": N_("Edit the handover checklist template"),
    "handovers.package": N_("Download the handover package"),
    "conversations.view": N_("Read the conversations on records they can see"),
    "conversations.post": N_("Write in those conversations, mention people, attach photos"),
    "conversations.internal": N_("Read and write the buyer's internal notes on a record"),
    "prices.view_internal": N_("See buyer-side prices"),
    "notes.view_internal": N_("See internal notes"),
}


def allowed(role: Role, action: str) -> bool:
    """Unknown actions are refused: a typo must not open a door."""
    return role in POLICY.get(action, frozenset())
