"""Privacy, proven end to end (CONTRACT behaviour 6, issue #7 item 4).

One scenario plays everything that touches a person's number or words, through
the Twilio emulator and the real line, with every job run in this process so
its logs are captured too:

- a voicemail left when nobody is on call, which becomes a callback request,
  and a counselor who returns it (the line dials the person back);
- a full call: the caller walks the menu, asks for a "text me this", then for
  a counselor, who accepts; they talk and hang up;
- a text conversation: a keyword, a crisis text, "call me", STOP, START.

Then: no full phone number (callers', counselors', the line's, the backup's;
as digits or formatted) and no message body in any log record, at DEBUG for
every logger, nor in any RQ job (its args, kwargs, description, data, result),
looked at before and after the jobs ran; and every record that holds a
person's number or words expires within HELPLINE_RETENTION_DAYS.
"""

from __future__ import annotations

import importlib
import logging
import re
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pytest
import redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.serializers import DefaultSerializer

from ivr.callbacks.requests import Callbacks
from ivr.callbacks.urgent import UrgentItems
from ivr.contacts.records import Contacts, WrapUp
from ivr.jobs import QUEUE_NAME
from ivr.line import Line
from ivr.operators.accounts import Operator
from ivr.operators.audit import AuditLog
from ivr.operators.counselor_desk import CounselorDesk
from ivr.sms.outbox import LEASES, Outbox, batch_key, sid_key
from ivr.sms.status import StatusUpdates
from tests.live import LINE_NUMBER, MESSAGE_TO_CALL_BACK, LiveLine, eventually
from tests.rosters import COUNSELOR_A, COUNSELOR_B, store_always_on_call
from twilio_emulator import hangup, press, say, talk

CALLER = "+12025550123"  # calls, walks the menu, talks with a counselor
TEXTER = "+12025550177"  # texts the line
LEAVES_MESSAGE = "+12025550144"  # leaves a voicemail, is called back
PEOPLE = (CALLER, TEXTER, LEAVES_MESSAGE)
RETENTION_DAYS = 1  # the shortest allowed: any record kept longer shows

# What people wrote or said, each with a word found nowhere else, so that a
# body that reached a log or a job is recognised whole or in part.
KEYWORD_TEXT = "what about klonopin for my aunt Philomena Quarrington"
CRISIS_TEXT = "I took too many pills tonight and Philomena Quarrington is asleep"
CALL_ME_TEXT = "call me please, ask for Ottoline Vexworth"
SPOKEN = "this is Ottoline Vexworth, call me back please"
THREAD_TEXT = "it's Philomena, I need to talk to someone tonight"
COUNSELOR_NOTE = "Philomena Quarrington tapering; check in Friday"  # a wrap-up note
PEOPLES_WORDS = (KEYWORD_TEXT, CRISIS_TEXT, CALL_ME_TEXT, SPOKEN, THREAD_TEXT, COUNSELOR_NOTE)
MARKERS = ("Philomena", "Quarrington", "Ottoline", "Vexworth")


def number_pattern(number: str) -> re.Pattern[str]:
    """A North American number however it is written: +12025550123,
    12025550123, 2025550123, (202) 555-0123, 202.555.0123, +1 202 555 0123,
    %2B12025550123 (URL-encoded). The national ten digits, in three groups,
    with any of the usual separators between them; no boundaries, so the
    number inside a longer run of digits counts too."""
    digits = re.sub(r"\D", "", number)[-10:]
    assert len(digits) == 10, number
    gap = r"(?:[\s().\-/]|%20|%28|%29){0,4}"
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    return re.compile(rf"{area}{gap}{exchange}{gap}{line}")


def leaks(text: str, numbers: Iterable[str], bodies: Iterable[str]) -> list[str]:
    """What of these numbers and bodies `text` gives away."""
    found = [f"number {n}" for n in numbers if number_pattern(n).search(text)]
    found += [f"body {b!r}" for b in bodies if b in text]
    found += [f"word {m!r}" for m in MARKERS if m in text]
    return found


# -- what Redis holds, as text --------------------------------------------------


def _unpacked(raw: object) -> str:
    """A stored value as text; RQ's job data is zlib-compressed pickle, read
    here through RQ's own serializer."""
    if not isinstance(raw, bytes):
        return str(raw)
    try:
        return repr(DefaultSerializer.loads(zlib.decompress(raw)))
    except Exception:
        return raw.decode("utf-8", "replace")  # not job data: read it as text


def stored_text(client: redis.Redis, key: bytes) -> str:
    """Everything a key holds, whatever its type, as one string."""
    kind = _unpacked(client.type(key))
    parts: list[object] = []
    if kind == "string":
        parts = [client.get(key)]
    elif kind == "hash":
        for name, value in client.hgetall(key).items():
            parts += [name, value]
    elif kind == "list":
        parts = list(client.lrange(key, 0, -1))
    elif kind == "set":
        parts = list(client.smembers(key))
    elif kind == "zset":
        parts = list(client.zrange(key, 0, -1))
    elif kind == "stream":
        for _, fields in client.xrange(key) or []:
            for name, value in (fields or {}).items():
                parts += [name, value]
    return _unpacked(key) + "\n" + "\n".join(_unpacked(p) for p in parts)


@dataclass
class JobPayloads:
    """Every RQ job seen, as text: looked at before it runs and after."""

    seen: dict[str, list[str]] = field(default_factory=dict)

    def look(self, client: redis.Redis) -> None:
        for key in client.scan_iter("rq:*"):
            name = key.decode()
            if name.startswith("rq:job:") and name.count(":") == 2:
                self._job(client, name.removeprefix("rq:job:"))
            # Results, registries and queues too: they hold ids, or a job's return value.
            self.seen.setdefault(name, []).append(stored_text(client, key))

    def _job(self, client: redis.Redis, job_id: str) -> None:
        try:
            job = Job.fetch(job_id, connection=client)
        except NoSuchJobError:
            return
        result = job.latest_result()
        decoded = [
            job.func_name or "",
            repr(job.args),
            repr(job.kwargs),
            job.description or "",
            repr(job.meta),
            repr(result.return_value) if result else "",
            (result.exc_string or "") if result else "",
        ]
        self.seen.setdefault(f"job {job_id}", []).append("\n".join(decoded))


# -- the scenario -----------------------------------------------------------------


def run_while(line: LiveLine, payloads: JobPayloads, done: Callable[[], bool]) -> None:
    """Run queued jobs here, as a worker would, until `done()`; the jobs'
    payloads are looked at before each run."""
    deadline = time.monotonic() + 60
    while True:
        payloads.look(line.redis)
        line.run_jobs()
        if done():
            break
        assert time.monotonic() < deadline, "the scenario did not finish in 60 s"
        time.sleep(0.05)
    payloads.look(line.redis)


def call_over(line: LiveLine, sid: str) -> Callable[[], bool]:
    return lambda: line.network.calls[sid].finished and line.network.live_leg(sid) is None


def play_everything(line: LiveLine) -> JobPayloads:
    network = line.network
    payloads = JobPayloads()
    callbacks = Callbacks(line.redis, line.settings.secret_key, 60)

    # A voicemail while nobody is on call: the other choices, 1 for a message.
    call = network.call_line(LEAVES_MESSAGE, *MESSAGE_TO_CALL_BACK, say(SPOKEN), hangup())
    run_while(line, payloads, call_over(line, call.sid))
    (voicemail_reference,) = callbacks.open_references()

    # Counselors come on call; one returns the call and reaches the person.
    store_always_on_call(line.redis)
    network.phone(COUNSELOR_A, press("1"), press("1"))
    network.phone(LEAVES_MESSAGE, talk(0.3))
    Queue(QUEUE_NAME, connection=line.redis).enqueue(
        "workers.callbacks.connect", voicemail_reference, "alex"
    )
    run_while(line, payloads, lambda: callbacks.get(voicemail_reference).get("status") == "done")

    # A full call: text me this (main menu 4, then 1), a counselor (0), who accepts.
    network.phone(COUNSELOR_A, press("1"))
    call = network.call_line(CALLER, press("4"), press("1"), press("0"), talk(0.5))
    run_while(line, payloads, call_over(line, call.sid))
    assert [m.body for m in network.sent_messages(to=CALLER)], "the text-me text was not sent"
    assert any(c.to == COUNSELOR_A and c.status == "completed" for c in network.calls.values())

    # A text conversation.
    for body in (KEYWORD_TEXT, CRISIS_TEXT, CALL_ME_TEXT, "STOP", "START"):
        network.text_line(TEXTER, body)
        run_while(line, payloads, lambda: True)

    # A conversation with a counselor at the desk: taken, both ways, closed,
    # wrapped up with a note.
    desk = CounselorDesk(
        Line(line.settings, line.content, line.redis).threads,
        UrgentItems(line.redis, line.settings.retention_seconds),
        Line(line.settings, line.content, line.redis).outbox,
        Contacts(line.redis, line.settings.retention_seconds),
        AuditLog(line.redis),
        line.content,
        Line(line.settings, line.content, line.redis).jobs,
        line.settings,
    )
    network.text_line(TEXTER, "TALK")
    run_while(line, payloads, lambda: True)
    thread_id = desk.threads.open_thread_of(TEXTER)
    assert thread_id is not None
    desk.take(thread_id, "alex")
    network.text_line(TEXTER, THREAD_TEXT)
    desk.say(thread_id, "alex", "I'm here. Tell me what's going on.")
    run_while(line, payloads, lambda: True)
    contact_id = desk.close(thread_id, "alex")
    alex = Operator("alex.r", "counselor", "password", counselor="alex")
    desk.wrap_up(contact_id, alex, WrapUp(("emotional_support",), "low", (), COUNSELOR_NOTE))
    network.wait_until(network.idle, timeout=10)  # delivery reports and hang-ups
    run_while(line, payloads, lambda: not Queue(QUEUE_NAME, connection=line.redis).count)
    return payloads


def every_number(line: LiveLine) -> list[str]:
    numbers = [*PEOPLE, COUNSELOR_A, COUNSELOR_B, LINE_NUMBER, line.settings.backup_number]
    assert line.settings.line_number == LINE_NUMBER
    return numbers


def every_body(line: LiveLine) -> list[str]:
    """People's words, and every text the line sent or answered with."""
    sent = [m.body for m in line.network.sent_messages()]
    return sorted({*PEOPLES_WORDS, *(b for b in sent if len(b) >= 12)})


# -- logs and job payloads ----------------------------------------------------------


def twilios_own(record: logging.LogRecord) -> bool:
    """The emulator's own access log (it serves Twilio's REST paths): what
    Twilio's servers see, numbers and all, is Twilio's, not the line's."""
    return record.name == "werkzeug" and " /2010-04-01/Accounts/" in record.getMessage()


def capture_everything(caplog: pytest.LogCaptureFixture) -> None:
    """DEBUG on the root logger and on every logger that exists, the
    libraries' and the line's own quiet one included. The jobs' modules are
    imported first, so that no logger is made (or pinned) after this."""
    for module in ("workers.alerts", "workers.callbacks", "workers.dispatch", "workers.outbox"):
        importlib.import_module(module)
    caplog.set_level(logging.DEBUG)
    names = ["helpline", "helpline.twilio_http", "werkzeug", "twilio", "twilio.http_client"]
    names += ["rq", "rq.worker", "rq.job", "rq.queue", "urllib3", "urllib3.connectionpool"]
    names += [str(name) for name in logging.root.manager.loggerDict]
    for name in sorted(set(names)):
        caplog.set_level(logging.DEBUG, logger=name)


def test_no_number_or_words_in_any_log_line_or_job(
    live_line: LiveLine, caplog: pytest.LogCaptureFixture
) -> None:
    capture_everything(caplog)
    payloads = play_everything(live_line)

    numbers, bodies = every_number(live_line), every_body(live_line)
    captured = {r.name.split(".")[0] for r in caplog.records}
    assert {"helpline", "rq", "werkzeug", "urllib3"} <= captured, captured
    assert any(r.levelno == logging.DEBUG for r in caplog.records), "DEBUG was not captured"
    logged = []
    for record in caplog.records:
        if twilios_own(record):
            continue
        line = f"{record.name}: {record.getMessage()}"
        if record.exc_info or record.exc_text or record.stack_info:
            line += "\n" + logging.Formatter().format(record)
        found = leaks(line, numbers, bodies)
        if found:
            logged.append(f"{found}: {line[:300]}")
    assert not logged, "\n".join(logged[:20])

    assert any(k.startswith("job ") for k in payloads.seen), "no job was looked at"
    in_jobs = [
        f"{where}: {leaks(text, numbers, bodies)}"
        for where, texts in payloads.seen.items()
        for text in texts
        if leaks(text, numbers, bodies)
    ]
    assert not in_jobs, "\n".join(in_jobs[:20])


# -- retention ------------------------------------------------------------------------

# Kept without expiry (or longer than retention) on purpose. None may hold a
# person's number or words: the test checks that by content, below.
KEPT = {
    "helpline:roster": "the roster: counselors' own numbers, kept while they serve",
    "optout:*": "opt-outs, by keyed hash only: STOP must hold until START (behaviour 3)",
    "stats:*": "daily figures, counts and counselor ids only, kept 400 days",
    "operator:*": "operator accounts (hashed secrets), sessions, throttles and the audit log",
    "callbacks:open": "index of open callback references; entries pruned as records expire",
    "callbacks:done": "index of recently done references, pruned to retention",
    "voicemails": "index of recording sids, pruned to retention",
    "dispatches:live": "index of dispatch ids of live calls, pruned after hours",
    "dispatch:deadlines": "index of dispatch ids due a look, removed when taken",
    "counselors:busy": "counselor ids on a call now, pruned after hours",
    "outbox:leases": "index of batch ids being sent, removed when done",
    "urgent:open": "index of urgent references not yet taken; pruned as records expire",
    "urgent:deadlines": "when each urgent item's next ladder step is due; removed when taken",
    "urgent:claimed": "'reference seconds-to-claim' by claim time, pruned to retention",
    "urgent:reached_backup": "a count of items that reached the backup line: one number",
    "rq:*": "RQ's queues, registries and workers: job ids (payloads checked above)",
    "threads:*": "indexes of conversation ids by state and deadline: dropped when closed or "
    "sent, and as their records expire",
    "contacts:by_start": "index of contact ids by start time, pruned to retention",
    "contacts:tally:*": "the reports' counts by quarter hour (by channel, code and counselor "
    "id too), no contact ids: a day past retention, so a day's last contact is counted while kept",
    "contacts:tally_days": "index of days with tallies, pruned to retention",
    "contacts:tallied:*": "a flag per tally version: every kept contact is counted in it",
}

# Records that must exist after the scenario, so that the check is not empty.
EXPECTED = (
    "callback:*",
    "voicemail:*",
    "crisis:CR-*",
    "urgent:CB-*",
    "outbox:*",
    "outbox:sid:*",
    "dispatch:*",
    "call:*:dispatch",
    "sms:conv:*",
    "sms:seen:*",
    "thread:TX-*",
    "contact:CT-*",
)


def _kept(key: str) -> str | None:
    for pattern, why in KEPT.items():
        if key == pattern or (pattern.endswith("*") and key.startswith(pattern[:-1])):
            return why
    return None


@pytest.mark.line_settings(HELPLINE_RETENTION_DAYS=str(RETENTION_DAYS))
def test_every_record_of_a_person_expires_within_retention(live_line: LiveLine) -> None:
    from fnmatch import fnmatchcase

    assert live_line.settings.retention_days == RETENTION_DAYS
    play_everything(live_line)
    retention = RETENTION_DAYS * 86400
    people, bodies = list(PEOPLE), list(PEOPLES_WORDS)
    problems, names = [], []
    for key in sorted(live_line.redis.scan_iter("*")):
        name = key.decode()
        ttl = live_line.redis.ttl(key)
        if ttl == -2:
            continue  # expired meanwhile
        names.append(name)
        personal = leaks(stored_text(live_line.redis, key), people, bodies)
        if personal and not 0 < ttl <= retention:
            problems.append(f"{name} holds {personal} with TTL {ttl}")
        elif not 0 < ttl <= retention and _kept(name) is None:
            problems.append(f"{name}: TTL {ttl}, not on the list of records kept on purpose")
        if _kept(name) and personal:
            problems.append(f"{name} is kept on purpose but holds {personal}")
    assert not problems, "\n".join(problems)
    missing = [p for p in EXPECTED if not any(fnmatchcase(n, p) for n in names)]
    assert not missing, f"the scenario left no {missing}: {names}"


def test_opt_outs_are_kept_by_hash_until_start(live_line: LiveLine) -> None:
    """The one record about a person kept without expiry holds no number."""
    live_line.network.text_line(TEXTER, "STOP")
    (key,) = list(live_line.redis.scan_iter("optout:*"))
    assert live_line.redis.ttl(key) == -1
    assert not leaks(stored_text(live_line.redis, key), [TEXTER], [])
    live_line.network.text_line(TEXTER, "START")
    eventually(lambda: not list(live_line.redis.scan_iter("optout:*")))


def test_a_late_status_callback_does_not_bring_back_an_expired_text(
    redis_client: redis.Redis,
) -> None:
    """The MessageSid pointer outlives its batch by the seconds the send took:
    a status arriving in between must not make the batch again, unexpiring."""
    redis_client.set(sid_key("SM" + "e" * 32), "goneforgood0000000000000:0", ex=60)
    assert not StatusUpdates(redis_client).record("SM" + "e" * 32, "delivered", "")
    assert not redis_client.exists(batch_key("goneforgood0000000000000"))


def test_the_sweeper_does_not_bring_back_an_expired_batch(redis_client: redis.Redis) -> None:
    queue = Queue(QUEUE_NAME, connection=redis_client)
    outbox = Outbox(redis_client, queue, "secret", 60)
    redis_client.zadd(LEASES, {"goneforgood0000000000000": 1})
    assert outbox.requeue_abandoned() == []
    assert not redis_client.exists(batch_key("goneforgood0000000000000"))
    assert queue.count == 0


def test_asking_twilio_whether_a_text_went_out_logs_no_number(
    live_line: LiveLine, caplog: pytest.LogCaptureFixture
) -> None:
    """A run that finds a part still "sending" (its worker died) lists the
    messages to that number at Twilio: a GET whose query names the number."""
    capture_everything(caplog)
    queue = Queue(QUEUE_NAME, connection=live_line.redis)
    batch = Outbox(live_line.redis, queue, live_line.settings.secret_key, 60).send(
        TEXTER, [KEYWORD_TEXT], cause="privacy-resend", kind="test"
    )
    live_line.redis.hset(batch_key(batch), "sending0", time.time() - 5)
    live_line.run_jobs()
    assert [m.body for m in live_line.network.sent_messages(to=TEXTER)] == [KEYWORD_TEXT]
    logged = [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if not twilios_own(r) and leaks(r.getMessage(), every_number(live_line), [KEYWORD_TEXT])
    ]
    assert not logged, "\n".join(logged)
    asked = [r.getMessage() for r in caplog.records if r.name == "urllib3.connectionpool"]
    assert any('"GET /2010-04-01/Accounts/' in m and "Messages.json?…" in m for m in asked)
