"""Why goods are rejected on receipt: a per-tenant list the buyer admin
keeps, so that rejections can be counted by cause.

A tenant that has configured nothing gets ``DEFAULT_REASONS``; their labels
are message ids, so each person reads them in their own language. Labels an
admin types are shown as typed. ``other`` always exists: a rejection whose
cause is not on the list (or an API client that names none) counts there,
with its free-text details.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from uuid import uuid4

from portal.audit.services import record
from portal.errors import DomainError, PermissionDenied
from portal.i18n import N_, gettext
from portal.quality.tables import RejectReason
from tenants.context import current
from tenants.scoping import scoped

LABEL_LENGTH = 100
MAX_REASONS = 30
OTHER = "other"


@dataclass(frozen=True)
class Reason:
    code: str
    label: str


DEFAULT_REASONS = (
    Reason("dimension", N_("Dimension out of tolerance")),
    Reason("surface", N_("Surface defect (scratch, dent, rust)")),
    Reason("material", N_("Wrong or unverified material")),
    Reason("function", N_("Fails a functional test")),
    Reason("damaged", N_("Damaged in transit or packing")),
    Reason("documents", N_("QC documents missing or wrong")),
    Reason(OTHER, N_("Other")),
)
_OTHER = DEFAULT_REASONS[-1]


class InvalidReasons(DomainError):
    code = "invalid_reject_reasons"
    message = N_("Check the reasons.")


async def _rows() -> list[RejectReason]:
    return list(await scoped(RejectReason).objects().order_by(RejectReason.position))


async def active_reasons() -> list[Reason]:
    """The tenant's reasons in order; ``other`` last when the admin left it out."""
    rows = await _rows()
    if not rows:
        return list(DEFAULT_REASONS)
    reasons = [Reason(row.code, row.label) for row in rows if row.active]
    return reasons if any(reason.code == OTHER for reason in reasons) else [*reasons, _OTHER]


async def reason_labels() -> dict[str, str]:
    """Every code the tenant ever used (retired ones too) -> label, for
    showing received lines."""
    labels = {reason.code: reason.label for reason in DEFAULT_REASONS}
    labels.update({row.code: row.label for row in await _rows()})
    return labels


async def is_active(code: str) -> bool:
    return any(reason.code == code for reason in await active_reasons())


def _canonical(label: str) -> str:
    """A built-in reason typed in the admin's language is stored as its
    message id, so everyone keeps reading it in their own language."""
    for reason in DEFAULT_REASONS:
        if label in (reason.label, gettext(reason.label)):
            return reason.label
    return label


def _clean(labels: list[str]) -> list[str]:
    cleaned: list[str] = []
    for label in labels:
        label = _canonical(" ".join(label.split()))
        if label and label not in cleaned:
            cleaned.append(label)
    if not cleaned:
        raise InvalidReasons(fields={"reasons": N_("Name at least one reason.")})
    if len(cleaned) > MAX_REASONS:
        raise InvalidReasons(fields={"reasons": N_("Use at most %(max)s reasons.")}, max=MAX_REASONS)
    if any(len(label) > LABEL_LENGTH for label in cleaned):
        raise InvalidReasons(fields={"reasons": N_("Use at most 100 characters per reason.")})
    return cleaned


def _code_for(label: str, taken: set[str]) -> str:
    for reason in DEFAULT_REASONS:
        if reason.label == label and reason.code not in taken:
            return reason.code
    slug = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:30]
    return slug if slug and slug not in taken else f"reason_{uuid4().hex[:8]}"


async def save_reasons(labels: list[str]) -> list[Reason]:
    """Replace the tenant's list: labels kept keep their code (and the lines
    that name them), new ones are added, missing ones are retired."""
    context = current()
    if not context.can("quality.configure"):
        raise PermissionDenied()
    wanted = _clean(labels)
    before = await active_reasons()
    rows = {row.label: row for row in await _rows()}
    if not rows:
        # The first change turns the built-in list into the tenant's own.
        for position, reason in enumerate(DEFAULT_REASONS):
            default = scoped(RejectReason).new(code=reason.code, label=reason.label, position=position, active=False)
            await default.save()
            rows[reason.label] = default
    taken = {row.code for row in rows.values()}
    await scoped(RejectReason).update({RejectReason.active: False}, force=True)
    for position, label in enumerate(wanted):
        existing = rows.get(label)
        if existing is None:
            code = _code_for(label, taken)
            taken.add(code)
            await scoped(RejectReason).new(code=code, label=label, position=position, active=True).save()
        else:
            await (
                scoped(RejectReason)
                .update({RejectReason.active: True, RejectReason.position: position})
                .where(RejectReason.id == existing.id)
            )
    after = await active_reasons()
    await record(
        "quality.reject_reasons",
        entity_type="tenant",
        entity_id=context.tenant_id,
        before={"reasons": [reason.label for reason in before]},
        after={"reasons": [reason.label for reason in after]},
    )
    return after
