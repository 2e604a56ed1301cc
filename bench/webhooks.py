"""Webhook throughput and latency under the production WSGI server (issue 8,
item 1).

A private Redis and the line under gunicorn with `helpline serve`'s own
settings (bench.serve adds one bare route returning constant TwiML, the
baseline, to the same app and server), started by loadtest's Stack. A load
generator in another process (bench.load) drives each endpoint closed-loop for
its maximum rate, then open-loop at half that rate for p50/p99."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

import redis
import requests
from rq import Queue

from bench.cpu import tree_seconds
from bench.machine import machine_line
from ivr.jobs import QUEUE_NAME
from ivr.platform.config import PROJECT_ROOT
from loadtest.stack import START_SECONDS, Stack, StackOptions

CONNECTIONS = 16  # the server's 2 processes x 8 threads, all busy
PACED_THREADS = 32  # enough that a slow answer never holds back the next send
SECONDS = 5.0
WARMUP = 1.0
BUILT = 30_000  # distinct signed requests per run (fresh CallSids, MessageSids, senders)
TARGET_RATIO = 0.7
TARGET_P99_MS = 15.0
ENDPOINTS = [
    ("baseline", "baseline: constant TwiML"),
    ("floor", "floor: signature check + one Redis write"),
    ("voice", "POST /voice/incoming"),
    ("menu", "POST /voice/menu/main (key 2)"),
    ("sms", "POST /sms/incoming (keyword)"),
]


REFERENCES = ("baseline", "floor")  # measured beside the webhooks, not held to the targets


class BenchStack(Stack):
    """loadtest's Stack, with bench.serve (the app plus the baseline) in place
    of `helpline serve`; the same gunicorn options either way."""

    def environment(self) -> dict[str, str]:
        env = super().environment()
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p
        )
        return env

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        if name == "serve":
            command = [sys.executable, "-m", "bench.serve"]
        super()._spawn(name, command, env)

    def _wait_until_up(self) -> None:
        """Up when the web answers with Redis reachable: /healthz says 503
        without a worker, and this bench runs none (no CPU taken from the web)."""
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            for child in self.children:
                if not child.alive():
                    raise RuntimeError(f"{child.name} exited at start; see {child.log}")
            with contextlib.suppress(requests.RequestException, ValueError):
                health = requests.get(f"{self.line_url}/healthz", timeout=2)
                if health.json().get("redis") == "ok":
                    return
            time.sleep(0.2)
        raise RuntimeError(f"the line did not come up within {START_SECONDS:.0f} s")


@dataclass(frozen=True)
class Row:
    kind: str
    label: str
    max_rate: float
    half_rate: float
    p50_ms: float
    p99_ms: float
    errors: dict[str, int]
    web_cpu_us: float  # gunicorn's CPU per request in the closed-loop run
    redis_cpu_us: float  # redis-server's


def load(
    stack: Stack, kind: str, mode: str, *, first: int, rate: float = 0.0, calls: int = 0
) -> dict[str, object]:
    command = [
        sys.executable,
        "-m",
        "bench.load",
        "--url",
        stack.line_url,
        "--token",
        stack.auth_token,
        "--kind",
        kind,
        "--mode",
        mode,
        "--connections",
        str(CONNECTIONS if mode == "closed" else PACED_THREADS),
        "--seconds",
        str(SECONDS),
        "--warmup",
        str(WARMUP),
        "--rate",
        f"{rate:.1f}",
        "--first",
        str(first),
        "--count",
        str(BUILT),
        "--calls",
        str(calls),
    ]
    done = subprocess.run(  # noqa: S603 - our own module
        command, capture_output=True, text=True, check=True, cwd=PROJECT_ROOT
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def _not_ok(*results: dict[str, object]) -> dict[str, int]:
    errors: dict[str, int] = {}
    for result in results:
        statuses = result["statuses"]
        assert isinstance(statuses, dict)
        for status, n in statuses.items():
            if status != "200":
                errors[status] = errors.get(status, 0) + int(n)
    return errors


def measure(stack: Stack) -> list[Row]:
    rows = []
    first = 0
    calls = 0
    for kind, label in ENDPOINTS:
        web_before, redis_before = _cpu(stack)
        closed = load(stack, kind, "closed", first=first, calls=calls)
        web_after, redis_after = _cpu(stack)
        sent = int(str(closed["sent"]))
        if kind == "voice":
            calls = min(sent, BUILT)  # the calls the menu step walks
        first += BUILT
        max_rate = float(str(closed["rate"]))
        paced = load(stack, kind, "paced", first=first, rate=max_rate / 2, calls=calls)
        first += BUILT
        rows.append(
            Row(
                kind,
                label,
                max_rate,
                float(str(paced["rate"])),
                float(str(paced["p50_ms"])),
                float(str(paced["p99_ms"])),
                _not_ok(closed, paced),
                (web_after - web_before) / max(sent, 1) * 1e6,
                (redis_after - redis_before) / max(sent, 1) * 1e6,
            )
        )
        print(f"  {label}: {max_rate:,.0f} req/s max", flush=True)
    return rows


def _cpu(stack: Stack) -> tuple[float, float]:
    """CPU seconds so far of the web service (gunicorn and its processes) and Redis."""
    web = sum(tree_seconds(c.process.pid) for c in stack.children if c.process is not None)
    redis_pid = stack.redis_process.pid if stack.redis_process is not None else 0
    return web, tree_seconds(redis_pid) if redis_pid else 0.0


def report(rows: list[Row], seconds: float) -> None:
    base = rows[0]
    print()
    print(machine_line(seconds))
    print(
        f"gunicorn as `helpline serve` (gthread, 2 processes x 8 threads, access log on); "
        f"closed loop: {CONNECTIONS} keep-alive connections, {SECONDS:g} s after {WARMUP:g} s "
        f"warm-up; latency: open loop at half the max rate, {SECONDS:g} s"
    )
    print(
        "| what | max req/s | baseline req/s | ratio (target >= 0.7) "
        "| of floor | at req/s | p50 ms | p99 ms (target <= 15) | baseline p50/p99 ms | non-200 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    floor = next((r for r in rows if r.kind == "floor"), base)
    for row in rows:
        ratio = row.max_rate / base.max_rate
        targeted = row.kind not in REFERENCES
        ratio_mark = (" ok" if ratio >= TARGET_RATIO else " MISSED") if targeted else ""
        p99_mark = " ok" if row.p99_ms <= TARGET_P99_MS else " MISSED"
        print(
            f"| {row.label} | {row.max_rate:,.0f} | {base.max_rate:,.0f} | {ratio:.2f}{ratio_mark} "
            f"| {row.max_rate / floor.max_rate:.2f} | {row.half_rate:,.0f} "
            f"| {row.p50_ms:.2f} | {row.p99_ms:.2f}{p99_mark} "
            f"| {base.p50_ms:.2f} / {base.p99_ms:.2f} | {row.errors or '-'} |"
        )
    print()
    print(
        "Server CPU per request in the closed-loop runs (from /proc; steadier than "
        "req/s on a shared VM): what a core could serve, as a ratio to the baseline's"
    )
    print("| what | web CPU µs/req | Redis CPU µs/req | ratio to baseline (web + Redis) |")
    print("|---|---|---|---|")
    base_cpu = base.web_cpu_us + base.redis_cpu_us
    for row in rows:
        cpu = row.web_cpu_us + row.redis_cpu_us
        cpu_ratio = f"{base_cpu / cpu:.2f}" if cpu > 0 else "n/a"
        print(f"| {row.label} | {row.web_cpu_us:,.0f} | {row.redis_cpu_us:,.0f} | {cpu_ratio} |")


def main() -> None:
    started = time.monotonic()
    print("webhooks under gunicorn (issue 8, item 1): starting Redis and the line", flush=True)
    with BenchStack(StackOptions(workers=0)) as stack:
        stack.start(lambda _client: None)
        rows = measure(stack)
        queued = _queued(stack.redis_client())
    report(rows, time.monotonic() - started)
    print(f"(replies left queued for the outbox, no worker running: {queued})")


def _queued(client: redis.Redis) -> int:
    return len(Queue(QUEUE_NAME, connection=client))


if __name__ == "__main__":
    main()
