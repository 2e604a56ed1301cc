"""The helpline's Flask application."""

from __future__ import annotations

import logging

from flask import Flask, abort, request
from werkzeug.middleware.proxy_fix import ProxyFix

from ivr.content.check import load_content
from ivr.content.model import Content
from ivr.line import Line
from ivr.platform.config import Settings, load_settings
from ivr.platform.redis_store import connect, redis_url
from ivr.web import request_log
from ivr.web.admin import admin, configure_admin
from ivr.web.api import api, install_json_errors
from ivr.web.counselor_desk import desk_pages
from ivr.web.health import health
from ivr.web.home import home
from ivr.web.message_audio import message_audio
from ivr.web.metrics import metrics
from ivr.web.sms import sms
from ivr.web.voice import voice

# Twilio's webhooks are a few kilobytes; anything larger is refused before parsing.
MAX_REQUEST_BYTES = 64 * 1024


def _refuse_oversized_bodies() -> None:
    """413 before any other hook or view sees the request, signed or not.

    A Content-Length over the limit is refused outright (a route that never
    reads its form would otherwise never notice). A chunked body has no
    Content-Length, and werkzeug then silently cuts it at the limit: a form
    would be read, and acted on, with its end missing. So read it up to the
    limit here (the form is parsed from what was read) and refuse if anything
    is left."""
    if (request.content_length or 0) > MAX_REQUEST_BYTES:
        abort(413)
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        request.get_data(cache=True)  # at most MAX_REQUEST_BYTES
        if request.environ["wsgi.input"].read(1):
            abort(413)


def create_app(settings: Settings | None = None, content: Content | None = None) -> Flask:
    settings = settings or load_settings()
    content = content or load_content(settings.flows_dir)
    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES)
    if settings.trusted_proxies:
        # The client's address and scheme as the proxies in front saw them (the
        # last N X-Forwarded-For/-Proto values; any before are the client's own
        # and ignored). Without this every login would come from the proxy, and
        # its failures would lock out everyone at once.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    request_log.init_app(app)  # first: a request refused below gets its id and access line too
    app.before_request(_refuse_oversized_bodies)
    client = connect(redis_url(settings), settings.redis_timeout_seconds)
    app.extensions["helpline"] = Line(settings=settings, content=content, redis=client)

    for blueprint in (voice, sms, message_audio, health, metrics, api, admin, desk_pages, home):
        app.register_blueprint(blueprint)
    configure_admin(app)
    install_json_errors(app)
    logging.getLogger("helpline").setLevel(logging.INFO)
    return app
