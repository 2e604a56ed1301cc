"""CPU time a process and its children have used, from /proc (Linux).

Throughput on a shared 2-core VM moves with whatever else the host runs (the
same bench gave a baseline of 3,500 and of 6,900 req/s on different hours);
the CPU a request costs the server does not, so the bench prints both."""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return found


def _own_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # After the command: state is field 3, utime 14 and stime 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / TICKS


def tree_seconds(pid: int) -> float:
    """User + system CPU seconds of `pid` and its live descendants (0 where
    /proc is not there: the figures then read as unavailable)."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        total += _own_seconds(current)
        pending += _children(current)
    return total
