"""Twilio misbehaving: slow (past the client's 5 s timeout), 5xx, 429, the
connection reset. Transient failures are tried again within bounds and never
send or ring twice; permanent ones (21211, 21610) are not tried again; no job
retries forever; what fails for good is shown to operators (the Now page, the
failed-jobs page, `helpline jobs failed`, `GET /api/v1/jobs/failed`).

Texts meeting the same faults: tests/test_outbox.py (429 twice, 500, a dropped
connection, 50 × 429, 21211/21614/21408, 21610). Here: returning a call
(workers.callbacks.connect) and ringing counselors (workers.dispatch.ring)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, TypedDict

import pytest
from click.testing import CliRunner
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry

from ivr.app import create_app
from ivr.callbacks.requests import Callbacks
from ivr.cli.main import main
from ivr.jobs import CONNECT_RETRY_INTERVALS, QUEUE_NAME, Jobs
from ivr.jobs import SEND_RETRY_INTERVALS as RETRY_INTERVALS
from ivr.line import Line
from ivr.operators.accounts import Accounts
from ivr.operators.audit import AuditLog
from ivr.processes.worker import LineWorker
from tests.admin.login import PASSWORD, log_in
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL
from tests.live import LiveLine, eventually
from tests.rosters import COUNSELOR_A, store_always_on_call
from twilio_emulator import give_up, press, talk
from workers.context import install

PERSON = "+12025550177"
CALLER = "+12025550123"
TEXTER = "+12025550166"
# No job of the line is tried more than this often, nor for longer than this.
MOST_RETRIES = 4
LONGEST_RETRYING_SECONDS = 120


class TransientFault(TypedDict, total=False):
    """The options of the emulator's Fault (twilio_emulator.faults) used here."""

    code: int
    status: int
    drop: bool
    delay: float


TRANSIENT: dict[str, TransientFault] = {
    "429": {"code": 20429, "status": 429},
    "500": {"status": 500},
    "reset": {"drop": True},
    "slow": {"delay": 6.0},  # past the client's 5 s timeout; Twilio places the call anyway
}


def queue_of(line: LiveLine) -> Queue:
    return Queue(QUEUE_NAME, connection=line.redis)


def run_once(line: LiveLine) -> None:
    """Every job queued now, once; retries stay scheduled."""
    install(Line(line.settings, line.content, line.redis))
    try:
        LineWorker([queue_of(line)], connection=line.redis).work(burst=True)
    finally:
        install(None)


def bring_retries_forward(line: LiveLine) -> int:
    # rq's registry __init__ has no return annotation, so mypy calls it untyped.
    scheduled = ScheduledJobRegistry(queue=queue_of(line))  # type: ignore[no-untyped-call]
    waiting = scheduled.get_job_ids()
    for job_id in waiting:
        scheduled.remove(job_id)
        queue_of(line).enqueue_job(Job.fetch(job_id, connection=line.redis))
    return len(waiting)


def creates(line: LiveLine, what: str = "Calls.json") -> int:
    return sum(
        1 for r in line.network.requests if r["method"] == "POST" and r["path"].endswith(what)
    )


def calls_to(line: LiveLine, number: str) -> int:
    return sum(1 for c in line.network.calls.values() if c.to == number)


def a_callback(line: LiveLine) -> str:
    store_always_on_call(line.redis, ("alex", COUNSELOR_A, ["en"]))
    line.network.phone(COUNSELOR_A, answer="no-answer")
    return Callbacks(line.redis, line.settings.secret_key, 3600).create(PERSON, "en", "voicemail")


# -- returning a call --------------------------------------------------------------------


@pytest.mark.parametrize("fault", TRANSIENT, ids=list(TRANSIENT))
def test_a_callback_meeting_a_transient_fault_rings_the_counselor_once(
    live_line: LiveLine, fault: str
) -> None:
    reference = a_callback(live_line)
    live_line.network.fail_next("calls", count=1, **TRANSIENT[fault])
    Jobs(queue_of(live_line)).connect_callback(reference, "alex")
    run_once(live_line)
    if fault == "slow":
        # Twilio placed the call after the client gave up: the retry must find it.
        eventually(lambda: calls_to(live_line, COUNSELOR_A), timeout=10)
    assert bring_retries_forward(live_line) == 1, "a transient failure is tried again"
    run_once(live_line)
    assert calls_to(live_line, COUNSELOR_A) == 1
    assert FailedJobRegistry(queue=queue_of(live_line)).count == 0


def test_a_callback_gives_up_after_its_retries(live_line: LiveLine) -> None:
    reference = a_callback(live_line)
    live_line.network.fail_next("calls", count=50, code=20429, status=429)
    Jobs(queue_of(live_line)).connect_callback(reference, "alex")
    run_once(live_line)
    while bring_retries_forward(live_line):
        run_once(live_line)
    assert creates(live_line) == 1 + len(CONNECT_RETRY_INTERVALS)
    assert calls_to(live_line, COUNSELOR_A) == 0
    (job_id,) = FailedJobRegistry(queue=queue_of(live_line)).get_job_ids()
    assert Job.fetch(job_id, connection=live_line.redis).retries_left == 0
    # Not lost: the request is still open for the operators, and can be tried again.
    assert Callbacks(live_line.redis, "", 1).get(reference)["status"] == "open"
    assert not live_line.redis.exists(f"callback:{reference}:calling")


@pytest.mark.parametrize("code", [21211, 21610])
def test_a_callback_refused_for_good_is_not_tried_again(live_line: LiveLine, code: int) -> None:
    reference = a_callback(live_line)
    live_line.network.fail_next("calls", count=1, code=code)
    Jobs(queue_of(live_line)).connect_callback(reference, "alex")
    run_once(live_line)
    assert bring_retries_forward(live_line) == 0
    assert creates(live_line) == 1
    assert FailedJobRegistry(queue=queue_of(live_line)).count == 1


# -- ringing counselors for a caller -------------------------------------------------------


@pytest.mark.parametrize("fault", TRANSIENT, ids=list(TRANSIENT))
def test_a_caller_is_bridged_whatever_the_first_ring_met(live_line: LiveLine, fault: str) -> None:
    """The ring job goes on to the next counselor or round (at most
    HELPLINE_RING_ROUNDS times each) rather than retrying itself."""
    store_always_on_call(live_line.redis, ("alex", COUNSELOR_A, ["en"]))
    network = live_line.network
    network.phone(COUNSELOR_A, press("1"), talk(0.2))
    network.fail_next("calls", count=1, **TRANSIENT[fault])
    call = network.call_line(CALLER, press("1"))
    eventually(lambda: live_line.redis.exists("dispatch:deadlines"), timeout=20)
    for _ in range(5):
        run_once(live_line)
        if any(h["kind"] == "bridged" for h in network.calls[call.sid].heard):
            break
        time.sleep(1.0)
    network.wait_for_call(call.sid, timeout=30)
    assert any(h["kind"] == "bridged" for h in network.calls[call.sid].heard)
    rung = calls_to(live_line, COUNSELOR_A)
    assert rung == 1, "rung once: a failed create rang nobody, a slow one rang once"
    heard = " ".join(
        h["text"] for c in network.calls.values() if c.to == COUNSELOR_A for h in c.heard
    )
    assert "Another counselor took this call" not in heard, "no counselor is told a lie"


# -- no job retries forever ---------------------------------------------------------------


def test_every_job_the_line_queues_retries_a_bounded_number_of_times(
    live_line: LiveLine,
) -> None:
    """Each kind of job the line queues, made the way the line makes it: a
    text's reply, a crisis alert, a callback alert, a ring, a callback. Their
    retries are bounded in number and in time, and they carry references
    only — never a number or words."""
    store_always_on_call(live_line.redis, ("alex", COUNSELOR_A, ["en"]))
    network = live_line.network
    network.text_line(TEXTER, "klonopin")
    network.text_line(TEXTER, "call me")
    network.text_line("+12025550169", "I want to die")
    call = network.call_line(CALLER, press("1"), give_up(1.0))
    eventually(lambda: live_line.redis.exists("dispatch:deadlines"), timeout=20)
    reference = Callbacks(live_line.redis, "", 3600).create(PERSON, "en", "voicemail")
    Jobs(queue_of(live_line)).connect_callback(reference, "alex")
    jobs = [Job.fetch(i, connection=live_line.redis) for i in queue_of(live_line).job_ids]
    kinds = {job.func_name for job in jobs}
    assert kinds >= {
        "workers.outbox.send_batch",
        "workers.alerts.alert_on_call",
        "workers.dispatch.ring",
        "workers.callbacks.connect",
    }, kinds
    for job in jobs:
        tries = job.retries_left or 0
        waits = list(job.retry_intervals or [])
        assert tries <= MOST_RETRIES, (job.func_name, tries)
        # RQ waits intervals[n] before retry n, the last one again when they run out.
        total = sum(waits[min(n, len(waits) - 1)] for n in range(tries)) if waits else 0
        assert total <= LONGEST_RETRYING_SECONDS, (job.func_name, waits)
        payload = json.dumps([job.args, job.kwargs], default=str)
        for number in (TEXTER, CALLER, PERSON, "+12025550169"):
            assert number[2:] not in payload, job.func_name  # not even without "+1"
    assert sum(RETRY_INTERVALS) <= LONGEST_RETRYING_SECONDS
    network.wait_for_call(call.sid, timeout=30)


# -- failed jobs shown to operators ----------------------------------------------------------


def test_failed_jobs_are_shown_to_operators_and_can_be_run_again(
    live_line: LiveLine, tmp_path: Path
) -> None:
    reference = a_callback(live_line)
    live_line.network.fail_next("calls", count=1, code=21211)
    Jobs(queue_of(live_line)).connect_callback(reference, "alex")
    run_once(live_line)
    (job_id,) = FailedJobRegistry(queue=queue_of(live_line)).get_job_ids()

    # The API: which job, when, why; never its arguments.
    app = create_app(live_line.settings, live_line.content)
    client = app.test_client()
    _, token = Accounts(live_line.redis).create_token("ops", "viewer")
    answer = client.get("/api/v1/jobs/failed", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    (shown,) = answer.get_json()
    assert shown["id"] == job_id
    assert shown["function"] == "workers.callbacks.connect"
    assert shown["exception"] == "TransportError"
    assert shown["message"] == "Twilio error 21211 (HTTP 400)"
    assert shown["failed_at"]
    assert reference not in answer.get_data(as_text=True)

    # The Now page: a count, and a link to the list.
    Accounts(live_line.redis).set_password("sam", PASSWORD, "admin")
    assert log_in(client, "sam") in (302, 303)
    panel = client.get("/admin/now/panel").get_data(as_text=True)
    assert 'id="failed-jobs-count">1<' in panel
    assert "/admin/jobs" in panel
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert job_id in page
    assert "workers.callbacks.connect" in page
    assert reference not in page

    # The terminal: the same list, and a retry that is audited.
    env = cli_environment(live_line, tmp_path)
    listed = CliRunner().invoke(main, ["jobs", "failed"], env=env, catch_exceptions=False)
    assert job_id in listed.output
    assert "TransportError: Twilio error 21211" in listed.output
    retried = CliRunner().invoke(main, ["jobs", "retry", job_id], env=env, catch_exceptions=False)
    assert retried.exit_code == 0, retried.output
    assert job_id in queue_of(live_line).job_ids
    assert FailedJobRegistry(queue=queue_of(live_line)).count == 0
    (entry,) = [e for e in AuditLog(live_line.redis).recent(10) if e.action == "job.retry"]
    assert (entry.who, entry.target) == ("cli:dana", job_id)
    unknown = CliRunner().invoke(main, ["jobs", "retry", "nope"], env=env)
    assert unknown.exit_code != 0
    # Run again, with Twilio well now: the counselor is rung.
    run_once(live_line)
    assert calls_to(live_line, COUNSELOR_A) == 1


def cli_environment(line: LiveLine, tmp_path: Path) -> dict[str, Any]:
    return {
        "HELPLINE_ENV": "development",
        "REDIS_URL": line.settings.redis_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "HELPLINE_SECRET_KEY": line.settings.secret_key,
        "HELPLINE_PUBLIC_URL": PUBLIC_URL,
        "HELPLINE_VAR_DIR": str(tmp_path / "cli-var"),
        "LOGNAME": "dana",
    }
