"""`python -m loadtest` (`make loadtest`): start the line, load it, measure,
stop everything, print the figures. Exit 0 only when every goal is met: no
errors, no text lost or doubled, no caller held past the deadline, everyone
finished within the time budget."""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from datetime import UTC, datetime

import redis

from ivr.content.check import load_content
from ivr.platform.config import PROJECT_ROOT
from ivr.roster.parse import parse_roster
from ivr.roster.store import RosterStore
from loadtest import scenario as scenarios
from loadtest.drive import Driver
from loadtest.measure import Report, measure
from loadtest.stack import Stack, StackOptions


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m loadtest", description=__doc__)
    add = parser.add_argument
    add("--menu-callers", type=int, default=220, help="callers walking the menu (220)")
    add("--waiting-callers", type=int, default=50, help="callers asking for a counselor (50)")
    add("--texts", type=int, default=1000, help="inbound texts in the burst (1000)")
    add("--call-spread", type=float, default=3.0, help="seconds over which menu callers dial")
    add("--text-spread", type=float, default=10.0, help="seconds over which texters start")
    add("--text-concurrency", type=int, default=40, help="texters texting at the same moment")
    add("--workers", type=int, default=2, help="`helpline worker` processes (2)")
    add("--web-processes", type=int, default=2, help="gunicorn processes (2)")
    add("--web-threads", type=int, default=8, help="gunicorn threads per process (8)")
    add("--ring-seconds", type=int, default=5, help="HELPLINE_RING_SECONDS for the run (5)")
    add("--ring-rounds", type=int, default=2, help="HELPLINE_RING_ROUNDS for the run (2)")
    add("--max-hold", type=int, default=30, help="HELPLINE_MAX_HOLD_SECONDS for the run (30)")
    add("--sms-rate", type=float, default=50.0, help="HELPLINE_SMS_SEGMENTS_PER_SECOND (50)")
    add("--budget", type=float, default=210.0, help="seconds the traffic may take to finish")
    add("--seed", type=int, default=7, help="the scenario's random seed")
    add("--keep", action="store_true", help="keep the run's directory (logs, Redis data)")
    return parser.parse_args(argv)


def _ms(figures: dict[str, float]) -> str:
    return " | ".join(f"{figures[k]:.0f}" for k in ("p50", "p95", "p99", "max"))


def _s(figures: dict[str, float]) -> str:
    return " | ".join(f"{figures[k]:.1f}" for k in ("p50", "p95", "p99", "max"))


def render(
    report: Report, args: argparse.Namespace, started: datetime, seconds: float, phases: str
) -> str:
    machine = (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU(s), "
        f"{platform.python_implementation()} {platform.python_version()}"
    )
    lines = [
        f"Load run {started:%Y-%m-%d %H:%M} UTC — {'PASS' if report.ok else 'FAIL'}",
        "",
        f"- machine: {machine}",
        f"- command: make loadtest  (python -m loadtest {' '.join(sys.argv[1:])})".rstrip(),
        f"- traffic: {args.menu_callers} menu callers, {args.waiting_callers} waiting for a "
        f"counselor, {args.texts} texts; {args.workers} workers, gunicorn "
        f"{args.web_processes}×{args.web_threads}; ring {args.ring_seconds} s × "
        f"{args.ring_rounds} rounds, longest hold {args.max_hold} s",
        f"- whole run {seconds:.0f} s ({phases})",
        f"- peaks: {report.peak_calls} calls in progress ({report.peak_menu} walking the menu), "
        f"{report.peak_waiting} callers on hold, "
        f"{report.peak_counselor_legs} counselor calls, {report.peak_jobs} jobs queued",
        f"- {report.webhooks} webhooks sent to the line, {report.rest_requests} REST requests "
        "from it",
        "",
        "| goal | result |",
        "|---|---|",
        f"| errors (5xx, non-TwiML, failed webhooks, tracebacks, failed jobs) | "
        f"{len(report.errors) - bool(report.texts_lost) - bool(report.texts_doubled)} |",
        f"| texts lost / sent twice | {report.texts_lost} / {report.texts_doubled} "
        f"({report.texts_out} sent in {report.segments} segments, {report.texts_expected} "
        f"expected, {report.texts_in} received) |",
        f"| callers held past {report.deadline_seconds} s (longest hold + ring) | "
        f"{len(report.stuck)} |",
        "",
        "Webhook response times as the emulator saw them (ms):",
        "",
        "| webhooks | n | p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|",
    ]
    for kind, figures in report.latency.items():
        lines.append(f"| {kind} | {figures['n']:.0f} | {_ms(figures)} |")
    if report.server_latency.get("n"):
        figures = report.server_latency
        lines.append(
            f"| (gunicorn's own timing, all requests) | {figures['n']:.0f} | {_ms(figures)} |"
        )
    lines += ["", "Slowest paths by p99 (ms):", ""]
    lines += [
        f"- {path}: n={f['n']:.0f}, {_ms(f).replace(' | ', ' / ')}" for path, f in report.slowest
    ]
    lines += [
        "",
        "Callers waiting for a counselor (s):",
        "",
        "| from joining the queue to | n | p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|",
        f"| the first counselor rung | {report.to_ring['n']:.0f} | {_s(report.to_ring)} |",
        f"| a counselor bridged | {report.to_bridge['n']:.0f} | {_s(report.to_bridge)} |",
        f"| leaving the queue (any way) | {report.held['n']:.0f} | {_s(report.held)} |",
        "",
        "| from a text to | n | p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|",
        f"| its reply leaving the line (s) | {report.reply_after['n']:.0f} | "
        f"{_s(report.reply_after)} |",
        f"| a crisis alert to a counselor (s) | {report.crisis_alert_after['n']:.0f} | "
        f"{_s(report.crisis_alert_after)} |",
        "",
        "How they ended: "
        + ", ".join(f"{n} {ending}" for ending, n in report.outcomes.most_common()),
        "Counselor calls placed: "
        + ", ".join(f"{cid} {n}" for cid, n in sorted(report.counselor_rings.items())),
        f"Menu callers: {report.menu_callers}, {len(report.menu_astray)} not where they asked.",
        "Outbox batches: " + ", ".join(f"{n} {s}" for s, n in report.outbox.most_common()),
        f"Failed jobs: {report.failed_jobs}",
    ]
    if report.errors:
        lines += ["", "Errors:", ""] + [f"- {e}" for e in report.errors]
    if report.notes:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in report.notes[:20]]
    if report.log_lines:
        lines += ["", "Log lines worth a look (count):", ""]
        lines += [f"- {n}× {line}" for line, n in report.log_lines.most_common(15)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    # The emulator is served in this process: its request lines would drown the figures.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    began = time.monotonic()
    started = datetime.now(UTC)
    content = load_content(PROJECT_ROOT / "flows")
    plan = scenarios.build(
        menu=args.menu_callers,
        waiting=args.waiting_callers,
        texts=args.texts,
        call_spread=args.call_spread,
        text_spread=args.text_spread,
        seed=args.seed,
    )
    expected = scenarios.expect_texts(content, plan.texters)
    options = StackOptions(
        workers=args.workers,
        web_processes=args.web_processes,
        web_threads=args.web_threads,
        ring_seconds=args.ring_seconds,
        ring_rounds=args.ring_rounds,
        max_hold_seconds=args.max_hold,
        sms_segments_per_second=args.sms_rate,
        keep=args.keep,
    )
    roster = parse_roster(scenarios.roster_data(plan.counselors), "load-test roster")
    print(
        f"starting the line; then {len(plan.callers)} callers and {expected.inbound} texts",
        flush=True,
    )

    def store_roster(client: redis.Redis) -> None:
        RosterStore(client).save(roster)

    with Stack(options) as stack:
        stack.start(store_roster)
        up = time.monotonic() - began
        print(f"up in {up:.1f} s ({stack.directory}); loading…", flush=True)
        client = stack.redis_client()
        driver = Driver(stack.network, client, plan, text_concurrency=args.text_concurrency)
        played = driver.run(args.budget)
        print(
            f"traffic done in {played.traffic_seconds:.1f} s, all finished at "
            f"{played.done_seconds:.1f} s; measuring…",
            flush=True,
        )
        report = measure(
            stack.network, played, plan, content, expected, client, stack.logs(), options
        )
        if args.keep:  # every call leg and message, to look into what went wrong
            network = stack.network
            for name, rows in (
                ("calls", network.snapshot_calls()),
                ("messages", network.snapshot_messages()),
            ):
                (stack.directory / f"{name}.json").write_text(json.dumps(rows, indent=1))
        phases = (
            f"start {up:.0f} s, traffic {played.traffic_seconds:.0f} s, "
            f"until all done {played.done_seconds:.0f} s"
        )
    seconds = time.monotonic() - began
    print(
        render(
            report,
            args,
            started,
            seconds,
            phases + f", stop {seconds - up - played.done_seconds:.0f} s",
        )
    )
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
