"""What one running line holds: its settings, its content, its Redis and queue."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import redis
from flask import current_app
from rq import Queue

from ivr.content.model import Content
from ivr.platform.config import Settings
from ivr.roster.store import RosterStore
from ivr.sms.outbox import Outbox

QUEUE_NAME = "helpline"


@dataclass
class Helpline:
    settings: Settings
    content: Content
    redis: redis.Redis
    roster: RosterStore  # one per process: it keeps the parsed roster and its on-call index

    # Built once per line, not per request: they hold no per-request state, and
    # building an Outbox registers its Lua script (a SHA-1 of its text) every time.
    @cached_property
    def queue(self) -> Queue:
        return Queue(QUEUE_NAME, connection=self.redis)

    @cached_property
    def outbox(self) -> Outbox:
        return Outbox(
            self.redis, self.queue, self.settings.secret_key, self.settings.retention_days * 86400
        )


def helpline() -> Helpline:
    found: Helpline = current_app.extensions["helpline"]
    return found
