"""Durable background jobs: see docs/jobs.md ("How to plug in").

``enqueue(kind, payload)`` inside a service writes the job in the service's
transaction; ``registry.HANDLERS`` / ``registry.PERIODIC`` say what each
kind runs. ``portal worker`` (or the app process itself, in the embedded
default) runs them.
"""

from portal.jobs.queue import enqueue
from portal.jobs.registry import Handler, Periodic
from portal.jobs.retry import RetryLater

__all__ = ["Handler", "Periodic", "RetryLater", "enqueue"]
