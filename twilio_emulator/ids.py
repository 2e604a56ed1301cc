"""Twilio's identifiers and timestamps: 34-character SIDs (two-letter prefix and
32 hex digits) and RFC 2822 dates in GMT, as api v2010 writes them."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

API_VERSION = "2010-04-01"


def new_sid(prefix: str) -> str:
    """A fresh SID: `SM…` message, `CA…` call, `RE…` recording."""
    return prefix + secrets.token_hex(16)


def now() -> datetime:
    return datetime.now(UTC)


def rfc2822(moment: datetime | None) -> str | None:
    """Twilio's own form, e.g. `Thu, 30 Jul 2015 20:12:31 +0000`."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
