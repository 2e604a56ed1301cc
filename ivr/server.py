"""`helpline serve`: the line under gunicorn, a production WSGI server.

Threads per process keep a slow Redis from blocking every caller; the worker
timeout stays under Twilio's 15 s webhook budget so a stuck request is killed
before Twilio gives up on it."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from ivr.config import Settings


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": int(os.environ.get("HELPLINE_WEB_PROCESSES", "2")),
        "worker_class": "gthread",
        "threads": int(os.environ.get("HELPLINE_WEB_THREADS", "8")),
        "timeout": 10,
        "graceful_timeout": 10,
        "keepalive": 5,
        "preload_app": True,  # content and settings problems stop the start, loudly
        "accesslog": "-",
        "errorlog": "-",
        # No query strings or form bodies carry numbers; paths and status only.
        "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
    }


class HelplineServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def serve(app: Flask, settings: Settings) -> None:
    HelplineServer(app, gunicorn_options(settings)).run()
