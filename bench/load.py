"""The load generator, run in its own process (`python -m bench.load ...`) so
its CPU is not the server's GIL: keep-alive HTTP/1.1 connections on raw
sockets, requests signed as Twilio signs them and built before the clock
starts, one JSON line of results on stdout.

closed: N connections, each sending its next request as soon as the last is
answered: the most the server does (max throughput).
paced: requests scheduled at a fixed rate (open loop); latency is counted from
the scheduled moment, so a server falling behind shows as queueing, not as
fewer samples."""

from __future__ import annotations

import argparse
import itertools
import json
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

BASELINE_PATH = "/bench/baseline"  # as bench.serve adds it
KINDS = {
    "baseline": BASELINE_PATH,
    "floor": "/bench/floor",  # as bench.serve adds it: signature + one Redis write
    "voice": "/voice/incoming",
    "menu": "/voice/menu/main",
    "sms": "/sms/incoming",
}
LINE_NUMBER = "+18885550100"


def _params(kind: str, index: int, calls: int) -> dict[str, str]:
    if kind == "sms":
        return {
            "MessageSid": f"SM{index:032x}",
            "From": f"+1202{2_000_000 + index % 8_000_000:07d}",  # valid, distinct
            "To": LINE_NUMBER,
            "Body": "about",  # a keyword: that keyword's reply, through the outbox
        }
    sid = index % calls if kind == "menu" and calls else index
    params = {"CallSid": f"CA{sid:032x}", "From": "+12025550123", "To": LINE_NUMBER}
    if kind == "menu":
        params["Digits"] = "2"
    return params


def build(url: str, token: str, kind: str, first: int, count: int, calls: int) -> list[bytes]:
    validator = RequestValidator(token)
    parts = urlsplit(url)
    path = KINDS[kind]
    requests = []
    for index in range(first, first + count):
        params = _params(kind, index, calls)
        body = urlencode(params)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n"
        )
        if kind != "baseline":
            head += f"X-Twilio-Signature: {validator.compute_signature(url + path, params)}\r\n"
        requests.append((head + "\r\n" + body).encode())
    return requests


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.address = (host, port)
        self.sock: socket.socket | None = None

    def _open(self) -> socket.socket:
        sock = socket.create_connection(self.address, timeout=15)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        return sock

    def send(self, request: bytes) -> int:
        """The response's status; 0 when the connection failed."""
        for _attempt in range(2):
            sock = self.sock or self._open()
            try:
                sock.sendall(request)
                return self._read(sock)
            except OSError:
                sock.close()
                self.sock = None
        return 0

    def _read(self, sock: socket.socket) -> int:
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            buffer += chunk
        head, _, rest = buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = 0
        close = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            rest += chunk
        if close:
            sock.close()
            self.sock = None
        return status


def run(
    host: str,
    port: int,
    requests: list[bytes],
    *,
    mode: str,
    connections: int,
    seconds: float,
    warmup: float,
    rate: float,
) -> dict[str, object]:
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    supply: Iterator[int] = itertools.count()
    started = time.perf_counter() + 0.2  # every thread ready first
    measured_from = started + warmup
    until = measured_from + seconds

    def closed() -> None:
        connection = Connection(host, port)
        mine: list[float] = []
        seen: dict[int, int] = {}
        while True:
            t0 = time.perf_counter()
            if t0 >= until:
                break
            status = connection.send(requests[next(supply) % len(requests)])
            t1 = time.perf_counter()
            if t0 >= measured_from and t1 <= until:
                mine.append(t1 - t0)
                seen[status] = seen.get(status, 0) + 1
        with lock:
            latencies.extend(mine)
            for status, n in seen.items():
                statuses[status] = statuses.get(status, 0) + n

    def paced() -> None:
        connection = Connection(host, port)
        mine: list[float] = []
        seen: dict[int, int] = {}
        while True:
            slot = next(supply)
            due = started + slot / rate
            if due >= until:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            status = connection.send(requests[slot % len(requests)])
            if due >= measured_from:
                mine.append(time.perf_counter() - due)
                seen[status] = seen.get(status, 0) + 1
        with lock:
            latencies.extend(mine)
            for status, n in seen.items():
                statuses[status] = statuses.get(status, 0) + n

    threads = [
        threading.Thread(target=closed if mode == "closed" else paced, daemon=True)
        for _ in range(connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ok = statuses.get(200, 0)
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [0.0] * 99
    return {
        "requests": len(latencies),
        "ok": ok,
        "statuses": {str(k): v for k, v in statuses.items()},
        "rate": len(latencies) / seconds,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
        "sent": next(supply),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--url", required=True, help="the line's public URL (signed over)")
    parser.add_argument("--token", required=True)
    parser.add_argument("--kind", choices=sorted(KINDS), required=True)
    parser.add_argument("--mode", choices=["closed", "paced"], required=True)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--rate", type=float, default=0.0, help="requests/s (paced)")
    parser.add_argument("--first", type=int, default=0, help="first CallSid/MessageSid index")
    parser.add_argument("--count", type=int, default=20_000, help="distinct requests built")
    parser.add_argument("--calls", type=int, default=0, help="menu: calls that exist")
    args = parser.parse_args()
    parts = urlsplit(args.url)
    assert parts.hostname is not None
    assert parts.port is not None
    requests = build(args.url, args.token, args.kind, args.first, args.count, args.calls)
    result = run(
        parts.hostname,
        parts.port,
        requests,
        mode=args.mode,
        connections=args.connections,
        seconds=args.seconds,
        warmup=args.warmup,
        rate=args.rate,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
