"""Putting a caller on hold for a counselor: find (or open) the call's
dispatch, count it, and queue the job that rings counselors. The webhook never
calls Twilio itself."""

from __future__ import annotations

import logging
import time
from datetime import datetime

import redis
from rq import Queue

from ivr.jobs import Jobs
from ivr.platform import clock
from ivr.platform.config import Settings
from ivr.roster.oncall import who_is_on_call
from ivr.roster.parse import RosterError
from ivr.roster.store import RosterStore
from ivr.routing.dispatches import Dispatches
from ivr.routing.figures import Figures

log = logging.getLogger("helpline.routing")
# A ring that has not ended this long after its phone stopped ringing is looked at again.
RING_GRACE_SECONDS = 5


def queue_name(dispatch_id: str) -> str:
    """The Twilio queue the caller waits in: one per dispatch (names ≤ 64 chars)."""
    return f"d{dispatch_id}"


def anyone_on_call(store: RosterStore, at: datetime | None = None) -> bool:
    try:
        roster = store.load()
    except RosterError:
        log.exception("the stored roster does not validate: nobody can be rung")
        return False
    return roster is not None and bool(who_is_on_call(roster, at or clock.now()))


class Holding:
    def __init__(
        self, client: redis.Redis, queue: Queue, settings: Settings, roster: RosterStore
    ) -> None:
        self._redis = client
        self._jobs = Jobs(queue)
        self._settings = settings
        self._roster = roster
        self.dispatches = Dispatches(client, settings.retention_seconds)
        self.figures = Figures(client, settings.timezone)

    def hold(
        self, call_sid: str, caller: str, language: str, node_id: str, *, urgent: bool = False
    ) -> str | None:
        """The dispatch id to wait on, or None when nobody is on call at all. An
        urgent caller (their words read as a crisis) is rung at once, ahead of
        every other waiting caller, even when they were already waiting."""
        if not anyone_on_call(self._roster):
            # Once per call: the same menu webhook delivered twice is one offer.
            ttl = self._settings.call_state_ttl_seconds
            if self._redis.set(f"call:{call_sid}:offered", 1, nx=True, ex=ttl):
                self.figures.offered()
                self.figures.gave_up()
            log.warning("a caller asked for a counselor and nobody is on call")
            return None
        dispatch, new = self.dispatches.open_for_call(
            call_sid, caller, language, node_id, urgent=urgent
        )
        if new:
            # One transaction: the count, the ring job, its deadline and the first
            # nudge's wait reach Redis together (one round trip while the caller
            # waits), and the worker can never see the job before its deadline
            # (a deadline written after the worker's own would cut its ring short).
            pipe = self._redis.pipeline(transaction=True)
            self._jobs.ring(dispatch.id, pipeline=pipe)  # first in the pipeline
            self.figures.offered(within=pipe)
            # If no worker has rung anyone by the time a ring job's lease would have
            # run out, the sweeper rings again: a dead worker costs seconds, not minutes.
            self.dispatches.set_deadline(
                dispatch.id,
                time.time() + self._settings.job_lease_seconds + RING_GRACE_SECONDS,
                within=pipe,
            )
            # The hold page rings again when no phone is ringing (ivr.web.voice.
            # counselor_routes._nudge): not before this job has had its chance,
            # or nearly every caller's first hold page queues a second ring job.
            pipe.set(nudge_key(dispatch.id), 1, ex=RING_GRACE_SECONDS)
            pipe.execute()
        if urgent:
            self.hurry(dispatch.id)
        return dispatch.id

    def hurry(self, dispatch_id: str) -> bool:
        """Make a waiting caller urgent, and ring for them now (a second ring job
        while one runs finds the dispatch's ring lease taken: harmless)."""
        if not self.dispatches.mark_urgent(dispatch_id):
            return False
        self._jobs.ring(dispatch_id)
        return True


def nudge_key(dispatch_id: str) -> str:
    """Set while a ring for the dispatch is recent enough not to be nudged."""
    return f"dispatch:{dispatch_id}:nudge"
