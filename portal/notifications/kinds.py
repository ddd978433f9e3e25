"""Every kind of event people hear about, and who hears it: the one place
that decides audience, urgency and the default channel. A domain adding
events (NCRs, handover steps, statements) adds its kinds here with
``register_kind`` or a line in ``KINDS``.

Titles and bodies are catalog message ids formatted with the event's
``params``; they are rendered in the reader's language when shown or sent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from portal.directions import without_direction_controls
from portal.i18n import N_, gettext
from tenants.roles import Role

SUPPLIER_USERS = frozenset({Role.SUPPLIER_ADMIN, Role.SUPPLIER_OPERATOR})
EMAIL_MODES = ("instant", "digest", "off")


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    body: str
    # Roles that hear of it: supplier roles only within the event's supplier.
    roles: frozenset[Role]
    # Urgent kinds cannot be switched off: they always stay in the app (email and push stay the person's choice).
    urgent: bool = False
    email: str = "instant"
    # Parameters that are catalog ids themselves (a document category).
    translated: tuple[str, ...] = ()
    # Parameters the kind's domain puts into the reader's language itself (a
    # catalog id with parameters of its own): given the event's parameters,
    # returns the ones to replace.
    localized: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    # Heard by webhooks and work chat groups too; False for what is said to
    # one person (a mention), which is theirs alone.
    broadcast: bool = True
    # What the kind is called on the channel settings (a plural noun phrase:
    # "New orders"); the title needs an event's values, which a setting has not.
    label: str = ""

    @property
    def push(self) -> bool:
        """Web Push by default for what is worth an email at once; what
        waits for the digest does not buzz a phone."""
        return self.email == "instant"

    def settings_label(self) -> str:
        """The label in the current locale; a kind registered without one
        shows its title with "…" where the event's values would go."""
        if self.label:
            return gettext(self.label)
        return gettext(self.title) % defaultdict(lambda: "…")

    def render(self, params: dict[str, Any]) -> tuple[str, str]:
        """Title and body in the current locale; a missing parameter shows empty."""
        values: defaultdict[str, Any] = defaultdict(str, params)
        for name in self.translated:
            if values[name]:
                values[name] = gettext(values[name])
        if self.localized is not None:
            values.update(self.localized(params))
        title, body = gettext(self.title) % values, (gettext(self.body) % values if self.body else "")
        return without_direction_controls(title), without_direction_controls(body)


def _handover_entry(params: dict[str, Any]) -> dict[str, Any]:
    """A handover entry's title (a catalog id with its own parameters, a
    document category among them) in the reader's language; one stored
    already translated (before 2026-12-08) reads as stored."""
    from portal.handover.services import item_title  # the handover domain builds on notifications

    entry_params = params.get("entry_params")
    return {"entry": item_title(str(params.get("entry") or ""), entry_params if isinstance(entry_params, dict) else {})}


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "order.issued",
            N_("New order %(number)s from %(buyer)s"),
            N_("Open it to accept or reject."),
            SUPPLIER_USERS,
            urgent=True,
            label=N_("New orders"),
        ),
        Kind(
            "order.revised",
            N_("Order %(number)s was changed: please acknowledge"),
            N_("Change: %(reason)s"),
            SUPPLIER_USERS,
            urgent=True,
            label=N_("Order changes to acknowledge"),
        ),
        Kind("order.accepted", N_("%(supplier)s accepted order %(number)s"), "", frozenset({Role.PLANNER}), label=N_("Orders accepted")),
        Kind(
            "order.accepted_in_part",
            N_("%(supplier)s accepted order %(number)s in part"),
            N_("Declined lines: %(reasons)s"),
            frozenset({Role.PLANNER}),
            urgent=True,
            label=N_("Orders accepted in part"),
        ),
        Kind(
            "order.rejected",
            N_("%(supplier)s rejected order %(number)s"),
            N_("Reason: %(reason)s"),
            frozenset({Role.PLANNER}),
            urgent=True,
            label=N_("Orders rejected"),
        ),
        Kind(
            "order.acknowledged",
            N_("%(supplier)s acknowledged the change to order %(number)s"),
            "",
            frozenset({Role.PLANNER}),
            email="digest",
            label=N_("Order changes acknowledged"),
        ),
        Kind(
            "dispatch.sent",
            N_("Material on its way: dispatch %(number)s from %(buyer)s"),
            N_("When it arrives, confirm what you received."),
            SUPPLIER_USERS,
            label=N_("Material dispatched to you"),
        ),
        Kind(
            "dispatch.discrepancy",
            N_("%(supplier)s reported a discrepancy on dispatch %(number)s"),
            "",
            frozenset({Role.PLANNER}),
            urgent=True,
            label=N_("Discrepancies reported on dispatches"),
        ),
        Kind(
            "delivery.shipped",
            N_("%(supplier)s shipped delivery %(number)s"),
            "",
            frozenset({Role.PLANNER, Role.QA}),
            email="digest",
            label=N_("Deliveries shipped"),
        ),
        Kind("delivery.received", N_("Delivery %(number)s was received"), "", SUPPLIER_USERS, label=N_("Deliveries received")),
        Kind(
            "qc.requested",
            N_("Order %(number)s needs a QC document: %(category)s"),
            "",
            SUPPLIER_USERS,
            translated=("category",),
            label=N_("QC documents requested"),
        ),
        Kind(
            "qc.approved",
            N_("QC document approved on order %(number)s"),
            N_("%(document)s"),
            SUPPLIER_USERS,
            email="digest",
            label=N_("QC documents approved"),
        ),
        Kind(
            "qc.rejected",
            N_("QC document rejected on order %(number)s"),
            N_("%(document)s: %(reason)s"),
            SUPPLIER_USERS,
            urgent=True,
            label=N_("QC documents rejected"),
        ),
        Kind(
            "ncr.issued",
            N_("Nonconformance %(number)s from %(buyer)s (%(severity)s)"),
            N_("%(title)s. Containment is due %(due)s."),
            SUPPLIER_USERS,
            urgent=True,
            translated=("severity",),
            label=N_("New nonconformances"),
        ),
        Kind(
            "ncr.answered",
            N_("%(supplier)s answered %(step)s on %(number)s"),
            N_("%(title)s"),
            frozenset({Role.QA}),
            translated=("step",),
            label=N_("Nonconformance steps answered"),
        ),
        Kind(
            "ncr.accepted",
            N_("%(step)s accepted on %(number)s"),
            N_("%(title)s"),
            SUPPLIER_USERS,
            translated=("step",),
            label=N_("Nonconformance steps accepted"),
        ),
        Kind(
            "ncr.returned",
            N_("%(step)s sent back on %(number)s"),
            N_("%(comment)s"),
            SUPPLIER_USERS,
            urgent=True,
            translated=("step",),
            label=N_("Nonconformance steps sent back"),
        ),
        Kind(
            "ncr.closed",
            N_("Nonconformance %(number)s was closed"),
            N_("%(title)s"),
            SUPPLIER_USERS,
            email="digest",
            label=N_("Nonconformances closed"),
        ),
        Kind(
            "ncr.cancelled",
            N_("Nonconformance %(number)s was cancelled"),
            N_("%(reason)s"),
            SUPPLIER_USERS,
            label=N_("Nonconformances cancelled"),
        ),
        Kind(
            "ncr.disposition",
            N_("%(number)s: %(disposition)s, %(quantity)s"),
            N_("%(title)s"),
            SUPPLIER_USERS,
            translated=("disposition",),
            label=N_("Dispositions of nonconforming parts"),
        ),
        Kind(
            "ncr.step_due",
            N_("Reminder: %(step)s of %(number)s is due %(due)s"),
            N_("%(title)s"),
            SUPPLIER_USERS,
            translated=("step",),
            label=N_("Nonconformance steps due soon"),
        ),
        Kind(
            "ncr.step_overdue",
            N_("Late: %(step)s of %(number)s was due %(due)s"),
            N_("%(title)s"),
            frozenset({Role.SUPPLIER_ADMIN, Role.QA}),
            urgent=True,
            translated=("step",),
            label=N_("Nonconformance steps overdue"),
        ),
        Kind(
            "ncr.step_overdue_owner",
            N_("Late: %(step)s of %(number)s (%(supplier)s) was due %(due)s"),
            N_("You own this NCR: chase the supplier."),
            frozenset({Role.QA, Role.ADMIN}),
            urgent=True,
            translated=("step",),
            label=N_("Overdue steps of nonconformances you own"),
        ),
        Kind(
            "ncr.owner_changed",
            N_("%(number)s (%(supplier)s) is now owned by %(owner)s"),
            N_("%(title)s. Changed by %(by)s."),
            frozenset({Role.QA, Role.ADMIN}),
            # Said to the new and the former owner alone.
            broadcast=False,
            label=N_("Changes of owner of nonconformances"),
        ),
        Kind(
            "sla.reminder",
            N_("Reminder: %(what)s %(number)s by %(due)s"),
            "",
            SUPPLIER_USERS,
            translated=("what",),
            label=N_("Reminders before a response time runs out"),
        ),
        Kind(
            "sla.escalated",
            N_("Late: %(what)s %(number)s was due %(due)s"),
            "",
            frozenset({Role.SUPPLIER_ADMIN, Role.PLANNER}),
            urgent=True,
            translated=("what",),
            label=N_("Missed response times"),
        ),
        Kind(
            "progress.behind",
            N_("Order %(number)s line %(line)s is behind plan"),
            N_("Due %(due)s: the good quantity reported lags the time elapsed."),
            SUPPLIER_USERS | {Role.PLANNER},
            label=N_("Order lines behind plan"),
        ),
        Kind(
            "progress.overdue",
            N_("Order %(number)s line %(line)s is overdue"),
            N_("It was due %(due)s."),
            frozenset({Role.SUPPLIER_ADMIN, Role.PLANNER}),
            urgent=True,
            label=N_("Overdue order lines"),
        ),
        Kind(
            "handover.started",
            N_("Handover %(number)s from %(buyer)s: your checklist is open"),
            N_("Sign off the entries of your side and attach the evidence asked for."),
            SUPPLIER_USERS,
            urgent=True,
            label=N_("Handovers started"),
        ),
        Kind(
            "handover.completed",
            N_("Handover %(number)s is completed"),
            N_("The handed-over work has moved; open the handover to see what changed for you."),
            SUPPLIER_USERS,
            label=N_("Handovers completed"),
        ),
        # The statement loop: the supplier's admins hear what finance did,
        # finance what the supplier did.
        Kind(
            "statement.sent",
            N_("Statement %(period)s from %(buyer)s: please confirm"),
            N_("%(currency)s %(total)s. Confirm each line or dispute it."),
            frozenset({Role.SUPPLIER_ADMIN}),
            urgent=True,
            label=N_("Statements to confirm"),
        ),
        Kind(
            "statement.answered",
            N_("Statement %(period)s: finance answered your dispute of line %(line_no)s"),
            N_("%(comment)s"),
            frozenset({Role.SUPPLIER_ADMIN}),
            urgent=True,
            label=N_("Answers to your statement disputes"),
        ),
        Kind(
            "statement.finalized",
            N_("Statement %(period)s is finalized"),
            N_("%(currency)s %(total)s, agreed by both sides and locked."),
            frozenset({Role.SUPPLIER_ADMIN}),
            label=N_("Statements finalized"),
        ),
        Kind(
            "statement.disputed",
            N_("%(supplier)s disputes line %(line_no)s of statement %(period)s"),
            N_("%(comment)s"),
            frozenset({Role.FINANCE}),
            urgent=True,
            label=N_("Disputed statement lines"),
        ),
        Kind(
            "statement.confirmed",
            N_("%(supplier)s confirmed statement %(period)s"),
            N_("Every line is agreed: finalize it."),
            frozenset({Role.FINANCE}),
            label=N_("Statements confirmed by suppliers"),
        ),
        Kind(
            "handover.cancelled",
            N_("Handover %(number)s was cancelled"),
            N_("Nothing was moved."),
            SUPPLIER_USERS,
            label=N_("Handovers cancelled"),
        ),
        # The buyer's side of a handover: the roles with entries to sign
        # hear that it started; the planners hear when it can be completed.
        Kind(
            "handover.opened",
            N_("Handover %(number)s started: sign off the entries of your role"),
            N_("Work moves from %(from)s to %(to)s once every blocking entry is signed off."),
            frozenset({Role.PLANNER, Role.QA, Role.FINANCE}),
            label=N_("Handovers with entries for your role to sign off"),
        ),
        Kind(
            "handover.signed_off",
            N_("%(supplier)s signed off an entry of handover %(number)s"),
            N_("%(entry)s"),
            frozenset({Role.PLANNER}),
            localized=_handover_entry,
            email="digest",
            label=N_("Handover entries signed off by suppliers"),
        ),
        Kind(
            "handover.ready",
            N_("Handover %(number)s is ready to complete"),
            N_("Every blocking entry is signed off: complete it to move the work."),
            frozenset({Role.PLANNER}),
            label=N_("Handovers ready to complete"),
        ),
        Kind(
            "conversation.mention",
            N_("%(author)s mentioned you on %(record)s"),
            N_("%(body)s"),
            frozenset(Role),
            translated=("record",),
            broadcast=False,
            label=N_("Mentions of you in conversations"),
        ),
        Kind(
            "conversation.reply",
            N_("%(author)s replied on %(record)s"),
            N_("%(body)s"),
            frozenset(Role),
            translated=("record",),
            broadcast=False,
            label=N_("Replies in conversations you wrote in"),
        ),
        Kind(
            "approval.requested",
            N_("Waiting for your approval: %(what)s"),
            N_("Asked by %(who)s."),
            frozenset({Role.ADMIN, Role.PLANNER, Role.QA, Role.FINANCE}),
            urgent=True,
            label=N_("Approvals waiting for you"),
        ),
        Kind(
            "approval.decided",
            N_("%(decision)s: %(what)s"),
            N_("%(comment)s"),
            frozenset({Role.ADMIN, Role.PLANNER, Role.QA, Role.FINANCE}),
            urgent=True,
            translated=("decision",),
            label=N_("Decisions on your approval requests"),
        ),
        Kind(
            "webhook.disabled",
            N_("A webhook was disabled: %(url)s"),
            N_("It kept failing for a day: %(reason)s"),
            frozenset({Role.ADMIN}),
            urgent=True,
            label=N_("Webhooks disabled after failing"),
        ),
    )
}


def register_kind(kind: Kind) -> None:
    KINDS[kind.name] = kind


def kind_of(name: str) -> Kind:
    return KINDS[name]
