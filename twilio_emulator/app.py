"""The emulator as a Flask app: Twilio's REST API plus the `/_emulator/` control
API, in front of one emulated network."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

# These add their resources (IncomingPhoneNumbers, Queues, Recordings) to `rest`.
from twilio_emulator import rest_numbers, rest_queues, rest_recordings  # noqa: F401
from twilio_emulator.config import AdvancedOptOut, EmulatorConfig
from twilio_emulator.control import control
from twilio_emulator.errors import twilio_error
from twilio_emulator.ids import API_VERSION
from twilio_emulator.network import Network
from twilio_emulator.rest import rest
from twilio_emulator.twiml import Interpreter

EXTENSION = "twilio_emulator"


def create_emulator(
    account_sid: str,
    auth_token: str,
    line_url: str,
    line_number: str,
    *,
    public_url: str | None = None,
    voice_path: str = "/voice/incoming",
    voice_status_path: str | None = "/voice/status",
    voice_fallback_path: str | None = None,
    sms_path: str = "/sms/incoming",
    other_numbers: tuple[str, ...] = (),
    max_workers: int = 64,
    max_calls: int = 1000,
    log_limit: int = 5000,
    webhook_timeout: float = 15.0,
    hold_pace: float = 0.0,
    dial_queue_wait: float | None = None,
    toll_free: bool | None = None,
    advanced_opt_out: AdvancedOptOut | None = None,
    interpreter: Interpreter | None = None,
) -> Flask:
    """An emulated Twilio account whose only number, `line_number`, is the line
    listening at `line_url` (signed for `public_url`, when that differs).
    Its keywords are answered as Twilio's default handling does on a number
    of its kind (`toll_free`, else read from the number) unless
    `advanced_opt_out` is given.
    Close it with `emulator_network(app).close()`."""
    config = EmulatorConfig(
        account_sid=account_sid,
        auth_token=auth_token,
        line_url=line_url.rstrip("/"),
        line_number=line_number,
        public_url=public_url.rstrip("/") if public_url else None,
        voice_path=voice_path,
        voice_status_path=voice_status_path,
        voice_fallback_path=voice_fallback_path,
        sms_path=sms_path,
        other_numbers=other_numbers,
        max_workers=max_workers,
        max_calls=max_calls,
        log_limit=log_limit,
        webhook_timeout=webhook_timeout,
        hold_pace=hold_pace,
        dial_queue_wait=dial_queue_wait,
        toll_free=toll_free,
        advanced_opt_out=advanced_opt_out,
    )
    app = Flask("twilio_emulator")
    app.config.update(JSON_SORT_KEYS=False, MAX_CONTENT_LENGTH=256 * 1024)
    app.extensions[EXTENSION] = Network(config, interpreter)
    app.register_blueprint(rest)
    app.register_blueprint(control)
    app.register_error_handler(HTTPException, _http_error)
    return app


def emulator_network(app: Flask) -> Network:
    found: Network = app.extensions[EXTENSION]
    return found


def _http_error(error: HTTPException) -> Response | HTTPException:
    """Under the REST API, routing errors look like Twilio's too."""
    if not request.path.startswith(f"/{API_VERSION}/"):
        return error
    status = error.code or 500
    code = {404: 20404, 405: 20004}.get(status, 20001 if status < 500 else 20500)
    body = twilio_error(code, status=status, path=request.path, detail=error.description or "")
    response = jsonify(body.body())
    response.status_code = status
    return response
