"""What one running line holds: its settings, its content, its Redis and queue."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from flask import current_app
from rq import Queue

from ivr.config import Settings
from ivr.content.model import Content

QUEUE_NAME = "helpline"


@dataclass
class Helpline:
    settings: Settings
    content: Content
    redis: redis.Redis

    @property
    def queue(self) -> Queue:
        return Queue(QUEUE_NAME, connection=self.redis)


def helpline() -> Helpline:
    found: Helpline = current_app.extensions["helpline"]
    return found
