"""What the job runner knows how to do: one table of handlers and one of
periodic jobs, named ``"module:function"`` and imported on first use, so
that a domain plugs in with one line here and the worker never imports what
it does not run.

A handler is ``async def handle(payload: dict) -> None``. It runs with no
tenant context and no transaction: it opens the scope it needs
(``tenant_scope``/``system_scope``). It may run more than once for one job
(a worker killed after the effect, before recording it), so its effect must
be idempotent: check before acting, or key the effect on the job.

A handler marked ``cpu_bound`` (decoding, rendering: work that holds the
interpreter for long) runs in a child process of the runner
(portal/jobs/children.py), never beside requests on the serving process's
event loop; it gets its payload and nothing else of the parent's state.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

HandlerFn = Callable[[dict[str, Any]], Awaitable[None]]

DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_TIMEOUT = timedelta(minutes=5)


@dataclass(frozen=True)
class Handler:
    kind: str
    target: str
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    # A job that runs longer is cancelled and counts as a failed attempt.
    timeout: timedelta = DEFAULT_TIMEOUT
    cpu_bound: bool = False


@dataclass(frozen=True)
class Periodic:
    """A job enqueued once per ``interval`` per cluster (not per process):
    every runner offers it for the current slot and the job's unique key
    lets one offer in."""

    name: str
    target: str
    interval: timedelta
    max_attempts: int = 3
    timeout: timedelta = DEFAULT_TIMEOUT
    cpu_bound: bool = False

    @property
    def kind(self) -> str:
        return f"periodic:{self.name}"


HANDLERS: dict[str, Handler] = {
    handler.kind: handler
    for handler in (
        Handler("mail.send", "portal.notifications.mail:deliver_job", max_attempts=10, timeout=timedelta(minutes=2)),
        Handler("documents.preview", "portal.documents.previews:preview_job", max_attempts=5, cpu_bound=True),
        Handler("notifications.dispatch", "portal.notifications.services:dispatch_job"),
        Handler("webhooks.deliver", "portal.notifications.webhooks:deliver_job", max_attempts=40, timeout=timedelta(minutes=1)),
        Handler("push.send", "portal.notifications.push:push_job", max_attempts=8, timeout=timedelta(minutes=1)),
        Handler("chat.send", "portal.notifications.chat:send_job", max_attempts=8, timeout=timedelta(minutes=1)),
        Handler("conversations.announce", "portal.conversations.jobs:announce"),
        # Emailed links: the job derives the token from the row (never in the payload).
        Handler(
            "tenants.invitation_mail", "tenants.services.invitations:invitation_mail_job", max_attempts=10, timeout=timedelta(minutes=2)
        ),
        Handler(
            "tenants.password_reset_mail", "tenants.services.password_reset:reset_mail_job", max_attempts=6, timeout=timedelta(minutes=2)
        ),
        # A rendering fails the same way twice unless the storage was down.
        Handler("statements.pdf", "portal.reconciliation.pdf:render_job", max_attempts=3, timeout=timedelta(minutes=15), cpu_bound=True),
        # A 1 GB package streams for minutes on S3; a run that dies starts again from scratch.
        Handler("handover.package", "portal.handover.package:package_job", max_attempts=5, timeout=timedelta(minutes=30)),
        Handler("handover.ready", "portal.handover.services:ready_job", max_attempts=3, timeout=timedelta(minutes=1)),
        # A period a reader found stale or never kept: seconds at 1M order lines.
        Handler("kpi.refresh", "portal.kpi.store:refresh_period_job", max_attempts=3, timeout=timedelta(minutes=10)),
    )
}

PERIODIC: dict[str, Periodic] = {
    periodic.name: periodic
    for periodic in (
        Periodic("audit.checkpoint", "portal.audit.checkpoints:checkpoint_job", timedelta(hours=1)),
        Periodic("documents.previews", "portal.documents.previews:sweep_job", timedelta(minutes=15), cpu_bound=True),
        Periodic("jobs.prune", "portal.jobs.queue:prune_job", timedelta(hours=6)),
        # Slots start at 00:00 UTC: the digest reaches China at 08:00.
        Periodic("sla.check", "portal.sla.services:check_job", timedelta(minutes=5)),
        Periodic("quality.ncr_steps", "portal.quality.ncrs:check_steps_job", timedelta(minutes=15)),
        # A tenant's first run fills thirteen months and five quarters.
        Periodic("kpi.scorecards", "portal.kpi.store:refresh_job", timedelta(minutes=15), timeout=timedelta(minutes=30)),
        Periodic("notifications.digest", "portal.notifications.services:digest_job", timedelta(days=1)),
    )
}


class UnknownJob(LookupError):
    pass


def register(item: Handler | Periodic) -> None:
    """For modules named in ``PORTAL_JOB_MODULES`` (extensions, tests): add a
    handler or a periodic job beside the built-in ones."""
    if isinstance(item, Periodic):
        PERIODIC[item.name] = item
    else:
        HANDLERS[item.kind] = item


def load_modules(names: tuple[str, ...]) -> None:
    for name in names:
        importlib.import_module(name)


def handler_for(kind: str) -> Handler:
    if kind in HANDLERS:
        return HANDLERS[kind]
    if kind.startswith("periodic:") and kind.removeprefix("periodic:") in PERIODIC:
        periodic = PERIODIC[kind.removeprefix("periodic:")]
        return Handler(periodic.kind, periodic.target, periodic.max_attempts, periodic.timeout, periodic.cpu_bound)
    raise UnknownJob(kind)


def resolve(target: str) -> HandlerFn:
    module, _, name = target.partition(":")
    function: HandlerFn = getattr(importlib.import_module(module), name)
    return function
