"""A caller's wait ending without a counselor is one transition, whoever
notices it first: a webhook (the caller hung up, pressed 1 for a message, left
the queue, the longest hold ran out) or a worker (nobody on call, nobody left
to ring). Close the dispatch once, with why; count it; stop every phone still
ringing for it; record the contact (a call nobody answered)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis

from ivr.contacts.records import Contacts
from ivr.jobs import Jobs
from ivr.platform.redis_store import text
from ivr.routing.dispatches import Dispatch, Dispatches, counselor_of
from ivr.routing.figures import Figures

log = logging.getLogger("helpline.routing")


class WaitEnding:
    def __init__(
        self, client: redis.Redis, jobs: Jobs, retention_seconds: int, zone_name: str
    ) -> None:
        """ZONE_NAME: the line's time zone (`Settings.timezone`), whose local
        days its figures count by."""
        self._redis = client
        self._jobs = jobs
        self._retention = retention_seconds
        self._zone_name = zone_name
        self.dispatches = Dispatches(client, retention_seconds)

    def end(
        self,
        dispatch: Dispatch,
        outcome: str,
        why: str = "",
        *,
        stop_ringing: Callable[[str], object] | None = None,
    ) -> bool:
        """Close the dispatch as OUTCOME (abandoned, gave_up, left) and stop its
        phones: with STOP_RINGING (a worker, which stops them itself at once),
        else by a job at the front of the queue (a webhook must not wait on
        Twilio). False when it was no longer open: a counselor accepted, or the
        other side ended it first."""
        if not self.dispatches.finish(dispatch.id, outcome, why):
            return False
        self._record_unanswered(dispatch, hung_up=outcome == "abandoned")
        figures = Figures(self._redis, self._zone_name)
        if outcome == "abandoned":
            figures.abandoned(dispatch.waited())
        elif outcome == "gave_up":
            figures.gave_up()
        log.info(
            "dispatch %s ended: %s after %d s%s",
            dispatch.id,
            outcome,
            dispatch.waited(),
            f" ({why})" if why else "",
        )
        if stop_ringing is None:
            self._jobs.cancel_legs(dispatch.id)
        else:
            stop_ringing(dispatch.id)
        return True

    def caller_hung_up(self, call_sid: str) -> None:
        """A caller's call ended. If they were still waiting for a counselor
        (they hung up before or while joining the queue, when no queue callback
        comes), stop ringing for them and count it as abandoned."""
        found = self._redis.get(f"call:{call_sid}:dispatch")
        if found is None:
            return
        dispatch = self.dispatches.load(text(found))
        if dispatch is not None and dispatch.is_open:
            self.end(dispatch, "abandoned")

    def bridge_missed(self, dispatch: Dispatch, hung_up: bool) -> None:
        """A counselor took the call but their <Dial><Queue> never reached the
        caller: the caller hung up while being connected (HUNG_UP), or the
        bridge failed and the hold let them go on. The dispatch stays as the
        press left it (the counselor's own call ends it); the contact is
        recorded as nobody answering, once, so it is in the log and the
        reports rather than nowhere; and the figures, which counted it answered
        at the press, take that back."""
        if not self._record_unanswered(dispatch, hung_up):
            return  # recorded already (Twilio's retry): counted back already
        if dispatch.answered_at is not None and dispatch.winner:
            Figures(self._redis, self._zone_name).not_bridged(
                dispatch.answered_at - dispatch.created,
                counselor_of(dispatch.winner),
                hung_up=hung_up,
                at=dispatch.answered_at,
            )
        log.warning(
            "dispatch %s: taken by a counselor, never bridged (%s)",
            dispatch.id,
            "the caller hung up" if hung_up else "the bridge failed",
        )

    def _record_unanswered(self, dispatch: Dispatch, hung_up: bool) -> bool:
        """The call's contact, once: nobody answered; abandoned if the caller
        hung up (HUNG_UP), else unanswered. Whether it is new."""
        _, new = Contacts(self._redis, self._retention).record(
            f"call:{dispatch.call_sid}",
            channel="call",
            language=dispatch.language,
            started=dispatch.created,
            ended=time.time(),
            outcome="abandoned" if hung_up else "unanswered",
            detail=dispatch.id,
        )
        return new
