"""CPU time of processes, from /proc (Linux): the benches print the CPU a
request costs beside its latency, since on a machine shared with other
work the latencies move with the load and the CPU per request much less."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def tree(pid: int) -> list[int]:
    """A process and all its descendants (those alive now)."""
    try:
        children = [int(child) for task in Path(f"/proc/{pid}/task").iterdir() for child in (task / "children").read_text().split()]
    except OSError:
        return [pid]
    return [pid, *(descendant for child in children for descendant in tree(child))]


def cpu_of(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each of these processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return used


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds a tree used between two readings (processes started in
    between count from zero; those that ended in between are lost)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def postmaster(cluster: Any) -> int | None:
    if cluster is None:
        return None
    return int((cluster.directory / "data" / "postmaster.pid").read_text().split()[0])
