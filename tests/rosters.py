"""Rosters for tests: counselors on call around the clock, stored as the line
stores them (through the roster parser and RosterStore)."""

from __future__ import annotations

import redis

from ivr.roster.parse import parse_roster
from ivr.roster.store import RosterStore

COUNSELOR_A = "+12025550111"  # English
COUNSELOR_B = "+12025550112"  # English and Spanish
SUPERVISOR = "+12025550131"  # English and Spanish; never rung for a caller


def store_always_on_call(
    client: redis.Redis, *counselors: tuple[str, str, list[str]], supervised: bool = True
) -> None:
    """Each (id, phone, languages) on call every day, all day, in that order;
    and a supervisor, "sol", on call all the time too (unless not SUPERVISED)."""
    people = counselors or (("alex", COUNSELOR_A, ["en"]), ("blanca", COUNSELOR_B, ["en", "es"]))
    supervisors = [("sol", SUPERVISOR, ["en", "es"])] if supervised else []
    data = {
        "timezone": "America/New_York",
        "counselors": [
            {"id": cid, "name": cid.title(), "phone": phone, "languages": languages, "priority": n}
            for n, (cid, phone, languages) in enumerate(people, start=1)
        ]
        + [
            {
                "id": cid,
                "name": cid.title(),
                "phone": phone,
                "languages": languages,
                "role": "supervisor",
            }
            for cid, phone, languages in supervisors
        ],
        "shifts": [
            {
                "counselor": cid,
                "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "start": "00:00",
                "end": "24:00",
            }
            for cid, _, _ in [*people, *supervisors]
        ],
    }
    RosterStore(client).save(parse_roster(data, "test roster"))
