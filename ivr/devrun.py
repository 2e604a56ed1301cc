"""`make run`: the whole line on one machine, in the foreground.

A private Redis (unless REDIS_URL names one), the web service and a worker, as
child processes sharing one environment. Ctrl-C, or any child dying, stops all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ivr.config import Settings
from ivr.embedded_redis import start_server, wait_until_ready


def _banner(settings: Settings, redis_url: str, twilio: str) -> str:
    return f"""
  The helpline is running (development).

    web service   http://{settings.host}:{settings.port}   (signed webhooks only)
    health        http://{settings.host}:{settings.port}/healthz
    redis         {redis_url}
    twilio        {twilio}
    webhook token kept in {settings.var_dir / "dev-secrets.json"}
    backup line   {settings.backup_number} (fictional in development)

  Place a simulated call, in another terminal:

    .venv/bin/helpline simulate call

  Ctrl-C stops everything.
"""


def run_all(settings: Settings) -> int:
    env = dict(os.environ)
    children: list[subprocess.Popen[bytes]] = []
    redis_url = settings.redis_url or ""
    if not redis_url:
        directory = settings.var_dir / "redis"
        server = start_server(directory)
        children.append(server)
        redis_url = f"unix://{directory / 'redis.sock'}"
        wait_until_ready(redis_url, server)
        env["REDIS_URL"] = redis_url
    helpline = str(Path(sys.executable).with_name("helpline"))
    twilio = settings.twilio_api_url or "Twilio's own API"
    if not os.environ.get("TWILIO_ACCOUNT_SID") and not settings.twilio_api_url:
        # No real account: the local emulator plays Twilio, texts and calls included.
        port = os.environ.get("HELPLINE_EMULATOR_PORT", "5100")
        children.append(
            subprocess.Popen(  # noqa: S603 - our own console script
                [helpline, "emulator", "--port", port],
                env=env,
                stdout=subprocess.DEVNULL,
            )
        )
        twilio = env["HELPLINE_TWILIO_API_URL"] = f"http://127.0.0.1:{port}"
        twilio += "   (the local emulator: GET /_emulator/messages shows sent texts)"
    for command in ("serve", "worker"):
        children.append(subprocess.Popen([helpline, command], env=env))  # noqa: S603
    print(_banner(settings, redis_url, twilio), flush=True)

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    code = 0
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        code = 1
        print("a part of the line stopped; stopping the rest", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in reversed(children):
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
    return code
