"""The production stages a tenant's suppliers report against.

A tenant that has configured nothing gets ``DEFAULT_STAGES``; their labels
are message ids, so each person reads them in their own language. Labels a
buyer admin types are shown as typed (gettext returns an unknown id as is).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from uuid import uuid4

from portal.audit.services import record
from portal.errors import DomainError, PermissionDenied
from portal.i18n import N_, gettext
from portal.progress.tables import ProgressStage
from tenants.context import current
from tenants.scoping import scoped

LABEL_LENGTH = 100
MAX_STAGES = 20


@dataclass(frozen=True)
class Stage:
    code: str
    label: str


DEFAULT_STAGES = (
    Stage("material_received", N_("Material received")),
    Stage("machining", N_("Machining")),
    Stage("heat_treatment", N_("Heat treatment")),
    Stage("surface_treatment", N_("Surface treatment")),
    Stage("inspection", N_("Inspection")),
    Stage("packed", N_("Packed")),
)


class InvalidStages(DomainError):
    code = "invalid_stages"
    message = N_("Check the stages.")


async def active_stages() -> list[Stage]:
    rows = (
        await scoped(ProgressStage).select(ProgressStage.code, ProgressStage.label, ProgressStage.active).order_by(ProgressStage.position)
    )
    if not rows:
        return list(DEFAULT_STAGES)
    return [Stage(row["code"], row["label"]) for row in rows if row["active"]]


async def stage_named(code: str) -> Stage | None:
    for stage in await active_stages():
        if stage.code == code:
            return stage
    return None


def _canonical(label: str) -> str:
    """A built-in stage typed (or kept) in the admin's language is stored
    as its message id, so everyone keeps reading it in their own language."""
    for stage in DEFAULT_STAGES:
        if label in (stage.label, gettext(stage.label)):
            return stage.label
    return label


def _clean(labels: list[str]) -> list[str]:
    cleaned: list[str] = []
    for label in labels:
        label = _canonical(" ".join(label.split()))
        if label and label not in cleaned:
            cleaned.append(label)
    if not cleaned:
        raise InvalidStages(fields={"stages": N_("Name at least one stage.")})
    if len(cleaned) > MAX_STAGES:
        raise InvalidStages(fields={"stages": N_("Use at most %(max)s stages.")}, max=MAX_STAGES)
    if any(len(label) > LABEL_LENGTH for label in cleaned):
        raise InvalidStages(fields={"stages": N_("Use at most 100 characters per stage.")})
    return cleaned


def _code_for(label: str, taken: set[str]) -> str:
    for stage in DEFAULT_STAGES:
        if stage.label == label and stage.code not in taken:
            return stage.code
    slug = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:30]
    return slug if slug and slug not in taken else f"stage_{uuid4().hex[:8]}"


async def save_stages(labels: list[str]) -> list[Stage]:
    """Replace the tenant's list: labels kept keep their code (and their
    reports), new ones are added, missing ones are retired."""
    context = current()
    if not context.can("progress.configure"):
        raise PermissionDenied()
    wanted = _clean(labels)
    before = await active_stages()
    rows = {row.label: row for row in await scoped(ProgressStage).objects()}
    if not rows:
        # The first change turns the built-in list into the tenant's own.
        for position, stage in enumerate(DEFAULT_STAGES):
            default = scoped(ProgressStage).new(code=stage.code, label=stage.label, position=position, active=False)
            await default.save()
            rows[stage.label] = default
    taken = {row.code for row in rows.values()}
    await scoped(ProgressStage).update({ProgressStage.active: False}, force=True)
    for position, label in enumerate(wanted):
        existing = rows.get(label)
        if existing is None:
            code = _code_for(label, taken)
            taken.add(code)
            await scoped(ProgressStage).new(code=code, label=label, position=position, active=True).save()
        else:
            await (
                scoped(ProgressStage)
                .update({ProgressStage.active: True, ProgressStage.position: position})
                .where(ProgressStage.id == existing.id)
            )
    after = await active_stages()
    await record(
        "progress.stages",
        entity_type="tenant",
        entity_id=context.tenant_id,
        before={"stages": [stage.label for stage in before]},
        after={"stages": [stage.label for stage in after]},
    )
    return after
