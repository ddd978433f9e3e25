"""The PDF renderer yields the CPU to requests: its thread runs at a lower
priority than the rest of the process."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from portal.reconciliation import pdf


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_the_rendering_thread_is_nicer_than_the_process() -> None:
    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    mine = niceness()
    theirs = pdf._RENDERERS.submit(niceness).result(timeout=30)
    assert theirs == min(mine + pdf.RENDER_NICENESS, 19)
    # Only the renderer's thread: the caller's stays where it was.
    assert niceness() == mine


def test_the_rendering_job_runs_in_a_child_process_of_the_runner() -> None:
    from portal.jobs.registry import handler_for

    # Not beside requests on the app's event loop (portal/jobs/children.py).
    assert handler_for("statements.pdf").cpu_bound is True
