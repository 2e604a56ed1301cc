"""`helpline serve`: the line under gunicorn, a production WSGI server.

The budget every value here answers to: Twilio gives the number's webhooks 5 s
in all (the connection overrides, ivr/golive/overrides.py: tt=5000, rt=3000),
then plays the fallback. The webhooks themselves answer in milliseconds: they
only read and write Redis (the client gives up after 0.5 s) and never call
Twilio (workers do). So anything that takes seconds is a fault, and gunicorn's
limits sit under Twilio's 5 s: what is killed or cut off is by then of no use
to a caller anyway.

Signals (gunicorn's): HUP replaces the worker processes gracefully, one set
after the other, with the same code (it is preloaded in the master; new code
needs a restart of `helpline serve`); TERM stops gracefully; INT and QUIT stop
at once; TTIN/TTOU add or remove a process.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger

from ivr.platform.config import Settings

# Under Twilio's 5 s total (see above), with a second for gunicorn's arbiter,
# which looks at its processes about once a second.
WORKER_TIMEOUT_SECONDS = 4
GRACEFUL_TIMEOUT_SECONDS = 4


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "bind": f"{settings.host}:{settings.port}",
        # Processes: a crash or a stuck process takes only its share of the
        # line's requests; two by default, so one is always there while the
        # other restarts (HUP, or a kill on timeout).
        "workers": int(os.environ.get("HELPLINE_WEB_PROCESSES", "2")),
        # Threads: a request waiting on a slow Redis (up to its 0.5 s timeout)
        # does not hold up the other callers of its process.
        "worker_class": "gthread",
        "threads": int(os.environ.get("HELPLINE_WEB_THREADS", "8")),
        # A process whose main loop stops answering gunicorn's arbiter this long
        # (a deadlock, a wedged C call) is killed and replaced. With threads this
        # is the process's liveness, not a per-request limit: a single request
        # is bounded by the app itself (Redis timeouts, no outbound HTTP).
        "timeout": WORKER_TIMEOUT_SECONDS,
        # On HUP or TERM, requests in progress get this long to
        # finish: anything still running after 4 s has lost its caller to
        # Twilio's fallback already, and a restart should not wait on it.
        "graceful_timeout": GRACEFUL_TIMEOUT_SECONDS,
        # Idle keep-alive connections are closed after 5 s. A proxy that reuses
        # connections to the line must close its idle ones sooner (nginx
        # upstream `keepalive_timeout 4s`), or it may send on a closing one.
        "keepalive": 5,
        # Processes are never recycled after a number of requests (max_requests
        # 0). A recycle empties a process's caches (the parsed roster, rendered
        # TwiML: the next caller to press 1 pays the parse) and, under load,
        # halves the line's capacity for a moment: with 10,000 (± 1,000) the
        # bench's runs that recycled mid-measurement saw a p50 of 210-560 ms at
        # half the maximum rate, against 1-3 ms without (gunicorn's log showed
        # the "Autorestarting worker"). No leak is known to bound; HUP replaces
        # the processes when wanted.
        "max_requests": 0,
        # Content and settings are loaded once, in the master: a problem stops
        # the start loudly instead of every worker failing in a loop.
        "preload_app": True,
        # Forwarded headers are believed in one place only: the app's ProxyFix,
        # for exactly HELPLINE_TRUSTED_PROXIES hops (ivr/__init__.py). gunicorn's
        # own allow-list (127.0.0.1 by default) would believe any local process,
        # and cannot count hops; so it believes no one.
        "forwarded_allow_ips": "",
        "secure_scheme_headers": {},
        # One log format: the app writes the access lines (ivr/web/request_log.py,
        # with request ids and no query strings), and gunicorn's own lines go
        # through the same handler (ivr/platform/logs.py).
        "accesslog": None,
        "errorlog": "-",
        "logger_class": HelplineGunicornLogger,
        # gunicorn 25+ opens a control socket at one fixed path per user
        # (~/.gunicorn/gunicorn.ctl): a second `helpline serve` on the host would
        # take it over, and stopping either removes it. Signals do the same job.
        "control_socket_disable": True,
    }


# Settings older gunicorn releases (the pinned range starts at 23) do not know.
_NEWER_SETTINGS = frozenset({"control_socket_disable"})


class HelplineGunicornLogger(GunicornLogger):  # type: ignore[misc]
    """gunicorn's error log ("Booting worker", "WORKER TIMEOUT") handed to the
    root logger, which `configure_logging` set up, instead of its own stream.
    Runs again on HUP, so the format survives a reload."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in list(self.error_log.handlers):
            if getattr(handler, "_gunicorn", False):
                self.error_log.removeHandler(handler)
        self.error_log.propagate = True
        for handler in list(self.access_log.handlers):
            if getattr(handler, "_gunicorn", False):
                self.access_log.removeHandler(handler)
        self.access_log.setLevel(logging.WARNING)  # the app writes the access lines


class HelplineServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in _NEWER_SETTINGS and key not in self.cfg.settings:
                continue
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def serve(app: Flask, settings: Settings) -> None:
    HelplineServer(app, gunicorn_options(settings)).run()
