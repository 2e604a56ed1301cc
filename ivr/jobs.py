"""Every job the line hands its workers, with its options, and every webhook
path a worker gives Twilio: one list, so the web, the sweeper and the workers
cannot drift apart on a job's name, its retries or the route it points at.

Jobs are queued by name ("workers.dispatch.ring"), never by import: the
product never imports `workers/`, the workers import the product. A test
checks that each name here is a function in `workers/` and that each path is
a route of the app.
"""

from __future__ import annotations

import redis
from rq import Queue, Retry

QUEUE_NAME = "helpline"

# How long a finished job's record is kept. Ten minutes is enough to see a
# ring or an alert go through on the jobs page; a text batch or a callback ring
# an hour, because an operator looks those up after a complaint.
RESULT_TTL = 600
LONG_RESULT_TTL = 3600
RING_FAILURE_TTL = 86400  # a failed ring stays a day on the jobs page, like an alert

RING = "workers.dispatch.ring"
CANCEL_LEGS = "workers.dispatch.cancel_legs"
ALERT_ON_CALL = "workers.alerts.alert_on_call"
ESCALATE = "workers.escalate.escalate"
CONNECT_CALLBACK = "workers.callbacks.connect"
SEND_BATCH = "workers.outbox.send_batch"
DELETE_QUEUE = "workers.queues.delete_queue"
SWEEP_QUEUES = "workers.queues.sweep_queues"
RECOUNT_CONTACTS = "workers.contacts.recount_recent"
THREAD_CRISIS = "workers.threads.answer_unanswered_crisis"
THREAD_QUIET = "workers.threads.close_quiet_conversation"
THREAD_SEND = "workers.threads.send_conversation_message"
CALL_TO_HEAR = "workers.messages.call_to_hear"
ALERT_ONE = "workers.alerts.alert_one"
JOB_NAMES = (
    RING,
    CANCEL_LEGS,
    ALERT_ON_CALL,
    ESCALATE,
    CONNECT_CALLBACK,
    SEND_BATCH,
    DELETE_QUEUE,
    SWEEP_QUEUES,
    RECOUNT_CONTACTS,
    THREAD_CRISIS,
    THREAD_QUIET,
    THREAD_SEND,
    CALL_TO_HEAR,
    ALERT_ONE,
)

# A callback's ring that met a 429, a 5xx or no answer from Twilio is tried
# again after these waits (seconds), then left in RQ's failed jobs for an operator.
CONNECT_RETRY_INTERVALS = [2, 10, 30]
# A text batch's transient failures (429, 5xx, timeouts) are tried again after
# these waits, then given up.
SEND_RETRY_INTERVALS = [2, 10, 30, 60]
# Deleting a caller's emptied Twilio queue, when Twilio answered 429 or 5xx or
# not at all; after these the periodic sweep (ivr/routing/hold_queues.py) deletes it.
DELETE_QUEUE_RETRY_INTERVALS = [5, 30, 120]


class Jobs:
    """The line's queue, one method per job. `at_front` jobs are the ones a
    person is waiting on now (a caller on hold, a crisis): the load test saw
    rings 60 s late behind a burst of text replies queued at the back."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    def ring(self, dispatch_id: str, *, pipeline: redis.client.Pipeline | None = None) -> None:
        """Ring counselors for a waiting caller. In PIPELINE it must come first:
        RQ calls the pipeline's multi(), which redis-py refuses once a command
        is queued."""
        self.queue.enqueue(
            RING,
            dispatch_id,
            result_ttl=RESULT_TTL,
            failure_ttl=RING_FAILURE_TTL,
            at_front=True,
            pipeline=pipeline,
        )

    def cancel_legs(self, dispatch_id: str, keep_leg: str = "") -> None:
        """Stop every counselor's phone still ringing for the dispatch but KEEP_LEG."""
        self.queue.enqueue(CANCEL_LEGS, dispatch_id, keep_leg, result_ttl=RESULT_TTL, at_front=True)

    def alert(self, role: str, reference: str, item: str | None = None, *, again: str = "") -> None:
        """Text the counselors on call the ROLE text about REFERENCE (a
        crisis's goes to the front); ITEM is the urgent item the alert opens.
        AGAIN: a second alert about the same reference (work given back),
        sent though the first was."""
        if item is None:
            self.queue.enqueue(ALERT_ON_CALL, role, reference, result_ttl=RESULT_TTL)
        else:
            args = (role, reference, item, again) if again else (role, reference, item)
            self.queue.enqueue(
                ALERT_ON_CALL,
                *args,
                result_ttl=RESULT_TTL,
                at_front=role == "crisis_alert",
            )

    def alert_one(self, role: str, reference: str, counselor_id: str, cause: str) -> None:
        """The ROLE text about REFERENCE to counselor COUNSELOR_ID alone."""
        self.queue.enqueue(
            ALERT_ONE, role, reference, counselor_id, cause, result_ttl=RESULT_TTL, at_front=True
        )

    def escalate(self, reference: str) -> None:
        """The next step of an urgent item's ladder (the sweeper, when it is due)."""
        self.queue.enqueue(ESCALATE, reference, result_ttl=RESULT_TTL, at_front=True)

    def connect_callback(self, reference: str, counselor_id: str) -> None:
        """Ring COUNSELOR_ID to return REFERENCE's call."""
        self.queue.enqueue(
            CONNECT_CALLBACK,
            reference,
            counselor_id,
            retry=Retry(max=len(CONNECT_RETRY_INTERVALS), interval=CONNECT_RETRY_INTERVALS),
            result_ttl=LONG_RESULT_TTL,
        )

    def delete_queue(self, queue_sid: str) -> None:
        """Delete the Twilio queue QUEUE_SID, which a caller has left for good."""
        self.queue.enqueue(
            DELETE_QUEUE,
            queue_sid,
            retry=Retry(
                max=len(DELETE_QUEUE_RETRY_INTERVALS), interval=DELETE_QUEUE_RETRY_INTERVALS
            ),
            result_ttl=RESULT_TTL,
        )

    def answer_unanswered_crisis(self, thread_id: str) -> None:
        """A held conversation's crisis message its counselor has not answered:
        the crisis reply, ahead of everything else."""
        self.queue.enqueue(THREAD_CRISIS, thread_id, result_ttl=LONG_RESULT_TTL, at_front=True)

    def close_quiet_conversation(self, thread_id: str) -> None:
        self.queue.enqueue(THREAD_QUIET, thread_id, result_ttl=LONG_RESULT_TTL)

    def send_conversation_message(self, thread_id: str, seq: int) -> None:
        """A counselor's message the desk's process never handed to the outbox."""
        self.queue.enqueue(THREAD_SEND, thread_id, seq, result_ttl=LONG_RESULT_TTL, at_front=True)

    def call_to_hear(self, reference: str, counselor_id: str) -> None:
        """Ring COUNSELOR_ID so they can hear the message REFERENCE (VM-…)."""
        self.queue.enqueue(
            CALL_TO_HEAR,
            reference,
            counselor_id,
            retry=Retry(max=len(CONNECT_RETRY_INTERVALS), interval=CONNECT_RETRY_INTERVALS),
            result_ttl=LONG_RESULT_TTL,
            at_front=True,
        )

    def sweep_queues(self) -> None:
        """Delete the line's Twilio queues left behind (their delete never ran)."""
        self.queue.enqueue(SWEEP_QUEUES, result_ttl=RESULT_TTL)

    def recount_contacts(self) -> None:
        """Bring the last day's contacts into the reports' tallies (a no-op for
        those already counted)."""
        self.queue.enqueue(RECOUNT_CONTACTS, result_ttl=RESULT_TTL)

    def send_batch(
        self,
        batch_id: str,
        attempt: int,
        *,
        failure_ttl: int,
        at_front: bool = False,
        pipeline: redis.client.Pipeline | None = None,
    ) -> None:
        """Send an outbox batch; the job id names the attempt, so a batch
        queued twice for the same attempt is one job."""
        self.queue.enqueue(
            SEND_BATCH,
            batch_id,
            job_id=f"outbox-{batch_id}-{attempt}",
            retry=Retry(max=len(SEND_RETRY_INTERVALS), interval=SEND_RETRY_INTERVALS),
            result_ttl=LONG_RESULT_TTL,
            failure_ttl=failure_ttl,
            at_front=at_front,
            pipeline=pipeline,
        )


# The webhooks a worker gives Twilio when it places or moves a call, or sends
# a text. The web side declares the same routes (ivr/web/voice, ivr/web/sms).


def whisper_path(dispatch_id: str, leg_id: str) -> str:
    return f"/voice/whisper/{dispatch_id}/{leg_id}"


def leg_status_path(dispatch_id: str, leg_id: str) -> str:
    return f"/voice/leg-status/{dispatch_id}/{leg_id}"


def whisper_over_path(dispatch_id: str, leg_id: str) -> str:
    return f"/voice/whisper-over/{dispatch_id}/{leg_id}"


def after_hold_path(dispatch_id: str) -> str:
    return f"/voice/after-hold/{dispatch_id}"


def callback_whisper_path(reference: str) -> str:
    return f"/voice/callback-whisper/{reference}"


def message_hear_path(reference: str, counselor_id: str) -> str:
    """What a counselor called to hear a message hears first."""
    return f"/voice/message-offer/{reference}/{counselor_id}"


SMS_STATUS_PATH = "/sms/status"
