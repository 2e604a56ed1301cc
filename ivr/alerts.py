"""Who to alert when someone needs a counselor: the counselors on call now,
each with the language to write to them in."""

from __future__ import annotations

from datetime import datetime

import redis

from ivr import clock
from ivr.roster.oncall import who_is_on_call
from ivr.roster.store import RosterStore


def on_call_numbers(
    client: redis.Redis, languages: tuple[str, ...], at: datetime | None = None
) -> list[tuple[str, str]]:
    """(number, language) of each counselor on call now, in routing order; the
    language is the first of theirs the line has content in."""
    roster = RosterStore(client).load()
    if roster is None:
        return []
    moment = at or clock.now()
    found = []
    for counselor in who_is_on_call(roster, moment):
        spoken = [lang for lang in counselor.languages if lang in languages]
        found.append((counselor.phone, spoken[0] if spoken else languages[0]))
    return found
