"""Cost growth (issue 8, item 4): Redis memory per caller, and how webhook
latency changes with the size of the roster and the number of callers waiting.

Three lines, each the real app in its own child process (so a big roster's
objects, its index and the garbage collector's work on them stay with that
line, as they would in a gunicorn worker) with its own private Redis:

- small: 10 rostered shifts, 1 caller waiting (the one being measured);
- roster: 10,000 rostered shifts, 1 caller waiting;
- waiting: 10 rostered shifts, 1,000 callers waiting (999 on hold, and the one
  being measured).

Every request goes through the Flask test client with a real Twilio
signature, to a real Redis; no worker runs, so ring jobs stay queued. The
parent runs one short block of calls on each line in turn, round and round,
so a noisy neighbour on the machine slows all three alike and the ratios hold.
Each sample is one caller's whole visit: the incoming call, "1" for a
counselor (the on-call lookup, a dispatch, the ring job), one hold document
(the waitUrl), hanging up in the queue (the Enqueue action) and the call's
status callback. The small line is the baseline of each ratio. Once per
block each line also answers GET /api/v1/calls (the operators' list of live
calls) and runs an alert job's on-call lookup (`ivr.callbacks.alerts`, which opens its
own RosterStore). And a few times each, between blocks, the roster is changed
for real and the first "1" after it timed: that one parses the new roster and
builds the week's on-call index, once per process per change.

Memory: the waiting line's Redis `used_memory` (INFO memory) before and after
its 999 callers arrive, and again after they press 1 and hear one hold
document: what the server really pays, keyspace and expiry tables included.
A delta of `used_memory` is chosen over summing `MEMORY USAGE` because the
latter leaves out the keyspace's own tables; `MEMORY USAGE` of every key
(SAMPLES 0: every element of the shared sorted sets) then says where it goes,
by key family. Then all 999 hang up, and what stays (records kept for the
retention period, and the jobs no worker ran) is measured the same way.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import re
import statistics
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import redis
from twilio.request_validator import RequestValidator

from bench.machine import machine_line
from ivr.app import create_app
from ivr.callbacks.alerts import on_call_numbers
from ivr.operators.accounts import Accounts
from ivr.platform.config import load_settings
from ivr.platform.embedded_redis import start_server, wait_until_ready
from ivr.roster.model import DAYS
from ivr.roster.oncall import who_is_on_call
from ivr.roster.parse import parse_roster
from ivr.roster.store import RosterStore

TOKEN = "bench-token-0123456789abcdef0123"  # noqa: S105 - a throwaway local token
PUBLIC = "https://bench.example.org"
ACCOUNT = "AC" + "0" * 32
LINE_NUMBER = "+18885550100"
SMALL_ROSTER = 10
LARGE_ROSTER = 10_000
FEW_WAITING = 1
MANY_WAITING = 1_000
ROUNDS = 40  # blocks per line, taken in turn
BLOCK = 12  # callers per block
WARMUP = 20  # callers per line before the clock starts
COLD_REPEATS = 3  # first "1" after a roster change, taken this many times
TARGET_P50_RATIO = 1.25  # cost must not grow with what is stored: within noise of flat
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
STEPS = (
    ("incoming", "POST /voice/incoming"),
    ("press", 'POST /voice/menu/main "1" (on-call lookup, dispatch, ring job)'),
    ("hold", "POST /voice/hold/<dispatch> (waitUrl document)"),
    ("leave", "POST /voice/queue-done/<dispatch> (hung up in the queue)"),
    ("status", "POST /voice/status (completed)"),
)


# -- the rosters -----------------------------------------------------------------


def roster_data(shifts: int) -> dict[str, Any]:
    """A roster of `shifts` weekly shifts: two counselors on call around the
    clock (so every size has someone to ring, and the webhooks take the same
    path), and the rest one hour each, walking through the weekdays and hours
    of the week at quarter-hour starts (so lookups meet people coming and
    going within the hour), in four zones, ten shifts per counselor."""
    fillers = shifts - 2
    people = 2 + -(-fillers // 10)
    counselors = [
        {
            "id": f"c{n}",
            "name": f"Counselor {n}",
            "phone": f"+1202555{n:04d}",
            "languages": ["en", "es"] if n % 2 else ["en"],
        }
        for n in range(people)
    ]
    rows: list[dict[str, Any]] = [
        {"counselor": f"c{n}", "days": list(DAYS), "start": "00:00", "end": "24:00"}
        for n in range(2)
    ]
    for k in range(fillers):
        # Day, hour, zone and quarter from independent digits of k (7, 24, 4, 4),
        # so the week fills evenly whatever the size.
        start = ((k // 7) % 24) * 60 + ((k // 672) % 4) * 15
        end = (start + 60) % (24 * 60)
        rows.append(
            {
                "counselor": f"c{2 + k // 10}",
                "days": [DAYS[k % 7]],
                "start": f"{start // 60:02d}:{start % 60:02d}",
                "end": f"{end // 60:02d}:{end % 60:02d}",
                "timezone": ZONES[(k // 168) % len(ZONES)],
            }
        )
    return {"timezone": ZONES[0], "counselors": counselors, "shifts": rows}


# -- one line, in a child process -------------------------------------------------


@dataclass(frozen=True)
class LineSpec:
    name: str
    shifts: int
    waiting: int


def _callers() -> Callable[[], str]:
    """Distinct fictional callers, in turn."""
    count = 0

    def caller() -> str:
        nonlocal count
        count += 1
        return f"+1312555{count % 10_000:04d}"

    return caller


class Line:
    """The app with its own Redis, and a caller's webhooks, signed."""

    def __init__(self, directory: Path, spec: LineSpec) -> None:
        self.spec = spec
        self.server = start_server(directory / "redis", port=0, socket_name="growth.sock")
        url = f"unix://{directory / 'redis' / 'growth.sock'}"
        wait_until_ready(url, self.server)
        settings = load_settings(
            {
                "REDIS_URL": url,
                "TWILIO_AUTH_TOKEN": TOKEN,
                "TWILIO_ACCOUNT_SID": ACCOUNT,
                "HELPLINE_SECRET_KEY": "k" * 40,
                "HELPLINE_PUBLIC_URL": PUBLIC,
                "HELPLINE_NUMBER": LINE_NUMBER,
                "HELPLINE_VAR_DIR": str(directory / "var"),
            },
            dotenv_path=directory / ".env",
        )
        self.app = create_app(settings)
        self.client = self.app.test_client()
        self.redis = redis.Redis.from_url(url)
        self.validator = RequestValidator(TOKEN)
        self.caller = _callers()
        self.serial = 0
        _, token = Accounts(self.redis).create_token("bench", "viewer")
        self.bearer = {"Authorization": f"Bearer {token}"}

    def close(self) -> None:
        self.redis.close()
        self.server.terminate()
        self.server.wait()

    def post(self, url: str, params: dict[str, str]) -> ET.Element | None:
        path = url.removeprefix(PUBLIC)
        signature = self.validator.compute_signature(PUBLIC + path, params)
        response = self.client.post(path, data=params, headers={"X-Twilio-Signature": signature})
        if response.status_code not in (200, 204):
            raise RuntimeError(f"{path}: HTTP {response.status_code}")
        body = response.get_data()
        return ET.fromstring(body) if body else None  # noqa: S314 - our own response

    def new_call(self) -> dict[str, str]:
        self.serial += 1
        return {
            "CallSid": f"CA{os.getpid():08x}{self.serial:024x}",
            "AccountSid": ACCOUNT,
            "From": self.caller(),
            "To": LINE_NUMBER,
            "Direction": "inbound",
        }

    def arrive(self, call: dict[str, str]) -> None:
        self.post("/voice/incoming", {**call, "CallStatus": "ringing"})

    def press_counselor(self, call: dict[str, str]) -> ET.Element:
        twiml = self.post("/voice/menu/main", {**call, "CallStatus": "in-progress", "Digits": "1"})
        enqueue = twiml.find("Enqueue") if twiml is not None else None
        if enqueue is None:
            raise RuntimeError("pressing 1 did not put the caller on hold")
        return enqueue

    def hold(self, call: dict[str, str], enqueue: ET.Element) -> None:
        queue = {"QueueSid": "QU" + "0" * 32, "QueueTime": "30", "CurrentQueueSize": "1"}
        self.post(enqueue.attrib["waitUrl"], {**call, "CallStatus": "in-progress", **queue})

    def leave(self, call: dict[str, str], enqueue: ET.Element) -> None:
        self.post(enqueue.attrib["action"], {**call, "CallStatus": "completed",
                                             "QueueResult": "hangup"})  # fmt: skip

    def status(self, call: dict[str, str]) -> None:
        self.post("/voice/status", {**call, "CallStatus": "completed", "CallDuration": "40"})

    def visit(self) -> dict[str, float]:
        """One caller's whole visit, each webhook timed."""
        call = self.new_call()
        t0 = time.perf_counter()
        self.arrive(call)
        t1 = time.perf_counter()
        enqueue = self.press_counselor(call)
        t2 = time.perf_counter()
        self.hold(call, enqueue)
        t3 = time.perf_counter()
        self.leave(call, enqueue)
        t4 = time.perf_counter()
        self.status(call)
        t5 = time.perf_counter()
        return {"incoming": t1 - t0, "press": t2 - t1, "hold": t3 - t2, "leave": t4 - t3,
                "status": t5 - t4}  # fmt: skip

    def live_calls(self) -> float:
        """GET /api/v1/calls: every caller waiting and call in progress."""
        t0 = time.perf_counter()
        response = self.client.get("/api/v1/calls", headers=self.bearer)
        elapsed = time.perf_counter() - t0
        if response.status_code != 200:
            raise RuntimeError(f"/api/v1/calls: HTTP {response.status_code}")
        return elapsed

    def alert_lookup(self) -> float:
        """Who a crisis text's alert job would text (ivr.callbacks.alerts.on_call_numbers),
        as the job does it: from its own RosterStore."""
        t0 = time.perf_counter()
        on_call_numbers(self.redis, ("en", "es"))
        return time.perf_counter() - t0

    def used_memory(self) -> int:
        info: dict[str, Any] = self.redis.info("memory")
        return int(info["used_memory"])

    def by_family(self) -> Counter[str]:
        """MEMORY USAGE of every key (every element of big ones: SAMPLES 0),
        summed by key family (ids replaced by <call>, <dispatch>, <job>)."""
        sizes: Counter[str] = Counter()
        for key in self.redis.scan_iter(count=1000):
            name = key.decode()
            used = self.redis.memory_usage(name, samples=0) or 0
            sizes[_family(name)] += int(used)
        return sizes


def _family(key: str) -> str:
    key = re.sub(r"CA[0-9a-f]{32}", "<call>", key)
    key = re.sub(r"\b[0-9a-f]{20}\b", "<dispatch>", key)
    key = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<job>", key)
    return re.sub(r"\d{4}-\d{2}-\d{2}", "<day>", key)


def _memory(line: Line) -> tuple[dict[str, Any], list[dict[str, str]], list[ET.Element]]:
    """Populate the waiting line with its callers, measuring as they come."""
    others = line.spec.waiting - 1
    gc.collect()
    before = line.used_memory()
    families_before = line.by_family()
    calls = [line.new_call() for _ in range(others)]
    for call in calls:
        line.arrive(call)
    in_menu = line.used_memory()
    holds = [line.press_counselor(call) for call in calls]
    waiting = line.used_memory()
    for call, enqueue in zip(calls, holds, strict=True):
        line.hold(call, enqueue)
    held = line.used_memory()
    families = line.by_family() - families_before
    return (
        {
            "callers": others,
            "in_menu": (in_menu - before) / others,
            "waiting": (waiting - before) / others,
            "held": (held - before) / others,
            "families": {k: v / others for k, v in families.most_common()},
        },
        calls,
        holds,
    )


def _hang_up(line: Line, calls: list[dict[str, str]], holds: list[ET.Element]) -> dict[str, Any]:
    """All the waiting callers hang up: what that changes, per caller (the
    records kept for the retention period stay; no worker runs the jobs)."""
    families_before, before = line.by_family(), line.used_memory()
    for call, enqueue in zip(calls, holds, strict=True):
        line.leave(call, enqueue)
        line.status(call)
    families, after = line.by_family(), line.used_memory()
    change = {
        k: (families[k] - families_before[k]) / len(calls) for k in families | families_before
    }
    return {"used": (after - before) / len(calls), "families": change}


def _cold(line: Line, change: int) -> float:
    """The first "1" after a roster change: the process parses the new
    document and builds this week's on-call index. The change is a real one
    (a counselor's name), so nothing parsed before can be reused."""
    store = RosterStore(line.redis)
    roster = store.load()
    assert roster is not None
    first, *rest = roster.counselors
    renamed = replace(first, name=f"Counselor 0 ({change})")
    store.save(replace(roster, counselors=(renamed, *rest)), "bench: a roster change")
    call = line.new_call()
    line.arrive(call)
    t0 = time.perf_counter()
    enqueue = line.press_counselor(call)
    elapsed = time.perf_counter() - t0
    line.leave(call, enqueue)
    line.status(call)
    return elapsed


def child(conn: Connection, spec: LineSpec) -> None:
    """A line's process: set up, then run blocks of visits when asked."""
    with tempfile.TemporaryDirectory(prefix="growth-") as tmp:
        line = Line(Path(tmp), spec)
        try:
            rss0 = _rss_kib()
            roster = parse_roster(roster_data(spec.shifts), "bench")
            RosterStore(line.redis).save(roster, "bench")
            line.visit()
            on_call = len(who_is_on_call(roster, datetime.now(UTC)))
            setup: dict[str, Any] = {"on_call": on_call, "rss": _rss_kib() - rss0}
            calls: list[dict[str, str]] = []
            holds: list[ET.Element] = []
            if spec.waiting > 1:
                setup["memory"], calls, holds = _memory(line)
            for _ in range(WARMUP):
                line.visit()
            conn.send(setup)
            while True:
                command, value = conn.recv()
                if command == "run":
                    visits = [line.visit() for _ in range(int(value))]
                    visits.append({"calls_api": line.live_calls(), "alert": line.alert_lookup()})
                    conn.send(visits)
                elif command == "cold":
                    conn.send(_cold(line, int(value)))
                elif command == "memory":
                    conn.send(_hang_up(line, calls, holds))
                else:
                    break
        finally:
            line.close()
            conn.close()


def _rss_kib() -> int:
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


# -- the parent: run the lines in turn, then report -----------------------------------


@dataclass
class Result:
    spec: LineSpec
    setup: dict[str, Any]
    samples: dict[str, list[float]] = field(default_factory=dict)
    cold: list[float] = field(default_factory=list)

    def add(self, visits: list[dict[str, float]]) -> None:
        for visit in visits:
            for step, seconds in visit.items():
                self.samples.setdefault(step, []).append(seconds)

    def p(self, step: str, n: int) -> float:
        values = self.samples[step]
        return statistics.quantiles(values, n=100)[n - 1] * 1000 if n < 100 else max(values)


def run() -> tuple[list[Result], dict[str, Any]]:
    specs = [
        LineSpec("small", SMALL_ROSTER, FEW_WAITING),
        LineSpec("roster", LARGE_ROSTER, FEW_WAITING),
        LineSpec("waiting", SMALL_ROSTER, MANY_WAITING),
    ]
    context = multiprocessing.get_context("spawn")
    pipes = []
    processes = []
    for spec in specs:
        mine, theirs = context.Pipe()
        process = context.Process(target=child, args=(theirs, spec), name=f"growth-{spec.name}")
        process.start()
        pipes.append(mine)
        processes.append(process)
    try:
        results = [Result(spec, pipe.recv()) for spec, pipe in zip(specs, pipes, strict=True)]
        for change in range(COLD_REPEATS):
            for result, pipe in zip(results, pipes, strict=True):
                pipe.send(("cold", change))
                result.cold.append(pipe.recv())
        for _ in range(ROUNDS):
            for result, pipe in zip(results, pipes, strict=True):
                pipe.send(("run", BLOCK))
                result.add(pipe.recv())
        pipes[2].send(("memory", None))
        left: dict[str, Any] = pipes[2].recv()
        for pipe in pipes:
            pipe.send(("stop", None))
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
    return results, left


def report(results: list[Result], left: dict[str, Any], seconds: float) -> None:
    small, roster, waiting = results
    print(machine_line(seconds))
    print(
        "in-process Flask test client, real signatures, each line in its own process with "
        f"its own Redis, no worker; {ROUNDS * BLOCK} callers per line in blocks of {BLOCK}, "
        "the lines in turn"
    )
    print()
    print(
        f"Webhook latency, {SMALL_ROSTER} vs {LARGE_ROSTER:,} rostered shifts (on call now: "
        f"{small.setup['on_call']} vs {roster.setup['on_call']}), 1 caller waiting"
    )
    _latency_table(small, roster, STEPS)
    print()
    print(
        f"Webhook latency, {FEW_WAITING} vs {MANY_WAITING:,} callers waiting "
        f"({SMALL_ROSTER} rostered shifts)"
    )
    _latency_table(small, waiting, STEPS)
    print(
        f"(GET /api/v1/calls lists every live call, so it grows with them by design: "
        f"{ROUNDS} requests, p50 {small.p('calls_api', 50):.2f} ms with 1, "
        f"{waiting.p('calls_api', 50):.2f} ms with {MANY_WAITING:,}, "
        f"{(waiting.p('calls_api', 50) - small.p('calls_api', 50)) * 1000 / MANY_WAITING:.0f} "
        "µs per live call)"
    )
    print()
    print(f"The roster's size beyond the webhooks ({SMALL_ROSTER} vs {LARGE_ROSTER:,} shifts)")
    print(f"| figure | baseline ({SMALL_ROSTER} shifts) | {LARGE_ROSTER:,} shifts | ratio |")
    print("|---|---|---|---|")
    cold_small, cold_large = (statistics.median(r.cold) * 1000 for r in (small, roster))
    print(
        f'| first "1" after a roster change (parse, index the week), median of {COLD_REPEATS}, '
        f"ms | {cold_small:.2f} | {cold_large:.2f} | {cold_large / cold_small:.1f} |"
    )
    alert_small, alert_large = small.p("alert", 50), roster.p("alert", 50)
    print(
        "| an alert job's on-call lookup (ivr.callbacks.alerts: its own RosterStore), "
        f"p50 of {ROUNDS}, "
        f"ms | {alert_small:.2f} | {alert_large:.2f} | {alert_large / alert_small:.1f} |"
    )
    print(
        f"| peak RSS growth loading the roster, KiB | {small.setup['rss']:,} "
        f"| {roster.setup['rss']:,} | - |"
    )
    print()
    memory = waiting.setup["memory"]
    print(f"Redis memory per caller, {memory['callers']} callers (INFO memory used_memory delta)")
    print("| figure | bytes per caller |")
    print("|---|---|")
    print(f"| active call in the menu (after /voice/incoming) | {memory['in_menu']:,.0f} |")
    print(f"| waiting caller (after pressing 1) | {memory['waiting']:,.0f} |")
    print(f"| waiting caller after one hold document | {memory['held']:,.0f} |")
    print(f"| left once they hung up | {memory['held'] + left['used']:,.0f} |")
    print()
    print("Where the bytes are, by key family (MEMORY USAGE of every key, per caller)")
    print("| key family | waiting, after one hold document | left once they hung up |")
    print("|---|---|---|")
    held: dict[str, float] = memory["families"]
    for family in sorted(held | left["families"], key=lambda k: -held.get(k, 0)):
        waiting_bytes = held.get(family, 0.0)
        left_bytes = waiting_bytes + left["families"].get(family, 0.0)
        if max(waiting_bytes, left_bytes) >= 1:
            print(f"| {family} | {waiting_bytes:,.0f} | {left_bytes:,.0f} |")
    print(
        "(no worker runs here: every rq:job is a ring, nudge or cancel job waiting in the queue; "
        "a worker deletes each one result_ttl (600 s) after running it)"
    )


def _latency_table(base: Result, other: Result, steps: tuple[tuple[str, str], ...]) -> None:
    print(
        "| webhook | baseline p50 ms | p50 ms | p50 ratio "
        f"(target <= {TARGET_P50_RATIO}) | baseline p99 ms | p99 ms | p99 ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    for step, label in steps:
        b50, o50 = base.p(step, 50), other.p(step, 50)
        b99, o99 = base.p(step, 99), other.p(step, 99)
        mark = "ok" if o50 / b50 <= TARGET_P50_RATIO else "MISSED"
        print(
            f"| {label} | {b50:.2f} | {o50:.2f} | {o50 / b50:.2f} {mark} "
            f"| {b99:.2f} | {o99:.2f} | {o99 / b99:.2f} |"
        )


def main() -> None:
    started = time.monotonic()
    print("cost growth (issue 8, item 4): starting three lines", flush=True)
    results, left = run()
    report(results, left, time.monotonic() - started)


if __name__ == "__main__":
    main()
