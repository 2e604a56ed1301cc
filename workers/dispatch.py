"""Ring counselors for a waiting caller, and stop ringing when it is over.

`ring` is the one step of a dispatch: with nothing ringing, it picks who is on
call now (the caller's language first, nobody already on a helpline call,
nobody tried this round) and rings them — one at a time or all at once — or,
when nobody is left after the last round, gives up so the caller hears the
other choices. It runs again whenever a leg ends without an acceptance, and
from the sweeper when a ring is overdue (its worker died); a lease and the
"nothing live" check make a second run change nothing.
"""

from __future__ import annotations

import logging
import time
from functools import cache

import redis
from redis.exceptions import LockError
from requests import ReadTimeout, RequestException
from twilio.base.exceptions import TwilioRestException

from ivr.jobs import after_hold_path, leg_status_path, whisper_over_path, whisper_path
from ivr.line import Line
from ivr.platform import clock
from ivr.platform.config import Settings
from ivr.platform.twilio_transport import twilio_client
from ivr.roster.model import Counselor
from ivr.roster.oncall import prefer_language, who_is_on_call
from ivr.roster.parse import RosterError
from ivr.roster.store import RosterStore
from ivr.routing.dispatches import COUNSELOR_TAKEN, Dispatch, Dispatches
from ivr.routing.ending import WaitEnding
from ivr.routing.holding import RING_GRACE_SECONDS
from workers.context import job_line

log = logging.getLogger("helpline.jobs.dispatch")
BUSY_RECHECK_SECONDS = 2  # a caller waiting for a busy counselor is looked at this often


@cache
def _roster_store(client: redis.Redis) -> RosterStore:
    return RosterStore(client)  # one per worker process: it keeps its on-call index


def _dispatches(line: Line) -> Dispatches:
    return Dispatches(line.redis, line.settings.retention_seconds)


def _on_call(line: Line, dispatch: Dispatch) -> list[Counselor]:
    try:
        roster = _roster_store(line.redis).load()
    except RosterError:
        log.exception("the stored roster does not validate: nobody can be rung")
        return []
    if roster is None:
        return []
    return prefer_language(who_is_on_call(roster, clock.now()), dispatch.language)


def ring(dispatch_id: str) -> str:
    line = job_line()
    lease = line.redis.lock(
        f"dispatch:{dispatch_id}:ringing", timeout=line.settings.job_lease_seconds, blocking=False
    )
    if not lease.acquire():
        return "another run is ringing"
    try:
        return _ring(line, dispatch_id)
    finally:
        try:
            lease.release()
        except LockError:
            log.warning("dispatch %s: ring lease had run out", dispatch_id)


def _ring(line: Line, dispatch_id: str) -> str:
    dispatches = _dispatches(line)
    dispatch = dispatches.load(dispatch_id)
    if dispatch is None or not dispatch.is_open:
        return "over"
    settings = line.settings
    dispatches.drop_lost_legs(dispatch_id, older_than_seconds=settings.job_lease_seconds)
    if dispatches.live_legs(dispatch_id) > 0:
        return "still ringing"
    if dispatch.waited() >= settings.max_hold_seconds:
        return give_up(line, dispatch, "the longest hold ran out")
    on_call = _on_call(line, dispatch)
    # Not those talking to, or being rung for, another caller: their phone is
    # taken (under load every caller's ring went to the same first counselor).
    busy = dispatches.engaged_counselors()
    free = [c for c in on_call if c.id not in busy]
    free_ids = {c.id for c in free}
    if not dispatch.urgent and _urgent_caller_first(dispatches, dispatch, free_ids, settings):
        dispatches.set_deadline(
            dispatch_id,
            min(time.time() + BUSY_RECHECK_SECONDS, dispatch.created + settings.max_hold_seconds),
        )
        return "an urgent caller is rung first; waiting"
    round_number = dispatch.round
    candidates = [c for c in free if c.id not in dispatches.tried(dispatch_id, round_number)]
    if not candidates and free and round_number < settings.ring_rounds:
        round_number = dispatches.next_round(dispatch_id)
        candidates = free
    if not candidates and len(free) < len(on_call):
        # Everyone free was tried, but someone on call is with another caller and
        # may be free in a moment: hold on (the longest hold still bounds it),
        # rather than send this caller to voicemail while a counselor is seconds away.
        dispatches.set_deadline(
            dispatch_id,
            min(time.time() + BUSY_RECHECK_SECONDS, dispatch.created + settings.max_hold_seconds),
        )
        return "everyone on call is busy; waiting"
    if not candidates:
        return give_up(line, dispatch, "nobody left to ring" if on_call else "nobody on call")
    if dispatch.urgent:
        # Everyone free at once, the first to answer takes it: those who speak
        # the caller's language, or everyone free when none of them is.
        speaks = [c for c in candidates if dispatch.language in c.languages]
        chosen = speaks or candidates
    else:
        everyone = settings.ring_strategy == "simultaneous"
        chosen = candidates if everyone else candidates[:1]
    client = twilio_client(line.settings)
    rung = 0
    added = False
    for counselor in chosen:
        leg_id = dispatches.add_leg(dispatch_id, counselor.id, round_number, first=not added)
        if leg_id is None:
            return "taken or over meanwhile"  # an acceptance or a hang-up won the race
        if leg_id == COUNSELOR_TAKEN:
            continue  # another caller's ring took this counselor meanwhile
        added = True
        try:
            call = client.calls.create(
                to=counselor.phone,
                from_=settings.line_number,
                url=settings.public(whisper_path(dispatch_id, leg_id)),
                status_callback=settings.public(leg_status_path(dispatch_id, leg_id)),
                status_callback_event=["completed"],
                timeout=settings.ring_seconds,
            )
        except (TwilioRestException, RequestException) as error:
            log.warning(
                "dispatch %s: could not ring a counselor: %s", dispatch_id, type(error).__name__
            )
            if isinstance(error, ReadTimeout):
                # Twilio got the request and may yet place the call (it did, in the
                # fault tests): the leg stays ringing, to be answered and accepted as
                # any other, or ended by its status callback. Marked failed, its
                # counselor would hear "another counselor took this call" from their
                # own ring. Never placed, it is dropped as lost after the lease.
                rung += 1
                continue
            dispatches.end_leg(dispatch_id, leg_id, "failed")
            continue
        dispatches.set_leg_call(dispatch_id, leg_id, str(call.sid))
        rung += 1
    dispatches.set_deadline(dispatch_id, time.time() + settings.ring_seconds + RING_GRACE_SECONDS)
    if rung == 0:
        # Every call failed to start: try the next ones at once rather than wait.
        return _ring(line, dispatch_id)
    log.info("dispatch %s: ringing %d counselor(s), round %d", dispatch_id, rung, round_number)
    return f"ringing {rung}"


def _urgent_caller_first(
    dispatches: Dispatches, dispatch: Dispatch, free: set[str], settings: Settings
) -> bool:
    """An urgent caller (their words read as a crisis) is waiting with no phone
    ringing for them, and has someone free left to ring: the next free
    counselor is theirs. Once they have rung everyone free in every round and
    wait only for a busy one, others are rung again (never starved)."""
    for other in dispatches.urgent_waiting():
        if other.id == dispatch.id or dispatches.live_legs(other.id) > 0:
            continue
        untried = free - dispatches.tried(other.id, other.round)
        if untried or (free and other.round < settings.ring_rounds):
            return True
    return False


def give_up(line: Line, dispatch: Dispatch, why: str) -> str:
    """No counselor will come: close the dispatch and move the caller on now
    (their hold loop would also notice, a few seconds later)."""
    ending = WaitEnding(
        line.redis, line.jobs, line.settings.retention_seconds, line.settings.timezone
    )
    # Its phones stopped here and now: this worker is already talking to Twilio.
    if not ending.end(dispatch, "gave_up", why, stop_ringing=lambda i: _cancel(line, i, keep="")):
        return "already over"
    try:
        twilio_client(line.settings).calls(dispatch.call_sid).update(
            url=line.settings.public(after_hold_path(dispatch.id)), method="POST"
        )
    except (TwilioRestException, RequestException) as error:
        log.warning(
            "dispatch %s: could not move the caller (%s); their hold loop will",
            dispatch.id,
            type(error).__name__,
        )
    return "gave up"


def cancel_legs(dispatch_id: str, keep: str) -> int:
    """Stop every counselor phone still ringing (or whispering) for this caller."""
    return _cancel(job_line(), dispatch_id, keep)


def _cancel(line: Line, dispatch_id: str, keep: str) -> int:
    dispatches = _dispatches(line)
    client = twilio_client(line.settings)
    stopped = 0
    for leg in dispatches.legs(dispatch_id):
        if leg.id == keep or leg.state not in ("ringing", "whisper"):
            continue
        dispatches.end_leg(dispatch_id, leg.id, "canceled")
        if not leg.call_sid:
            continue
        try:
            if leg.state == "whisper":
                # Answered, hearing the whisper: told why (taken, or the caller left),
                # then released, rather than cut off without a word.
                client.calls(leg.call_sid).update(
                    url=line.settings.public(whisper_over_path(dispatch_id, leg.id)),
                    method="POST",
                )
            else:
                client.calls(leg.call_sid).update(status="canceled")  # still ringing
            stopped += 1
        except (TwilioRestException, RequestException) as error:
            # Ended meanwhile, or Twilio unreachable: its whisper says the call is over.
            log.warning(
                "dispatch %s: could not stop a counselor leg (%s)",
                dispatch_id,
                type(error).__name__,
            )
    return stopped
