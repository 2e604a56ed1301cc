"""The line every part of `make bench` prints first: where and when it ran."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime


def machine_line(seconds: float) -> str:
    return (
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.python_implementation()} {platform.python_version()}; "
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {seconds:.0f} s"
    )
