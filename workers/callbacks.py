"""Start returning a call: ring the chosen counselor, who must be on the roster.

At least once, at most once: a run holds a lease on the request while it asks
Twilio for the counselor's call, and notes that it has asked (`…:ring`) until
Twilio answers. A run that finds that note — its predecessor's worker died, or
Twilio did not answer in time — first asks Twilio whether the call was placed,
and rings only if it was not. A worker killed mid-ring is noticed by the
sweeper when the lease runs out (ivr.processes.worker), which runs the job again.

The person is never dialed twice whatever happens here: the line dials them
only when a counselor presses 1, once per request (`…:dialing`, in
ivr.web.voice.callback_routes).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from redis.exceptions import LockError
from requests import RequestException
from rq import get_current_job
from twilio.base.exceptions import TwilioRestException

from ivr.callbacks.requests import BACKUP_LINE, Callbacks
from ivr.callbacks.returning import ReturnCalls
from ivr.jobs import callback_whisper_path
from ivr.line import Line
from ivr.platform.twilio_transport import transport_error, twilio_client
from ivr.roster.store import RosterStore
from workers.context import job_line

log = logging.getLogger("helpline.jobs.callbacks")


def connect(reference: str, counselor_id: str) -> str:
    line = job_line()
    returns = ReturnCalls(line.redis)
    lease = returns.lease(reference, line.settings.job_lease_seconds)
    if not lease.acquire():
        return "running elsewhere"  # another run holds the lease and is alive
    try:
        return _connect(line, returns, reference, counselor_id)
    finally:
        # Done with, however it ended: only a run that died leaves its mark here.
        returns.connect_over(reference, counselor_id)
        try:
            lease.release()
        except LockError:
            log.warning("callback %s: connect lease had run out", reference)


def _connect(line: Line, returns: ReturnCalls, reference: str, counselor_id: str) -> str:
    callbacks = Callbacks(line.redis, line.settings.secret_key, line.settings.retention_seconds)
    record = callbacks.get(reference)
    if not record or record.get("status") == "done":
        return "nothing to return"
    if counselor_id == BACKUP_LINE:
        phone = line.settings.backup_number
    else:
        roster = RosterStore(line.redis).load()
        counselor = roster.by_id.get(counselor_id) if roster is not None else None
        if counselor is None or not counselor.active:
            log.warning(
                "callback %s: %s is not an active counselor on the roster", reference, counselor_id
            )
            return "not a rostered counselor"
        phone = counselor.phone
    started = returns.earlier_ring(reference)
    if started is not None:
        # An earlier run asked Twilio and never heard back: ring only if Twilio
        # did not place that call (Twilio has no idempotency key for calls).
        try:
            placed = _placed_since(line, phone, started)
        except (TwilioRestException, RequestException) as error:
            raise transport_error(error) from None  # tried again: the note stays
        if placed:
            returns.asked(reference)
            log.info("callback %s: the earlier ring had reached Twilio", reference)
            return "already ringing the counselor"
        returns.take(reference, counselor_id, again=True)
    elif not returns.take(reference, counselor_id):
        # One return call at a time: a repeated command or job does not ring twice.
        return "already being returned"
    returns.asking(reference, counselor_id, line.settings.job_lease_seconds)
    try:
        twilio_client(line.settings).calls.create(
            to=phone,
            from_=line.settings.line_number,
            timeout=line.settings.ring_seconds,
            url=line.settings.public(callback_whisper_path(reference)),
        )
    except (TwilioRestException, RequestException) as error:
        failure = transport_error(error)
        if not failure.ambiguous:
            returns.refused(reference)  # Twilio refused it: nothing is ringing
        if failure.permanent:
            _never_retry()
        # Only the code: Twilio's message can quote the number it refused.
        raise failure from None
    returns.asked(reference)
    return "ringing the counselor"


def _placed_since(line: Line, phone: str, since: float) -> str | None:
    """A call from the line to this counselor created since `since` (a minute's
    grace for clocks), if Twilio has one: its sid."""
    after = datetime.fromtimestamp(since, UTC) - timedelta(minutes=1)
    client = twilio_client(line.settings)
    for call in client.calls.list(to=phone, from_=line.settings.line_number, limit=20):
        created = call.date_created
        if created is not None and created >= after:
            return str(call.sid)
    return None


def _never_retry() -> None:
    """A permanent failure (a number Twilio refuses): straight to RQ's failed
    jobs, where operators see it, without the retries meant for transient ones."""
    job = get_current_job()
    if job is not None:
        job.retries_left = 0
