"""The figures of a load run, read from what the emulator saw (every webhook
with its timing, every call leg with what it heard and fetched, every text
sent), from Redis (failed jobs, unfinished outbox batches) and from the
line's own logs (tracebacks, gunicorn's access log with its own timings)."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import redis
from rq import Queue
from rq.registry import FailedJobRegistry

from ivr.content.model import Content
from ivr.content.render import fill
from ivr.jobs import QUEUE_NAME
from ivr.sms.reading import Intent, read_text
from loadtest.drive import Played
from loadtest.scenario import Caller, Scenario, TextExpectation
from loadtest.stack import BACKUP_NUMBER, StackOptions
from twilio_emulator import Network
from twilio_emulator.records import CallRecord, MessageRecord
from twilio_emulator.webhooks import Delivery

STATUS_CALLBACKS = ("/voice/status", "/voice/leg-status/", "/sms/status")
WITH_IDS = (
    "hold",
    "hold-choice",
    "queue-done",
    "after-hold",
    "whisper",
    "whisper-over",
    "whisper-answer",
    "leg-status",
    "counselor-done",
)
ACCESS = re.compile(
    r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) \S+ (?P<ms>\d+)ms'
)
LOG_PROBLEM = re.compile(r"Traceback|ERROR|CRITICAL|TIMEOUT|failed|could not|lost|unavailable")
MAX_LISTED = 12


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """p50, p95, p99 (nearest rank) and max; empty → zeros."""
    if not values:
        return {"n": 0, "p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    return {
        "n": len(ordered),
        "p50": rank(50),
        "p95": rank(95),
        "p99": rank(99),
        "max": ordered[-1],
    }


def template(path: str) -> str:
    """A webhook path with its ids folded: /voice/hold/…"""
    parts = path.split("/")
    if len(parts) > 3 and parts[1] == "voice" and parts[2] in WITH_IDS:
        return f"/voice/{parts[2]}/…"
    return path


def kind_of(path: str) -> str:
    if path.startswith("/sms/incoming"):
        return "texts in (/sms/incoming)"
    if path.startswith("/sms/status"):
        return "message status callbacks"
    if path.startswith(STATUS_CALLBACKS):
        return "call status callbacks"
    return "voice TwiML (menus, hold, whisper, …)"


def _is_twiml(body: str) -> bool:
    try:
        return ET.fromstring(body).tag == "Response"  # noqa: S314 - our own line's answer
    except ET.ParseError:
        return False


def _at(entry: dict[str, str]) -> float:
    return float(entry.get("at_time", "0") or 0)


@dataclass
class Outcome:
    """How one waiting caller's call ended, and when."""

    caller: Caller
    sid: str
    ending: str  # counselor | voicemail | partner line | hung up while waiting | dead end: …
    enqueued: float | None = None
    held: float | None = None  # real seconds in the queue
    to_ring: float | None = None  # seconds from joining the queue to the first counselor rung
    to_bridge: float | None = None
    note: str = ""  # something odd in the record, for a look


@dataclass
class Report:
    errors: list[str] = field(default_factory=list)  # each one a failure of the run's goals
    notes: list[str] = field(default_factory=list)  # worth knowing, not failures
    webhooks: int = 0
    rest_requests: int = 0
    latency: dict[str, dict[str, float]] = field(default_factory=dict)  # by kind, in ms
    server_latency: dict[str, float] = field(default_factory=dict)  # gunicorn's own, in ms
    slowest: list[tuple[str, dict[str, float]]] = field(default_factory=list)
    texts_in: int = 0
    texts_out: int = 0
    texts_expected: int = 0
    reply_after: dict[str, float] = field(default_factory=dict)  # s, a text to its reply
    crisis_alert_after: dict[str, float] = field(default_factory=dict)  # s, to the alert
    texts_lost: int = 0
    texts_doubled: int = 0
    text_details: list[str] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    menu_callers: int = 0
    menu_astray: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    deadline_seconds: int = 0
    held: dict[str, float] = field(default_factory=dict)
    to_ring: dict[str, float] = field(default_factory=dict)
    to_bridge: dict[str, float] = field(default_factory=dict)
    peak_calls: int = 0
    peak_menu: int = 0
    segments: int = 0
    peak_waiting: int = 0
    peak_counselor_legs: int = 0
    peak_jobs: int = 0
    double_booked: list[str] = field(default_factory=list)
    counselor_rings: Counter[str] = field(default_factory=Counter)
    log_lines: Counter[str] = field(default_factory=Counter)
    failed_jobs: int = 0
    outbox: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.errors


def _listed(report: Report, problems: Iterable[str], what: str) -> None:
    found = list(problems)
    for problem in found[:MAX_LISTED]:
        report.errors.append(f"{what}: {problem}")
    if len(found) > MAX_LISTED:
        report.errors.append(f"{what}: … and {len(found) - MAX_LISTED} more")


# -- webhooks ------------------------------------------------------------------------


def check_webhooks(report: Report, deliveries: list[Delivery]) -> None:
    by_kind: dict[str, list[float]] = defaultdict(list)
    by_path: dict[str, list[float]] = defaultdict(list)
    problems = []
    for delivery in deliveries:
        path = urlsplit(delivery.url).path
        kind = kind_of(path)
        if delivery.seconds is not None:
            by_kind[kind].append(delivery.seconds * 1000)
            by_kind["all webhooks"].append(delivery.seconds * 1000)
            by_path[f"{delivery.method} {template(path)}"].append(delivery.seconds * 1000)
        where = f"{delivery.method} {template(path)}"
        if delivery.status is None:
            problems.append(f"{where}: no answer ({delivery.error})")
        elif delivery.status >= 400:
            problems.append(f"{where}: HTTP {delivery.status}")
        elif path.startswith(STATUS_CALLBACKS):
            continue
        elif delivery.status != 200 or not _is_twiml(delivery.body):
            problems.append(f"{where}: HTTP {delivery.status}, not TwiML: {delivery.body[:80]!r}")
        elif "/voice/fallback" in delivery.body:
            # The line's answer of last resort: something inside it failed.
            problems.append(f"{where}: the safe fallback was served")
    report.webhooks = len(deliveries)
    report.latency = {kind: percentiles(values) for kind, values in sorted(by_kind.items())}
    slowest = sorted(by_path.items(), key=lambda item: -percentiles(item[1])["p99"])
    report.slowest = [(path, percentiles(values)) for path, values in slowest[:6]]
    _listed(report, problems, "webhook")


# -- calls ---------------------------------------------------------------------------


def _fetch_times(record: CallRecord) -> list[tuple[float, str]]:
    return [(fetch.at.timestamp(), urlsplit(fetch.url).path) for fetch in record.fetches]


def _gather_action(twiml: str) -> str | None:
    try:
        root = ET.fromstring(twiml)  # noqa: S314 - our own line's answer
    except ET.ParseError:
        return None
    gathers = list(root.iter("Gather"))
    return urlsplit(gathers[-1].get("action", "")).path if gathers else None


def check_calls(
    report: Report,
    network: Network,
    played: Played,
    scenario: Scenario,
    options: StackOptions,
) -> None:
    with network.lock:
        records = dict(network.calls)
    problems = []
    for record in records.values():
        for error in record.errors:
            problems.append(f"{record.direction} call: {error.get('code')} {error.get('message')}")
        if not record.finished:
            problems.append(f"{record.direction} call still {record.status} at the end")
    _listed(report, problems, "call")

    counselors = {c.number: c for c in scenario.counselors}
    # Counselor legs by dispatch: /voice/whisper/<dispatch>/<leg>
    rung: dict[str, list[CallRecord]] = defaultdict(list)
    for record in records.values():
        if record.direction == "outbound-api" and record.to in counselors:
            report.counselor_rings[counselors[record.to].id] += 1
            parts = urlsplit(record.url or "").path.split("/")
            if len(parts) > 3 and parts[2] == "whisper":
                rung[parts[3]].append(record)
    _double_booked(report, records, counselors)

    deadline = options.max_hold_seconds + options.ring_seconds
    report.deadline_seconds = deadline
    outcomes: list[Outcome] = []
    for sid, caller in played.calls.items():
        record = records[sid]
        if caller.waits_for_counselor:
            outcome = _waiting_outcome(caller, sid, record, counselors, rung)
            outcomes.append(outcome)
            report.outcomes[outcome.ending] += 1
            if outcome.held is not None and outcome.held > deadline:
                report.stuck.append(
                    f"{caller.kind} ({sid}) held {outcome.held:.1f} s (deadline {deadline} s)"
                )
        else:
            report.menu_callers += 1
            _check_menu_caller(report, caller, record)
    report.notes += [f"{o.caller.kind} ({o.sid}): {o.note}" for o in outcomes if o.note]
    dead_ends = [o for o in outcomes if o.ending.startswith("dead end")]
    _listed(report, (f"{o.caller.kind}: {o.ending}" for o in dead_ends), "waiting caller")
    _listed(report, report.stuck, "stuck")
    _listed(report, report.menu_astray, "menu caller")
    report.held = percentiles([o.held for o in outcomes if o.held is not None])
    report.to_ring = percentiles([o.to_ring for o in outcomes if o.to_ring is not None])
    report.to_bridge = percentiles([o.to_bridge for o in outcomes if o.to_bridge is not None])
    _listed(report, report.double_booked, "counselor")

    if played.samples:
        report.peak_calls = max(s.calls for s in played.samples)
        report.peak_menu = max(s.menu for s in played.samples)
        report.peak_waiting = max(s.waiting for s in played.samples)
        report.peak_counselor_legs = max(s.counselor_legs for s in played.samples)
        report.peak_jobs = max(s.jobs_queued for s in played.samples)


def _check_menu_caller(report: Report, caller: Caller, record: CallRecord) -> None:
    heard = {h["kind"] for h in record.heard}
    if caller.kind == "menu:asks for a callback":
        if "recorded" not in heard:
            report.menu_astray.append(f"{caller.kind}: left no message")
        return
    if caller.last_menu is None or not record.fetches:
        return
    action = _gather_action(record.fetches[-1].twiml)
    if action != f"/voice/menu/{caller.last_menu}":
        report.menu_astray.append(
            f"{caller.kind}: ended at {action or 'no menu'}, not /voice/menu/{caller.last_menu}"
        )


def _waiting_outcome(
    caller: Caller,
    sid: str,
    record: CallRecord,
    counselors: Mapping[str, object],
    rung: dict[str, list[CallRecord]],
) -> Outcome:
    heard = record.heard
    enqueued = next((h for h in heard if h["kind"] == "enqueued"), None)
    bridged = next((h for h in heard if h["kind"] == "bridged"), None)
    ending: str
    if bridged is not None and bridged["text"] in counselors:
        ending = "a counselor"
    elif bridged is not None and bridged["text"] == BACKUP_NUMBER:
        ending = "the partner (backup) line"
    elif any(h["kind"] == "recorded" for h in heard):
        ending = "voicemail (a message left)"
    elif any(h["kind"] == "hung-up" for h in heard):
        ending = "hung up while waiting (their choice)"
    elif caller.kind == "wait:gives up" and record.status == "completed":
        ending = "hung up at a menu (their choice)"
    else:
        last = heard[-1]["kind"] + " " + heard[-1]["text"][:40] if heard else "nothing"
        ending = f"dead end: {record.status}, last heard {last!r}"
    outcome = Outcome(caller, sid, ending)
    if enqueued is None:
        return outcome
    start = outcome.enqueued = _at(enqueued)
    dispatch = enqueued["text"][1:]  # the queue is named d<dispatch id>
    legs = rung.get(dispatch, [])
    if legs:
        outcome.to_ring = max(0.0, min(leg.date_created.timestamp() for leg in legs) - start)
    if bridged is not None and bridged["text"] in counselors:
        outcome.to_bridge = _at(bridged) - start
    # Out of the queue: bridged, a queue result, a hang-up, or the first document
    # fetched after joining that is not the hold loop's own.
    exits = [
        _at(h)
        for h in heard
        if h["kind"] in ("bridged", "queue-result", "hung-up") and _at(h) >= start
    ]
    # (Fetches from the first wait document on: the one that held the <Enqueue>
    # was fetched a moment before joining, closer than heard's millisecond stamps.)
    fetches = _fetch_times(record)
    first_hold = next(
        (n for n, (_, path) in enumerate(fetches) if path.startswith("/voice/hold/")),
        len(fetches),
    )
    exits += [
        at
        for at, path in fetches[first_hold:]
        if not path.startswith(("/voice/hold/", "/voice/hold-choice/"))
    ]
    end = record.end_time.timestamp() if record.end_time else None
    left = min(exits) if exits else end
    if outcome.to_bridge is not None:
        # Bridged: that is when they left the queue, whatever else was recorded.
        if left is not None and left - start < outcome.to_bridge - 0.5:
            outcome.note = f"an exit recorded {outcome.to_bridge - (left - start):.1f} s early"
        left = start + outcome.to_bridge
    if left is not None:
        outcome.held = left - start
    return outcome


def _double_booked(
    report: Report, records: dict[str, CallRecord], counselors: Mapping[str, object]
) -> None:
    """A counselor bridged to two callers at the same moment."""
    spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for record in records.values():
        if record.to not in counselors:
            continue
        bridged = next((h for h in record.heard if h["kind"] == "bridged"), None)
        if bridged is None or record.end_time is None:
            continue
        spans[record.to].append((_at(bridged), record.end_time.timestamp()))
    for number, intervals in spans.items():
        intervals.sort()
        for (_, end), (start, _) in itertools.pairwise(intervals):
            if start < end - 0.05:
                report.double_booked.append(f"{number} bridged to two callers at once")


# -- texts -----------------------------------------------------------------------------


def check_texts(
    report: Report,
    network: Network,
    played: Played,
    scenario: Scenario,
    content: Content,
    expected: TextExpectation,
) -> None:
    want: Counter[str] = Counter(expected.per_number)
    # "Text me this" from a call: each text asked for, once.
    for caller in scenario.callers:
        for text_id in caller.texts:
            want[caller.number] += len(content.texts[text_id])
    # Counselors: one alert per crisis (per person per quarter hour) and per
    # callback request — by text, or a message left on a call.
    messages_left = {
        d.params.get("RecordingSid")
        for d in network.webhooks.log()
        if urlsplit(d.url).path.startswith("/voice/recorded/") and d.status == 200
    }
    replies = content.sms.replies
    per_counselor = expected.crisis_alerts * len(content.texts[replies["crisis_alert"]]) + (
        expected.callback_alerts + len(messages_left)
    ) * len(content.texts[replies["callback_alert"]])
    for counselor in scenario.counselors:
        want[counselor.number] += per_counselor

    sent = network.sent_messages()
    got: Counter[str] = Counter(m.to for m in sent)
    texted: dict[str, list[str]] = defaultdict(list)
    for text in played.texts:
        texted[text.number].append(text.body)
    raced = _raced_confirmations(sent, played, content)
    if raced:
        report.notes.append(
            f"{sum(raced.values())} STOP confirmation(s) went out while the texter's START was "
            "on its way to the line (Twilio had opted them back in; the line not yet): "
            "sent in order, not counted as doubled"
        )
    lost = doubled = 0
    details = []
    for number in sorted(set(want) | set(got)):
        if want[number] < got[number] <= want[number] + raced[number]:
            continue
        if got[number] == want[number]:
            continue
        if got[number] < want[number]:
            lost += want[number] - got[number]
        else:
            doubled += got[number] - want[number]
        # What they sent and what they got (the line's own words, the start of each).
        bodies = [m.body[:24] for m in sorted(sent, key=lambda m: m.date_created) if m.to == number]
        details.append(
            f"{number}: {got[number]} sent, {want[number]} expected; "
            f"texted {texted.get(number, [])}, got {bodies}"
        )
    report.texts_in = len(played.texts)
    report.texts_out = sum(got.values())
    report.segments = sum(m.num_segments for m in sent)
    report.texts_expected = sum(want.values())
    report.texts_lost, report.texts_doubled = lost, doubled
    report.text_details = details
    if lost:
        report.errors.append(f"texts: {lost} lost")
    if doubled:
        report.errors.append(f"texts: {doubled} sent more often than asked")
    _listed(report, details, "texts")
    _text_timing(report, sent, played, content, expected)
    unanswered = [t for t in played.texts if t.status != 200]
    _listed(report, (f"{t.body!r}: {t.status} {t.error or ''}" for t in unanswered), "text in")
    report.notes += [f"emulator: {note}" for note in network.notes]


def _raced_confirmations(
    sent: list[MessageRecord], played: Played, content: Content
) -> Counter[str]:
    """STOP confirmations that Twilio accepted because the texter's START had
    reached it, sent while that START's webhook was still being answered: the
    line could not know yet. (One sent after the line had the START would be
    stale — a bug, counted.)"""
    template = content.texts[content.sms.replies["opted_out"]][0]
    openings = tuple(
        fill(content, template.text(language), language, "sms")[:40]
        for language in content.languages
    )
    starts: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for text in played.texts:
        if read_text(text.body, content).intent is Intent.OPT_IN:
            starts[text.number].append((text.at, text.at + text.seconds))
    raced: Counter[str] = Counter()
    for message in sent:
        if not message.body.startswith(openings):
            continue
        at = message.date_created.timestamp()
        if any(begun <= at <= answered for begun, answered in starts.get(message.to, [])):
            raced[message.to] += 1
    return raced


def _text_timing(
    report: Report,
    sent: list[MessageRecord],
    played: Played,
    content: Content,
    expected: TextExpectation,
) -> None:
    """How long a texter waited for the reply to leave (people who sent one
    text that gets a reply through the outbox), and the counselors for a
    crisis alert (the n-th crisis text paired with the n-th alert)."""
    first_out: dict[str, float] = {}
    for message in sent:
        at = message.date_created.timestamp()
        first_out[message.to] = min(at, first_out.get(message.to, at))
    texts_by: dict[str, list[float]] = defaultdict(list)
    for text in played.texts:
        texts_by[text.number].append(text.at)
    waits = [
        first_out[number] - times[0]
        for number, times in texts_by.items()
        if len(times) == 1 and expected.per_number.get(number) and number in first_out
    ]
    report.reply_after = percentiles(waits)
    template = content.texts[content.sms.replies["crisis_alert"]][0]
    openings = {
        fill(content, template.text(language), language, "sms", {"ref": "\0"}).split("\0")[0]
        for language in content.languages
    }
    alerts = sorted(
        m.date_created.timestamp() for m in sent if any(m.body.startswith(o) for o in openings)
    )
    crisis_texts = sorted(
        t.at for t in played.texts if read_text(t.body, content).intent is Intent.CRISIS
    )
    counselors = max(1, round(len(alerts) / max(1, len(crisis_texts))))
    firsts = alerts[::counselors]
    report.crisis_alert_after = percentiles(
        [max(0.0, a - t) for a, t in zip(firsts, crisis_texts, strict=False)]
    )


# -- Redis and the logs -------------------------------------------------------------------


def check_redis(report: Report, client: redis.Redis) -> None:
    queue = Queue(QUEUE_NAME, connection=client)
    failed = FailedJobRegistry(queue=queue)
    report.failed_jobs = failed.count
    reasons = []
    for job_id in failed.get_job_ids()[:MAX_LISTED]:
        job = queue.fetch_job(job_id)
        last = (job.exc_info or "").strip().splitlines()[-1:] if job else []
        reasons.append(f"{job.func_name if job else job_id}: {last[0] if last else '?'}")
    _listed(report, reasons, "failed job")
    for key in client.scan_iter("outbox:*", count=1000):
        if client.type(key) != b"hash":
            continue
        status = client.hget(key, "status")
        if isinstance(status, bytes):
            report.outbox[status.decode()] += 1
    unfinished = {s: n for s, n in report.outbox.items() if s not in ("sent", "blocked")}
    if unfinished:
        report.notes.append(f"outbox batches not sent: {unfinished}")


def check_logs(report: Report, logs: dict[str, Path]) -> None:
    server_ms: list[float] = []
    for name, path in logs.items():
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            access = ACCESS.search(line)
            if access:
                server_ms.append(float(access["ms"]))
                if int(access["status"]) >= 500:
                    report.errors.append(f"{name}: {access['status']} for {access['path']}")
                continue
            if LOG_PROBLEM.search(line):
                # Fold numbers and ids so that one kind of line counts as one.
                folded = re.sub(r"\b[0-9a-f]{12,}\b|\d+", "#", line.split(" ", 2)[-1])[:140]
                report.log_lines[f"{name.split('-')[0]}: {folded}"] += 1
    report.server_latency = percentiles(server_ms)
    tracebacks = sum(n for line, n in report.log_lines.items() if "Traceback" in line)
    if tracebacks:
        report.errors.append(f"logs: {tracebacks} traceback(s) (see the log lines below)")


def measure(
    network: Network,
    played: Played,
    scenario: Scenario,
    content: Content,
    expected: TextExpectation,
    client: redis.Redis,
    logs: dict[str, Path],
    options: StackOptions,
) -> Report:
    report = Report()
    if not played.finished:
        report.errors.append(f"not finished within the budget: {', '.join(played.leftovers)}")
    check_webhooks(report, network.webhooks.log())
    with network.lock:
        report.rest_requests = len(network.requests)
    check_calls(report, network, played, scenario, options)
    check_texts(report, network, played, scenario, content, expected)
    check_redis(report, client)
    check_logs(report, logs)
    return report
