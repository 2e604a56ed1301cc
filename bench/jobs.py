"""Jobs the benchmarks queue to the line's own worker, for the baselines: the
same queue, worker class and process as the line's jobs, doing nothing of
their own. Imported by the worker by dotted name (the bench puts the project
on its PYTHONPATH)."""

from __future__ import annotations

import time

from rq import get_current_job

NOOP_JOB = "bench.jobs.noop"
STAMP_JOB = "bench.jobs.stamp"
GATE_JOB = "bench.jobs.gate"


def noop() -> None:
    """A bare job: what RQ's worker costs per job, and nothing else."""


def stamp(key: str) -> None:
    """The moment the job began, pushed onto `key`: enqueue-to-start latency.
    The clock is read first, so the push itself is not counted."""
    began = time.time()
    job = get_current_job()
    assert job is not None
    job.connection.rpush(key, repr(began))


def gate(key: str, seconds: float) -> None:
    """Hold the worker until `key` gets a value (or `seconds` pass), so that a
    whole batch of work can be queued before the worker starts on any of it."""
    job = get_current_job()
    assert job is not None
    job.connection.rpush(f"{key}:held", "1")
    job.connection.blpop([key], timeout=seconds)
