"""Several web processes and several workers on one Redis, as the line is scaled
out (docs/operations.md, "Scaling out and Redis"): two `helpline serve`
services behind a round-robin proxy, so consecutive webhooks of one call land
on different webs, and two `helpline worker` processes sharing the jobs. Then
one web and one worker are SIGKILLed mid-traffic, and the line answers through
the survivors. Real processes, real Redis, the emulator as Twilio."""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.job import Job
from rq.registry import (
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)

from ivr.callbacks.returning import CONNECTING
from ivr.content.model import Content
from ivr.jobs import QUEUE_NAME
from ivr.roster.model import Roster
from ivr.roster.parse import parse_roster
from ivr.roster.store import RosterStore
from ivr.routing.dispatches import DEADLINES, LIVE, Dispatches
from ivr.sms.outbox import LEASES
from loadtest.drive import Driver
from loadtest.scenario import (
    MESSAGE,
    Caller,
    Counselor,
    Scenario,
    Texter,
    expect_texts,
    numbers,
    roster_data,
)
from loadtest.stack import StackOptions
from tests.live import eventually
from tests.scaleout import ScaleOutStack
from twilio_emulator import Network, press, say, script, talk
from twilio_emulator.records import CallRecord

pytestmark = pytest.mark.multiprocess
LEASE_SECONDS = 10  # the shortest allowed: a dead worker's work is taken up soonest


@pytest.fixture
def pool() -> Iterator[str]:
    return numbers()


def accepting(number: str, cid: str, ring: float) -> Counselor:
    """A counselor whose phone rings `ring` s, who presses 1 and talks 2 s; one call at a time."""
    phone = script(steps=[press("1"), talk(2)], ring_seconds=ring, single_line=True)
    return Counselor(cid, number, ("en", "es"), phone, True)


@pytest.fixture
def stack(pool: Iterator[str], tmp_path: Path) -> Iterator[tuple[ScaleOutStack, list[Counselor]]]:
    rings = {"alex": 0.5, "blanca": 0.8, "chen": 0.6, "dana": 1.0}
    people = [accepting(next(pool), cid, ring) for cid, ring in rings.items()]
    roster = parse_roster(roster_data(people), "scale-out roster")
    options = StackOptions(workers=2, web_processes=1, web_threads=8, max_hold_seconds=30)
    line = ScaleOutStack(
        options, webs=2, extra_env={"HELPLINE_JOB_LEASE_SECONDS": str(LEASE_SECONDS)}
    )
    try:
        line.start(lambda client: store(client, roster))
        yield line, people
    finally:
        for name, log in line.logs().items():  # kept with the test's files, to read on failure
            if log.exists():
                (tmp_path / f"{name}.log").write_bytes(log.read_bytes())
        line.stop()


def store(client: redis.Redis, roster: Roster) -> None:
    RosterStore(client).save(roster)


def waiting_caller(number: str, at: float) -> Caller:
    return Caller(number, "wait:counselor", (press("1"),), at)


def bridged_to(record: CallRecord) -> list[str]:
    return [h["text"] for h in record.heard if h["kind"] == "bridged"]


def story(record: CallRecord) -> list[str]:
    """What a call heard and did, short: for an assertion's message."""
    return [f"{h['kind']}: {h['text'][:60]}" for h in record.heard] + [record.status]


def leftovers(client: redis.Redis) -> dict[str, int]:
    """Everything still queued, running, waiting or leased; all zero when the line is done."""
    queue = Queue(QUEUE_NAME, connection=client)
    return {
        "queued": queue.count,
        "running": StartedJobRegistry(queue=queue).count,
        "scheduled": ScheduledJobRegistry(queue=queue).count,  # type: ignore[no-untyped-call]
        "failed": FailedJobRegistry(queue=queue).count,
        "outbox leases": int(client.zcard(LEASES)),
        "dispatch deadlines": int(client.zcard(DEADLINES)),
        "dispatches live": int(client.zcard(LIVE)),
        "callbacks connecting": int(client.zcard(CONNECTING)),
    }


def settle(client: redis.Redis, timeout: float, ignore: set[str]) -> dict[str, int]:
    """Wait until nothing is left (bounded); what still is, if anything."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = {k: n for k, n in leftovers(client).items() if n and k not in ignore}
        if not remaining or time.monotonic() > deadline:
            return remaining
        time.sleep(0.2)


def texts_by_number(network: Network) -> Counter[str]:
    return Counter(m.to for m in network.sent_messages())


def test_two_webs_and_two_workers_serve_the_line_together_and_survive_losing_one_each(
    stack: tuple[ScaleOutStack, list[Counselor]], content: Content, pool: Iterator[str]
) -> None:
    line, people = stack
    network, client, proxy = line.network, line.redis_client(), line.proxy
    assert proxy is not None
    began = time.monotonic()

    # -- together: four callers at once for four counselors, a message left,
    # texts whose replies go through the outbox ------------------------------------
    callers = [waiting_caller(next(pool), 0.1 * n) for n in range(4)]
    asks_back = Caller(
        next(pool),
        "menu:asks for a callback",
        (press("3"), press("1"), press("1"), say(MESSAGE)),
        0.2,
    )
    bodies = ("KLONOPIN", "taper schedule?", "TREATMENT", "AYUDA", "HELP", "call me back")
    texters = [Texter(next(pool), (body,), 0.05 * n) for n, body in enumerate(bodies)]
    scenario = Scenario(people, [*callers, asks_back], texters, script(talk_seconds=5))
    played = Driver(network, client, scenario, text_concurrency=len(texters)).run(45)
    assert played.finished, played.leftovers
    together_seconds = time.monotonic() - began

    by_number = {caller.number: sid for sid, caller in played.calls.items()}
    counselor_numbers = {c.number for c in people}
    for caller in callers:
        record = network.calls[by_number[caller.number]]
        assert record.finished, story(record)
        assert not record.errors, story(record)
        assert bridged_to(record) in ([n] for n in counselor_numbers), story(record)
    # Four callers, four counselors: each with a different one.
    assert len({bridged_to(network.calls[by_number[c.number]])[0] for c in callers}) == 4
    recorded = network.calls[by_number[asks_back.number]]
    assert any(h["kind"] == "recorded" for h in recorded.heard), recorded.inspect()

    # Every dispatch: bridged, one acceptance, no counselor rung twice; and every
    # counselor call the emulator saw is one the line recorded (a ring job run
    # twice would show as a leg nobody recorded).
    dispatches = Dispatches(client, 3600)
    keys = [k.decode() if isinstance(k, bytes) else k for k in client.keys("dispatch:*:legs")]
    ids = [key.split(":")[1] for key in keys]
    assert len(ids) == 4
    recorded_legs: set[str] = set()
    for dispatch_id in ids:
        dispatch = dispatches.load(dispatch_id)
        assert dispatch is not None
        assert dispatch.state == "bridged", dispatch
        legs = dispatches.legs(dispatch_id)
        assert [leg.state for leg in legs].count("accepted") == 1, legs
        rung = Counter(leg.counselor for leg in legs)
        assert max(rung.values()) == 1, f"a counselor rung twice for one call: {legs}"
        recorded_legs |= {leg.call_sid for leg in legs}
    counselor_calls = {
        sid
        for sid, c in network.calls.items()
        if c.direction == "outbound-api" and c.to in counselor_numbers
    }
    assert counselor_calls == recorded_legs

    # Texts: each reply once, and each counselor one alert per callback request
    # (the text asking for one, the message left): none lost, none twice.
    expected = expect_texts(content, texters)
    want = Counter(expected.per_number)
    alert_parts = len(content.texts[content.sms.replies["callback_alert"]])
    for person in people:
        want[person.number] += (expected.callback_alerts + 1) * alert_parts
    assert texts_by_number(network) == want
    for key in client.scan_iter("outbox:*"):
        if key.count(b":") == 1 and key != LEASES.encode():
            batch = client.hgetall(key)
            assert batch[b"status"] == b"sent", batch
            assert b"requeued" not in batch, batch

    # Nothing left behind; no job failed.
    assert not settle(client, 0, ignore=set()), leftovers(client)

    # Both webs served, each call's webhooks spread over both; both workers ran jobs.
    served = proxy.served()
    assert set(served) == set(line.web_ports.values()), served
    assert min(served.values()) >= 10, served
    for caller in [*callers, asks_back]:
        sid = by_number[caller.number]
        ports = {f.port for f in proxy.forwarded if f.call_sid == sid}
        assert ports == set(line.web_ports.values()), (caller, ports)
    assert not proxy.refused
    assert not proxy.failed
    for name in line.web_ports:
        assert len(re.findall(r"POST /(voice|sms)/", line.log_of(name))) >= 10, name
    queue = Queue(QUEUE_NAME, connection=client)
    finished = FinishedJobRegistry(queue=queue).get_job_ids()
    ran_on = Counter(
        job.worker_name for job in Job.fetch_many(finished, connection=client) if job is not None
    )
    assert len(ran_on) == 2, ran_on
    assert min(ran_on.values()) >= 2, ran_on

    # -- one web and one worker die mid-traffic ---------------------------------------
    killed_at = time.monotonic()
    more_callers = [next(pool) for _ in range(2)]
    calls = [network.call_line(number, press("1")) for number in more_callers]
    more_texters = [(next(pool), body) for body in ("KLONOPIN", "Taper", "SAFETY", "rehab")]
    answers: dict[str, int | None] = {}
    rng = random.Random(4)

    def text(number: str, body: str) -> None:
        time.sleep(rng.uniform(0, 1.5))
        answers[number] = network.text_line(number, body).delivery.status

    texting = [threading.Thread(target=text, args=pair) for pair in more_texters]
    for thread in texting:
        thread.start()
    time.sleep(0.8)
    line.kill("web-2")
    line.kill("worker-2")
    survivor_port = line.web_ports["web-1"]

    # A new call after the loss reaches a counselor, through the survivors only.
    after = network.call_line(next(pool), press("1"))
    network.wait_for_call(after.sid, timeout=40)
    assert bridged_to(after) in ([n] for n in counselor_numbers), story(after)
    assert {f.port for f in proxy.forwarded if f.call_sid == after.sid} == {survivor_port}
    new_texter = next(pool)
    assert network.text_line(new_texter, "KLONOPIN").delivery.status == 200
    for thread in texting:
        thread.join(timeout=20)
    for call in calls:
        record = network.wait_for_call(call.sid, timeout=60)
        if not record.errors:  # unless a webhook of it was cut off with the dead web (502)
            assert bridged_to(record) in ([n] for n in counselor_numbers), story(record)

    # The survivors finish everything, the dead worker's leases taken up included.
    # (RQ notes a dead worker's job as abandoned only at its 10-minute upkeep.)
    remaining = settle(client, LEASE_SECONDS + 20, ignore={"running"})
    assert not remaining, (remaining, [story(network.calls[c.sid]) for c in calls])
    later = [Texter(n, (body,), 0) for n, body in [*more_texters, (new_texter, "KLONOPIN")]]
    want_after = expect_texts(content, later)
    eventually(lambda: texts_by_number(network)[new_texter] == want_after.per_number[new_texter])
    time.sleep(2)  # a doubled text would show by now
    got = texts_by_number(network)
    for number, _body in more_texters:
        if answers.get(number) == 200:  # the line took it: its reply, exactly once
            assert got[number] == want_after.per_number[number], (number, got[number])
        else:  # cut off with the web it reached (502): at most once
            assert got[number] <= want_after.per_number[number], (number, got[number])
    assert proxy.refused[line.web_ports["web-2"]] > 0  # the balancer met the dead web
    print(
        f"\ntogether: {together_seconds:.1f} s, served {dict(served)}, jobs by worker "
        f"{dict(ran_on)}; after the kill: {time.monotonic() - killed_at:.1f} s, "
        f"502s {dict(proxy.failed)}, texts answered {answers}"
    )
