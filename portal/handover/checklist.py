"""The checklist template: who acts on each entry, which decisions an entry
about a record takes, and the built-in default a tenant starts from.

Titles are catalog ids (translated when shown, in the reader's language);
a title an admin typed is not in the catalog and shows as typed. An entry
with a ``source`` stands for one entry per record of that kind that the
handover covers (each open order, each material balance, ...).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from portal.errors import DomainError
from portal.i18n import N_
from tenants.context import TenantContext
from tenants.roles import Role


class Party(StrEnum):
    OUTGOING_SUPPLIER = "outgoing_supplier"
    PLANNER = "planner"
    QA = "qa"
    FINANCE = "finance"
    INCOMING_SUPPLIER = "incoming_supplier"


PARTY_LABELS = {
    Party.OUTGOING_SUPPLIER: N_("Outgoing supplier"),
    Party.PLANNER: N_("Buyer planner"),
    Party.QA: N_("Quality (QA)"),
    Party.FINANCE: N_("Finance"),
    Party.INCOMING_SUPPLIER: N_("Incoming supplier"),
}

BUYER_PARTIES = {Party.PLANNER: Role.PLANNER, Party.QA: Role.QA, Party.FINANCE: Role.FINANCE}


class Source(StrEnum):
    NONE = ""
    ORDERS = "order"
    MATERIALS = "material"
    DOCUMENTS = "document"
    QC = "qc_requirement"
    NCRS = "ncr"


# The decisions an entry about a record takes; completion acts on them.
DECISIONS: dict[str, tuple[str, ...]] = {
    Source.ORDERS.value: ("finish", "cancel_rest", "transfer"),
    Source.MATERIALS.value: ("return", "transfer", "write_off"),
    Source.NCRS.value: ("close", "transfer"),
}
DECISION_LABELS = {
    "finish": N_("Finish at the old supplier"),
    "cancel_rest": N_("Cancel the rest"),
    "transfer": N_("Transfer to the new supplier"),
    "return": N_("Return to the buyer"),
    "write_off": N_("Write off (finance approves)"),
    "close": N_("Closed at the old supplier"),
}
# A write-off is finance's to approve, whoever the entry names.
DECISION_PARTY = {(Source.MATERIALS.value, "write_off"): Party.FINANCE}


def may_sign(context: TenantContext, party: Party, *, from_supplier: Any, to_supplier: Any) -> bool:
    """The responsible side only: the outgoing supplier's users, the incoming
    supplier's users, or the buyer role named (the buyer admin stands in
    for any buyer role)."""
    if party is Party.OUTGOING_SUPPLIER:
        return context.is_supplier and context.supplier_id == from_supplier
    if party is Party.INCOMING_SUPPLIER:
        return context.is_supplier and context.supplier_id == to_supplier
    return not context.is_supplier and context.role in (BUYER_PARTIES[party], Role.ADMIN)


def _entry(title: str, party: Party, *, evidence: bool = False, blocking: bool = True, source: Source = Source.NONE) -> dict[str, Any]:
    return {"title": title, "party": party.value, "evidence": evidence, "blocking": blocking, "source": source.value}


DEFAULT_SECTIONS: list[dict[str, Any]] = [
    {
        "title": N_("Technical documents"),
        "items": [
            _entry(N_("Confirm that %(title)s is the current version"), Party.PLANNER, source=Source.DOCUMENTS),
            _entry(N_("Drawings, process specs, work instructions and inspection plans are complete"), Party.PLANNER),
        ],
    },
    {
        "title": N_("Open orders"),
        "items": [
            _entry(N_("Decide on order %(number)s: finish, cancel the rest or transfer"), Party.PLANNER, source=Source.ORDERS),
            _entry(N_("Confirm the open quantities of the orders listed"), Party.OUTGOING_SUPPLIER),
        ],
    },
    {
        "title": N_("Material balance"),
        "items": [
            _entry(N_("Reconcile %(material)s: %(held)s %(unit)s held"), Party.PLANNER, source=Source.MATERIALS),
            _entry(N_("Count the material held and attach the count"), Party.OUTGOING_SUPPLIER, evidence=True),
        ],
    },
    {
        "title": N_("Tooling"),
        "items": [
            _entry(
                N_("List the buyer-owned tooling, fixtures and gauges and confirm their return or transfer"),
                Party.OUTGOING_SUPPLIER,
                evidence=True,
            ),
        ],
    },
    {
        "title": N_("Quality"),
        "items": [
            _entry(N_("QC requirement %(category)s on order %(number)s carries over"), Party.QA, blocking=False, source=Source.QC),
            _entry(N_("NCR %(number)s (%(title)s): closed at the old supplier or transferred"), Party.QA, source=Source.NCRS),
            _entry(N_("QC history is archived"), Party.QA),
        ],
    },
    {
        "title": N_("Access and start"),
        "items": [
            _entry(N_("The outgoing supplier's access to the handed-over work ends at completion"), Party.PLANNER, blocking=False),
            _entry(N_("Ready to take over the work"), Party.INCOMING_SUPPLIER),
        ],
    },
]


class InvalidTemplate(DomainError):
    code = "invalid_template"
    message = N_("The checklist template is not valid.")


MAX_SECTIONS = 30
MAX_ITEMS = 60
MAX_TITLE = 300


def clean_sections(sections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A template an admin sent, checked: every section with a title and at
    least one entry, every entry with a title, a known party and source."""
    problems: dict[str, str] = {}
    if not sections:
        problems["sections"] = N_("Add at least one section.")
    if len(sections) > MAX_SECTIONS:
        problems["sections"] = N_("A template has at most 30 sections.")
    cleaned: list[dict[str, Any]] = []
    for index, section in enumerate(sections[:MAX_SECTIONS]):
        title = str(section.get("title", "")).strip()
        if not title or len(title) > MAX_TITLE:
            problems[f"sections.{index}.title"] = N_("Give a title of at most 300 characters.")
        items = section.get("items") or []
        if not items or len(items) > MAX_ITEMS:
            problems[f"sections.{index}.items"] = N_("A section has 1 to 60 entries.")
        entries = []
        for position, item in enumerate(items[:MAX_ITEMS]):
            where = f"sections.{index}.items.{position}"
            text = str(item.get("title", "")).strip()
            if not text or len(text) > MAX_TITLE:
                problems[f"{where}.title"] = N_("Give a title of at most 300 characters.")
            if item.get("party") not in {party.value for party in Party}:
                problems[f"{where}.party"] = N_("Choose who acts on this entry.")
            if item.get("source", "") not in {source.value for source in Source}:
                problems[f"{where}.source"] = N_("Unknown kind of record.")
            entries.append(
                {
                    "title": text,
                    "party": item.get("party"),
                    "evidence": bool(item.get("evidence", False)),
                    "blocking": bool(item.get("blocking", True)),
                    "source": item.get("source", ""),
                }
            )
        cleaned.append({"title": title, "items": entries})
    if problems:
        raise InvalidTemplate(fields=problems)
    return cleaned
