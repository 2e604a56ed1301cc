"""Keep the reports' tallies whole (ivr/contacts/tallies.py).

Every writer of a contact recounts its tallies in the same step, so this
finds nothing to do on a line running one version. It is for a rolling
upgrade: a process of the older version records or wraps up contacts
without counting them under the new tallies' version, after the first
report has recounted everything. Every few minutes, with the queue sweep,
one worker recounts the contacts that started in the last day (274 on a
busy line: one round trip), a no-op for those already counted.
"""

from __future__ import annotations

import time

from workers.context import job_line

RECENT_SECONDS = 86400  # a wrap-up can come hours after its contact started


def recount_recent() -> str:
    line = job_line()
    read = line.contacts.recount_since(time.time() - RECENT_SECONDS)
    return f"{read} contacts recounted"
