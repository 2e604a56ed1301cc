"""The line's app plus the baseline route, under the same gunicorn settings
`helpline serve` uses (ivr.processes.server.gunicorn_options), so the baseline and the
webhooks share one server, one worker model and one access log."""

from __future__ import annotations

from flask import Flask, Response, request
from twilio.twiml.voice_response import VoiceResponse

from ivr.cli.main import build_app
from ivr.cli.support import cli_settings
from ivr.platform.logs import configure_logging
from ivr.processes.server import HelplineServer, gunicorn_options
from ivr.web.current import helpline
from ivr.web.signature import request_is_signed

BASELINE_PATH = "/bench/baseline"
FLOOR_PATH = "/bench/floor"
CONSTANT = str(VoiceResponse().say("constant"))


def baseline() -> Response:
    """A bare route: constant TwiML, no signature check, no Redis."""
    return Response(CONSTANT, mimetype="text/xml")


def floor() -> Response:
    """The least a webhook of the line can do: check Twilio's signature and write
    one call-state-sized key (every call step records where the caller is).
    Not a target: the ceiling any real webhook's ratio can reach on this machine."""
    if not request_is_signed():
        return Response("unsigned\n", status=403, mimetype="text/plain")
    sid = request.form.get("CallSid", "")[:40]
    helpline().redis.set(f"bench:floor:{sid}", "en\tmain\t0", ex=60)
    return Response(CONSTANT, mimetype="text/xml")


def build() -> Flask:
    app = build_app()
    app.add_url_rule(BASELINE_PATH, "bench_baseline", baseline, methods=["POST"])
    app.add_url_rule(FLOOR_PATH, "bench_floor", floor, methods=["POST"])
    return app


def main() -> None:
    settings = cli_settings()
    configure_logging(settings)  # as `helpline serve`: the access log is the app's
    HelplineServer(build(), gunicorn_options(settings)).run()


if __name__ == "__main__":
    main()
