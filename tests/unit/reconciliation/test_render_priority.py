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
