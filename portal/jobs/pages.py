"""The tenant admin's view of its background work that went wrong: failed
jobs (waiting to try again) and parked ones (gave up), each with its last
error, and a button to try a job again now. The job table is not tenant
data; a tenant admin sees and retries only jobs recorded for its tenant
(work of the whole installation stays with ``portal jobs``)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.errors import NotFound
from portal.jobs import queue
from portal.jobs.queue import FAILED, PARKED, JobRow
from tenants.context import current
from tenants.guards import requires


async def tenant_jobs() -> list[JobRow]:
    """This tenant's failed and parked jobs, newest first."""
    return await queue.list_jobs([FAILED, PARKED], tenant=current().tenant_id)


async def retry_tenant_job(job_id: UUID) -> bool:
    """Queue one of this tenant's failed or parked jobs to run now, its
    attempts counted afresh; False when it is no longer waiting for that
    (done, or already queued again). Another tenant's job is not found."""
    job = await queue.get_job(job_id)
    if job is None or job.tenant != current().tenant_id:
        raise NotFound()
    return await queue.retry(job_id)


class JobPages(Controller):
    path = "/admin/jobs"
    include_in_schema = False
    guards = [requires("jobs.manage")]

    @get("/")
    async def show_jobs(self) -> Template:
        return Template(template_name="admin/jobs.html", context={"jobs": await tenant_jobs(), "active_nav": "account"})

    @post("/{job_id:uuid}/retry")
    async def retry_job(self, job_id: FromPath[UUID]) -> Redirect:
        await retry_tenant_job(job_id)
        return Redirect(path="/admin/jobs", status_code=303)
