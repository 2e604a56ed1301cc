"""One running line: its settings, its content, its Redis, and what is built
from them once per process (the parsed roster, the job queue, the outbox).
The web app keeps one in `app.extensions`; a worker process builds one from
the environment (workers/context.py). Both hold the same container, so a view
and a job reach the line the same way."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import redis
from rq import Queue

from ivr.contacts.records import Contacts
from ivr.content.model import Content
from ivr.jobs import QUEUE_NAME, Jobs
from ivr.platform.config import Settings
from ivr.roster.store import RosterStore
from ivr.sms.outbox import Outbox
from ivr.threads.store import Threads


@dataclass
class Line:
    settings: Settings
    content: Content
    redis: redis.Redis

    # Built once per line, not per request or job: they hold no per-request
    # state; the roster store keeps the parsed roster and its on-call index,
    # and building an Outbox registers its Lua script (a SHA-1 of its text).
    @cached_property
    def roster(self) -> RosterStore:
        return RosterStore(self.redis)

    @cached_property
    def queue(self) -> Queue:
        return Queue(QUEUE_NAME, connection=self.redis)

    @cached_property
    def jobs(self) -> Jobs:
        return Jobs(self.queue)

    @cached_property
    def outbox(self) -> Outbox:
        return Outbox(
            self.redis, self.queue, self.settings.secret_key, self.settings.retention_seconds
        )

    @cached_property
    def contacts(self) -> Contacts:
        return Contacts(self.redis, self.settings.retention_seconds)

    @cached_property
    def threads(self) -> Threads:
        return Threads.for_settings(self.redis, self.settings)
