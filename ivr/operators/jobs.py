"""Jobs that failed for good, as operators see them: which job, when, and why,
from RQ's FailedJobRegistry. A job lands there when it raised after its last
retry (a Twilio outage longer than its retries), failed permanently (a number
Twilio refuses), or was abandoned by a worker that died and was found by RQ's
own maintenance. Its arguments are never shown: the line's jobs carry only
references (a batch id, a dispatch id, a callback reference), and even those
stay out of what operators are shown — the function's name says enough.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from rq import Queue
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry

from ivr.jobs import QUEUE_NAME

MAX_MESSAGE = 200
# What could be a phone number in an exception's message: E.164, or a long run of digits.
_NUMBERISH = re.compile(r"\+\d{6,15}|\d{10,}")
_ABANDONED = re.compile(r"due to (\w+)")


@dataclass(frozen=True)
class FailedJob:
    id: str
    function: str  # e.g. workers.outbox.send_batch
    failed_at: datetime | None
    exception: str  # the exception's class name, e.g. TransportError
    message: str  # the first line of its message, numbers masked


def _registry(client: redis.Redis) -> FailedJobRegistry:
    return FailedJobRegistry(queue=Queue(QUEUE_NAME, connection=client))


def failed_count(client: redis.Redis) -> int:
    return int(_registry(client).count)


def failed_jobs(client: redis.Redis, limit: int = 100) -> list[FailedJob]:
    """Newest failures first; a job whose record expired meanwhile is left out."""
    registry = _registry(client)
    ids = registry.get_job_ids(0, -1)
    found = []
    for job in Job.fetch_many(ids, connection=client):
        if job is not None:
            found.append(_shown(job))
    found.sort(key=lambda f: f.failed_at or datetime.min.replace(tzinfo=UTC), reverse=True)
    return found[:limit]


def retry_failed(client: redis.Redis, job_id: str) -> bool:
    """Put a failed job back in the queue (each of the line's jobs is safe to run
    again: it checks what was already done). False for an unknown id."""
    try:
        _registry(client).requeue(job_id)
    except (NoSuchJobError, InvalidJobOperation):
        return False
    return True


def _shown(job: Job) -> FailedJob:
    kind, message = describe(_failure_text(job))
    ended = job.ended_at
    return FailedJob(
        id=job.id,
        function=_function(job),
        failed_at=ended.replace(tzinfo=UTC) if ended and ended.tzinfo is None else ended,
        exception=kind,
        message=message,
    )


def _function(job: Job) -> str:
    try:
        return str(job.func_name or "")
    except Exception:  # a job whose payload no longer loads still gets listed
        return "(unreadable)"


def _failure_text(job: Job) -> str:
    result = job.latest_result()
    return (result.exc_string if result is not None else None) or ""


def describe(failure: str) -> tuple[str, str]:
    """(exception class, first line of its message) from what RQ kept: a
    traceback, or its note for an abandoned job."""
    lines = [line for line in failure.strip().splitlines() if line.strip()]
    if not lines:
        return "", ""
    if lines[0].startswith("Traceback"):
        # The exception is the last line not indented: "module.Class: message".
        last = next((line for line in reversed(lines) if not line[0].isspace()), lines[-1])
        name, _, message = last.partition(": ")
        kind = name.rsplit(".", 1)[-1]
    else:
        found = _ABANDONED.search(lines[0])
        kind, message = (found.group(1) if found else ""), lines[0]
    message = _NUMBERISH.sub("…", message.strip())
    return kind, message[:MAX_MESSAGE]
