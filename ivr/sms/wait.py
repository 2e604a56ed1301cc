"""What a texter who asks for a person (TALK) is told about the wait (issue
19): only what is true now, never a time the line cannot keep.

- Someone who speaks their language is on call: the keyword's reply, saying
  how many such counselors are on call ({on_call}) and how many texters asked
  before them and still wait ({ahead}).
- Nobody who speaks it is: `talk_nobody_until`, naming when the next such
  counselor comes on ({next_start}, in the line's time zone), if one does
  within a day; else `talk_nobody`, which names no time.

The counts are what the roster and the threads say at this instant: how fast
a counselor writes is theirs, not the line's, to promise."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ivr.content.model import NEXT_SHIFT_VALUE, Content
from ivr.content.render import clock_time, fill
from ivr.roster.model import Counselor, Roster
from ivr.roster.oncall import next_on_call
from ivr.threads.store import Threads

# A time of day names one instant only within a day of now ("at 7:00 AM" is
# the next 7:00 AM): a shift starting later is not named at all.
HORIZON = timedelta(hours=23, minutes=59)
UNTIL_ROLE = "talk_nobody_until"


@dataclass(frozen=True)
class Wait:
    on_call: int  # counselors on call now who speak the texter's language
    ahead: int  # texters still waiting who asked before this one
    next_start: datetime | None  # with none on call: when the next comes on
    at: datetime  # when the wait was read


def wait_now(
    roster: Roster | None,
    on_call: Sequence[Counselor],
    threads: Threads,
    thread_id: str,
    language: str,
    now: datetime,
) -> Wait:
    """The wait of THREAD_ID, just offered, for a texter writing in LANGUAGE;
    ON_CALL: who the roster has on call at NOW (the caller read it already)."""
    speakers = sum(1 for counselor in on_call if counselor.speaks(language))
    ahead = threads.ahead_of(thread_id)
    if speakers or roster is None:
        return Wait(speakers, ahead, None, now)
    return Wait(0, ahead, next_on_call(roster, now, language, HORIZON), now)


def wait_texts(
    content: Content, reply: str, wait: Wait, language: str, zone_name: str
) -> list[str]:
    """The texts telling WAIT, in LANGUAGE: REPLY (the person keyword's reply)
    when someone is on call, else the nobody texts; times in ZONE_NAME."""
    values: dict[str, str] = {}
    if wait.on_call:
        text_id = reply
        values = {"on_call": str(wait.on_call), "ahead": str(wait.ahead)}
    elif wait.next_start is not None and UNTIL_ROLE in content.sms.replies:
        text_id = content.sms.replies[UNTIL_ROLE]
        zone = ZoneInfo(zone_name)
        local = wait.next_start.astimezone(zone)
        tomorrow = local.date() != wait.at.astimezone(zone).date()
        values = {NEXT_SHIFT_VALUE: clock_time(content, language, local, tomorrow=tomorrow)}
    else:
        text_id = content.sms.replies["talk_nobody"]
    return [
        fill(content, part.text(language), language, "sms", values)
        for part in content.texts[text_id]
    ]
