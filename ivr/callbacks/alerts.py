"""Who to alert when someone needs a counselor: the counselors on call now,
each with the language to write to them in."""

from __future__ import annotations

from datetime import datetime

import redis

from ivr.platform import clock
from ivr.roster.model import Counselor
from ivr.roster.oncall import who_is_on_call
from ivr.roster.store import RosterStore


def on_call_numbers(
    client: redis.Redis,
    languages: tuple[str, ...],
    at: datetime | None = None,
    *,
    store: RosterStore | None = None,
) -> list[tuple[str, str]]:
    """(number, language) of each counselor on call now, in routing order; the
    language is the first of theirs the line has content in. STORE: the
    process's own (it keeps the parsed roster), else one made for this call."""
    return staff_numbers(on_call(client, at, store=store), languages)


def on_call(
    client: redis.Redis, at: datetime | None = None, *, store: RosterStore | None = None
) -> list[Counselor]:
    """The counselors on call now, in routing order."""
    roster = (store or RosterStore(client)).load()
    if roster is None:
        return []
    return who_is_on_call(roster, at or clock.now())


def staff_numbers(people: list[Counselor], languages: tuple[str, ...]) -> list[tuple[str, str]]:
    """(number, language) of each of PEOPLE, to text them in."""
    return [(person.phone, staff_language(person, languages)) for person in people]


def staff_language(person: Counselor, languages: tuple[str, ...]) -> str:
    """The language to write to a counselor or supervisor in: the first of
    theirs the line has content in, else the line's first."""
    spoken = [lang for lang in person.languages if lang in languages]
    return spoken[0] if spoken else languages[0]
