"""Webhook cost in-process: the line's voice webhooks against a bare route that
returns constant TwiML, in the same Flask app, with real signatures and a real
Redis. (Under gunicorn and with the outbox and dispatcher: issue 8.)"""

from __future__ import annotations

import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from flask import Response
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from ivr.app import create_app
from ivr.platform.config import load_settings
from ivr.platform.embedded_redis import start_server, wait_until_ready

TOKEN = "bench-token-0123456789abcdef0123"  # noqa: S105 - a throwaway local token
PUBLIC = "https://bench.example.org"
ROUNDS = 2000


def measure(name: str, send: Callable[[int], int]) -> tuple[str, float, float]:
    for i in range(200):  # warm up
        send(i)
    latencies = []
    started = time.perf_counter()
    for i in range(ROUNDS):
        t0 = time.perf_counter()
        status = send(i)
        latencies.append(time.perf_counter() - t0)
        assert status == 200, f"{name}: HTTP {status}"
    elapsed = time.perf_counter() - started
    p99 = statistics.quantiles(latencies, n=100)[98]
    return name, ROUNDS / elapsed, p99 * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        server = start_server(directory / "redis", port=0, socket_name="bench.sock")
        url = f"unix://{directory / 'redis' / 'bench.sock'}"
        wait_until_ready(url, server)
        try:
            settings = load_settings(
                {
                    "REDIS_URL": url,
                    "TWILIO_AUTH_TOKEN": TOKEN,
                    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
                    "HELPLINE_SECRET_KEY": "k" * 40,
                    "HELPLINE_PUBLIC_URL": PUBLIC,
                    "HELPLINE_VAR_DIR": str(directory / "var"),
                },
                dotenv_path=directory / ".env",
            )
            app = create_app(settings)
            constant = str(VoiceResponse().say("constant"))
            app.add_url_rule(
                "/baseline",
                "baseline",
                lambda: Response(constant, mimetype="text/xml"),
                methods=["POST"],
            )
            client = app.test_client()
            validator = RequestValidator(TOKEN)

            def poster(path: str, extra: dict[str, str]) -> Callable[[int], int]:
                def send(i: int) -> int:
                    params = {"CallSid": f"CA{i:032x}", "From": "+12025550123", **extra}
                    signature = validator.compute_signature(PUBLIC + path, params)
                    response = client.post(
                        path, data=params, headers={"X-Twilio-Signature": signature}
                    )
                    return response.status_code

                return send

            # The menu step needs the call to exist: the incoming run creates them.
            rows = [
                measure("baseline: constant TwiML", poster("/baseline", {})),
                measure("POST /voice/incoming", poster("/voice/incoming", {})),
                measure(
                    "POST /voice/menu/main (key 2)", poster("/voice/menu/main", {"Digits": "2"})
                ),
            ]
        finally:
            server.terminate()
            server.wait()
    base_rate = rows[0][1]
    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}; in-process Flask test client; {ROUNDS} requests each"
    )
    print("| what | requests/s | p99 ms | ratio to baseline |")
    print("|---|---|---|---|")
    for name, rate, p99 in rows:
        print(f"| {name} | {rate:,.0f} | {p99:.2f} | {rate / base_rate:.2f} |")


if __name__ == "__main__":
    main()
