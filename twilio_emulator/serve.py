"""Serving the emulator: in a background thread (tests, `make run`) or in the
foreground (`helpline emulator`). Werkzeug's threaded server: every request on
its own thread, so the line can call the REST API while a webhook of ours is
still waiting for it.

Werkzeug would log every request, in colour: the simulators ask the
emulator about once a second, which filled the `make run` terminal with
lines nobody needs. Requests are not logged unless asked for (plain, then);
errors always are."""

from __future__ import annotations

import threading
from types import TracebackType

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from twilio_emulator.app import emulator_network
from twilio_emulator.network import Network


class QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler without its line per request (errors still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class PlainRequestHandler(WSGIRequestHandler):
    """Werkzeug's line per request, without its colours."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.log("info", '"%s" %s %s', self.requestline, code, size)


def request_handler(log_requests: bool) -> type[WSGIRequestHandler]:
    return PlainRequestHandler if log_requests else QuietRequestHandler


class EmulatorServer:
    """`with EmulatorServer(app, port=0) as server: server.url …`"""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=QuietRequestHandler
        )
        self.host = host
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # a quick shutdown for tests
            name="emulator-http",
            daemon=True,
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def network(self) -> Network:
        return emulator_network(self.app)

    def start(self) -> EmulatorServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()
        self.network.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
