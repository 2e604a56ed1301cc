"""Delete the Twilio queues callers waited in, once they are done with them.

Twilio keeps every queue until it is deleted, and the line makes one per
dispatch (ivr/routing/hold_queues.py says when each may go). `delete_queue`
runs when a caller leaves their queue; `sweep_queues`, every few minutes,
deletes the line's empty queues whose delete never ran. A queue a caller
still waits in is never deleted: Twilio refuses, and the sweep tries later.
"""

from __future__ import annotations

import logging
import time

from requests import RequestException
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from ivr.platform.twilio_transport import twilio_client
from ivr.routing.dispatches import Dispatches
from ivr.routing.hold_queues import is_queue_sid, may_delete
from workers.context import job_line

log = logging.getLogger("helpline.jobs.queues")
# Deletes one sweep makes at most: a large leftover (a long outage of the
# workers) is cleared over several sweeps, each a short job.
SWEEP_AT_MOST = 500


def delete_queue(queue_sid: str) -> str:
    """Delete one queue. Raises on 429, 5xx or no answer, for RQ to retry."""
    if not is_queue_sid(queue_sid):
        return "not a queue sid"
    return _delete(twilio_client(job_line().settings), queue_sid)


def _delete(client: Client, queue_sid: str) -> str:
    try:
        client.queues(queue_sid).delete()
    except TwilioRestException as error:
        if error.status == 404:
            return "already gone"
        if error.status == 429 or error.status >= 500:
            raise
        # Refused: callers wait in it (Twilio deletes only an empty queue; the
        # code it answers with is not documented). The sweep tries again later.
        log.info("queue %s kept: Twilio refused to delete it (%s)", queue_sid, error.code)
        return "kept"
    return "deleted"


def sweep_queues() -> str:
    """Delete the line's empty queues whose dispatch is over."""
    line = job_line()
    client = twilio_client(line.settings)
    dispatches = Dispatches(line.redis, line.settings.retention_seconds)
    now = time.time()
    try:
        # Listed whole before any delete: deleting while paging would shift the pages.
        found = client.queues.list(page_size=1000)
    except (TwilioRestException, RequestException) as error:
        log.warning("queue sweep: could not list the queues (%s)", type(error).__name__)
        return "could not list"
    leftovers = [
        queue.sid
        for queue in found
        if queue.sid
        and queue.current_size == 0
        and may_delete(dispatches, queue.friendly_name or "", queue.date_created, now)
    ]
    deleted = 0
    for queue_sid in leftovers[:SWEEP_AT_MOST]:
        try:
            if _delete(client, queue_sid) == "deleted":
                deleted += 1
        except (TwilioRestException, RequestException) as error:
            log.warning("queue sweep: stopped at a failed delete (%s)", type(error).__name__)
            break  # Twilio is struggling: the next sweep goes on
    if deleted:
        log.info("queue sweep: deleted %d queue(s) left behind", deleted)
    return f"deleted {deleted} of {len(leftovers)}"
