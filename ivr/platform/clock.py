"""The one place the line asks what time it is for who is on call, so tests
can stand on a given instant (a daylight-saving night) without patching the
standard library."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
