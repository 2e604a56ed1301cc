"""A free TCP port for a server that another process will bind later.

A port probed free with bind(port 0) comes from the kernel's ephemeral range, and
until its server binds it, any socket asking for port 0 or connecting out can draw
the same number (a test run once lost its line's port to the emulator that way).
A port below that range is only ever handed out by being asked for by number, so a
probe there stays free for its owner unless something else names it too."""

from __future__ import annotations

import random
import socket
from pathlib import Path

EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST = 10_000  # below this live the well-known services a developer may run


def _ephemeral_floor() -> int:
    try:
        low, _high = EPHEMERAL_RANGE.read_text().split()
        return int(low)
    except (OSError, ValueError):
        return 32_768  # Linux's default; other systems are only less crowded


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on, outside the ephemeral range."""
    floor = _ephemeral_floor()
    if floor - LOWEST > 100:
        for port in random.sample(range(LOWEST, floor), 50):
            if _bindable(port):
                return port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        chosen: int = probe.getsockname()[1]
        return chosen
