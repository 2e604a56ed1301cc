"""The line's app plus the baseline route, under the same gunicorn settings
`helpline serve` uses (ivr.server.gunicorn_options), so the baseline and the
webhooks share one server, one worker model and one access log."""

from __future__ import annotations

from flask import Flask, Response
from twilio.twiml.voice_response import VoiceResponse

from ivr.cli import _app
from ivr.cli_support import cli_settings
from ivr.server import HelplineServer, gunicorn_options

BASELINE_PATH = "/bench/baseline"
CONSTANT = str(VoiceResponse().say("constant"))


def baseline() -> Response:
    """A bare route: constant TwiML, no signature check, no Redis."""
    return Response(CONSTANT, mimetype="text/xml")


def build() -> Flask:
    app = _app()
    app.add_url_rule(BASELINE_PATH, "bench_baseline", baseline, methods=["POST"])
    return app


def main() -> None:
    HelplineServer(build(), gunicorn_options(cli_settings())).run()


if __name__ == "__main__":
    main()
