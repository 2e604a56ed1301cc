"""`helpline emulator`: the local Twilio, in the foreground.

Reads the same settings as the line (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN,
HELPLINE_PUBLIC_URL, HELPLINE_NUMBER, HOST, PORT, or their development
defaults), so the line, its worker and the emulator agree on the account and
the webhook token. Register it with `main.add_command(emulator)`.
"""

from __future__ import annotations

import click
from werkzeug.serving import make_server

from ivr.platform.config import ConfigError, load_settings
from twilio_emulator.app import create_emulator, emulator_network
from twilio_emulator.config import AdvancedOptOut
from twilio_emulator.serve import request_handler

DEFAULT_PORT = 5100


@click.command("emulator")
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--line-url",
    default=None,
    help="Where the line listens (default http://HOST:PORT of the line's settings).",
)
@click.option(
    "--voice-fallback-path",
    default=None,
    help="The number's voice Fallback URL path on the line, if it has one.",
)
@click.option(
    "--log-requests", is_flag=True, help="A line per HTTP request (default: errors only)."
)
def emulator(
    port: int, host: str, line_url: str | None, voice_fallback_path: str | None, log_requests: bool
) -> None:
    """The local Twilio emulator: REST API, phone network, virtual phones."""
    try:
        settings = load_settings()
    except ConfigError as error:
        raise click.ClickException(
            "the emulator cannot start:\n  " + "\n  ".join(error.problems)
        ) from error
    line = (line_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    app = create_emulator(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        line,
        settings.line_number,
        public_url=settings.public_url,
        voice_fallback_path=voice_fallback_path,
        # As the line is told Twilio is set up (HELPLINE_ADVANCED_OPT_OUT).
        advanced_opt_out=AdvancedOptOut() if settings.advanced_opt_out else None,
    )
    try:
        server = make_server(
            host, port, app, threaded=True, request_handler=request_handler(log_requests)
        )
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error}") from error
    base = f"http://{host}:{server.server_port}"
    click.echo(
        f"""
  Twilio emulator for account {settings.twilio_account_sid}

    REST API      {base}/2010-04-01/   (point HELPLINE_TWILIO_API_URL={base} at it)
    control API   {base}/_emulator/
    the line      {line}  (number {settings.line_number}, signed for {settings.public_url})

  A call to the line:  curl -X POST {base}/_emulator/calls -H 'Content-Type: application/json' \\
                         -d '{{"from": "+12025550123", "script": {{"steps": [{{"press": "4"}}]}}}}'
  Ctrl-C stops it.
"""
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        emulator_network(app).close()
