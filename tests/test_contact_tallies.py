"""The quarter-hour tallies the reports read (issue 20) always say what the
contacts say: after records, settles and wrap-ups in any order, each twice,
from threads racing, and after an upgrade that finds contacts never counted."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import redis
from rq import Queue

from ivr.contacts.records import OUTCOMES, Contact, Contacts, WrapUp, WrapUpLists
from ivr.contacts.tallies import DAY, QUARTER, TALLIED, VERSION, day_of
from ivr.jobs import QUEUE_NAME, Jobs
from tests.live import LiveLine

LISTS = WrapUpLists(
    frozenset({"information", "support"}), frozenset({"none", "low"}), frozenset({"988", "taper"})
)


def oracle(contacts: list[Contact]) -> Counter[str]:
    """What the tallies should hold, summed, worked out here from the contacts
    (the classification itself is pinned by hand below, in
    test_how_each_ending_is_counted)."""
    counts: Counter[str] = Counter()
    for c in contacts:
        counts.update(["offered", f"channel:{c.channel}", f"language:{c.language}"])
        counts[f"outcome:{c.outcome}"] += 1
        person = c.outcome in ("answered", "conversation") or (
            bool(c.counselor) and c.answered is not None
        )
        if person:
            counts["answered"] += 1
            if c.counselor:
                counts[f"counselor:{c.counselor}"] += 1
        elif c.outcome in ("abandoned", "opted_out"):
            counts["abandoned"] += 1
        else:
            counts["missed"] += 1
        if c.channel == "call":
            counts["calls"] += 1
            if person:
                counts["calls_answered"] += 1
                waited = c.waited_seconds or 0.0
                counts["wait_ms"] += round(waited * 1000)
                for limit in (20, 60):
                    counts[f"within:{limit}"] += waited <= limit
        counts.update(f"disposition:{d}" for d in c.dispositions)
        counts.update(f"referral:{r}" for r in c.referrals)
        if c.risk:
            counts[f"risk:{c.risk}"] += 1
    return +counts


def summed(store: Contacts, start: float, end: float) -> Counter[str]:
    """Core and detail counters of [START, END), as the reports read them."""
    total: Counter[str] = Counter()
    for _, name, count in store.tallies.core_between(start, end):
        total[name] += count
    total.update(store.tallies.detail_between(start, end))
    return +total


def quarter(moment: float) -> tuple[float, float]:
    """The quarter hour MOMENT is in: the finest window a tally can answer for."""
    start = moment - moment % QUARTER
    return start, start + QUARTER


def churn(store: Contacts, seed: int, count: int, now: float) -> None:
    """COUNT contacts recorded, some settled to another outcome or answered
    on a later try, some wrapped up; every step done twice."""
    rng = random.Random(seed)
    for n in range(count):
        started = now - rng.uniform(0, 3 * 86400)
        outcome = rng.choice(("answered", "abandoned", "voicemail", "unanswered", "conversation"))
        answered = started + rng.uniform(0, 90) if outcome in ("answered", "conversation") else None
        counselor = rng.choice(("alex", "sam")) if answered else ""
        source = f"dispatch:{seed}-{n}"
        for _ in range(2):
            contact_id, _ = store.record(
                source, channel=rng.choice(("call", "text")), language=rng.choice(("en", "es")),
                started=started, ended=started + 200, outcome=outcome, counselor=counselor,
                answered=answered,
            )  # fmt: skip
        if rng.random() < 0.3:
            later = rng.choice(OUTCOMES)
            for _ in range(2):
                store.settle(source, later, counselor="kim", answered=started + rng.uniform(0, 30))
        contact = store.get(contact_id)
        if contact is not None and contact.counselor and rng.random() < 0.6:
            wrap = WrapUp(
                (rng.choice(("information", "support")),), rng.choice(("none", "low")),
                tuple(rng.sample(("988", "taper"), rng.randint(0, 2))),
            )  # fmt: skip
            for _ in range(2):
                store.wrap_up(contact_id, contact.counselor, wrap, LISTS)


def test_the_tallies_say_what_the_contacts_say(redis_client: redis.Redis) -> None:
    store = Contacts(redis_client, 30 * 86400)
    now = time.time()
    churn(store, 1, 300, now)
    contacts = store.between(now - 4 * 86400, now + 1)
    assert len(contacts) == 300
    expected = oracle(contacts)
    assert expected["wait_ms"] > 0  # the churn did churn
    assert expected["disposition:support"] > 0
    assert summed(store, now - 4 * 86400, now + 1) == expected
    # Any window of whole quarters holds just the contacts that started in
    # it: within one day, across a day's end (the ends' quarters and the
    # whole days' totals), and whole days alone.
    for start, end in (
        (day_of(now - DAY) + 10 * QUARTER, day_of(now - DAY) + 50 * QUARTER),
        (day_of(now - 2 * DAY) + 77 * QUARTER, day_of(now) + 3 * QUARTER),
        (day_of(now - 3 * DAY), day_of(now)),
    ):
        inside = [c for c in contacts if start <= c.started < end]
        assert inside
        assert summed(store, start, end) == oracle(inside)


def test_racing_writers_still_agree(redis_client: redis.Redis) -> None:
    # Several processes' worth of writers at once (a settle racing a wrap-up
    # recounts what is stored, never what it read).
    now = time.time()
    pool = redis_client.connection_pool  # a connection per thread, taken from it
    stores = [Contacts(redis.Redis(connection_pool=pool), 86400 * 30) for _ in range(4)]
    threads = [
        threading.Thread(target=churn, args=(s, seed % 2, 150, now))
        for seed, s in enumerate(stores)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store = stores[0]
    contacts = store.between(now - 4 * 86400, now + 1)
    assert len(contacts) == 300  # two seeds, each source recorded once however many wrote it
    assert summed(store, now - 4 * 86400, now + 1) == oracle(contacts)


def test_contacts_from_before_the_tallies_are_counted_once_by_the_first_report(
    redis_client: redis.Redis,
) -> None:
    store = Contacts(redis_client, 30 * 86400)
    now = time.time()
    churn(store, 3, 80, now)
    # As a line upgraded from before the tallies finds its contacts: never counted.
    for key in [
        *redis_client.scan_iter("contacts:tally:*"),
        *redis_client.scan_iter("contacts:detail:*"),
    ]:
        redis_client.delete(key)
    for key in redis_client.scan_iter("contact:CT-*"):
        redis_client.hdel(key, f"counted:{VERSION}")
    redis_client.delete(f"{TALLIED}:{VERSION}")
    assert summed(store, now - 4 * 86400, now + 1) == Counter()
    assert store.tallied() is True
    expected = oracle(store.between(now - 4 * 86400, now + 1))
    assert summed(store, now - 4 * 86400, now + 1) == expected
    assert store.tallied() is False  # once
    assert summed(store, now - 4 * 86400, now + 1) == expected


def test_a_tally_holds_counts_only(redis_client: redis.Redis) -> None:
    store = Contacts(redis_client, 86400)
    now = time.time()
    contact_id, _ = store.record(
        "thread:T1", channel="text", language="es", started=now, ended=now + 60,
        outcome="conversation", counselor="alex", answered=now + 5,
    )  # fmt: skip
    store.wrap_up(contact_id, "alex", WrapUp(("support",), "low", (), "said he has no one"), LISTS)
    kept = [k for k in redis_client.scan_iter("contacts:*") if not k.startswith(b"contacts:wrap")]
    assert kept
    for key in kept:
        if redis_client.type(key) == b"hash":
            for name, value in redis_client.hgetall(key).items():
                assert b"no one" not in name
                int(value)  # a count, nothing else
        if key not in (b"contacts:by_start", b"contacts:tally_days"):  # indexes, trimmed
            assert 0 < redis_client.ttl(key) <= 2 * 86400


def test_how_each_ending_is_counted(redis_client: redis.Redis) -> None:
    """By hand: who answered, who left, who was missed, and what the service
    level (calls only) counts."""
    store = Contacts(redis_client, 86400)
    now = time.time()

    def record(
        source: str, channel: str, outcome: str, waited: float | None, who: str = ""
    ) -> None:
        store.record(
            source, channel=channel, language="en", started=now, ended=now + 300,
            outcome=outcome, counselor=who, answered=now + waited if waited is not None else None,
        )  # fmt: skip

    record("call:1", "call", "answered", 12, "alex")  # within 20 s and 60 s
    record("call:2", "call", "answered", 45, "alex")  # within 60 s only
    record("call:3", "call", "abandoned", None)
    record("call:4", "call", "voicemail", None)
    record("thread:1", "text", "conversation", 200, "sam")  # a person, not a call
    record("thread:2", "text", "opted_out", 30, "sam")  # STOP mid-conversation: answered
    record("thread:3", "text", "opted_out", None)  # STOP while waiting: abandoned
    record("callback:1", "callback", "answered", 7200, "kim")  # returned 2 h later
    record("callback:2", "callback", "unanswered", None)
    counted = summed(store, *quarter(now))
    assert (counted["offered"], counted["answered"], counted["abandoned"], counted["missed"]) == (
        9, 5, 2, 2,
    )  # fmt: skip
    assert (counted["calls"], counted["calls_answered"]) == (4, 2)
    assert (counted["within:20"], counted["within:60"]) == (1, 2)
    assert counted["wait_ms"] == 57_000  # the calls' waits only: no 2-hour callback
    assert counted["counselor:sam"] == 2


def test_a_changed_contact_leaves_no_zero_counter_behind(redis_client: redis.Redis) -> None:
    store = Contacts(redis_client, 86400)
    now = time.time()
    store.record(
        "dispatch:Z", channel="call", language="es", started=now, ended=now + 1,
        outcome="unanswered",
    )  # fmt: skip
    assert store.settle("dispatch:Z", "voicemail")
    fields = {
        name
        for key in redis_client.scan_iter("contacts:tally:*")
        for name, value in redis_client.hgetall(key).items()
        if int(value) == 0
    }
    assert fields == set()  # outcome:unanswered taken back and dropped, not kept at 0
    assert summed(store, *quarter(now))["outcome:voicemail"] == 1


def test_a_process_of_another_version_never_doubles_or_undoes_the_counts(
    redis_client: redis.Redis,
) -> None:
    """A rolling upgrade: this version counted a contact; a process of the
    older version (which wrote `counted` as plain "fields|wait", to its own
    keys) changes it and writes what it counted; this version recounts."""
    store = Contacts(redis_client, 86400)
    now = time.time()
    contact_id, _ = store.record(
        "dispatch:V", channel="call", language="en", started=now, ended=now + 1,
        outcome="unanswered",
    )  # fmt: skip
    key = f"contact:{contact_id}"
    # The older process settles it to a voicemail and counts that its own way.
    redis_client.hset(key, mapping={"outcome": "voicemail", "counted": "offered missed|0"})
    redis_client.hset(key, "counted:1", "offered missed calls outcome:voicemail|0")
    store.tallies.recount(key, now)
    store.tallies.recount(key, now)  # the sweep, again
    counted = summed(store, *quarter(now))
    assert (counted["offered"], counted["missed"], counted["calls"]) == (1, 1, 1)
    assert (counted["outcome:voicemail"], counted["outcome:unanswered"]) == (1, 0)
    # And a bulk recount by the older version's first report leaves this
    # version's flag alone: nothing is counted twice.
    assert store.tallied() is True
    redis_client.set(TALLIED, "1")  # what the older version sets
    assert store.tallied() is False
    assert summed(store, *quarter(now))["offered"] == 1


def test_the_sweep_counts_what_an_older_process_left_uncounted(live_line: LiveLine) -> None:
    """A rolling upgrade: after the first report recounted everything, a
    process of the older version records a contact without counting it. The
    worker's sweep job (workers.contacts.recount_recent) counts it."""
    store = Contacts(live_line.redis, 86400)
    now = time.time()
    assert store.tallied() is True  # the first report: nothing to recount yet
    contact_id, _ = store.record(
        "dispatch:OLD", channel="call", language="en", started=now, ended=now + 1,
        outcome="abandoned",
    )  # fmt: skip
    # As the older process left it: the contact, and no count of it.
    live_line.redis.hdel(f"contact:{contact_id}", f"counted:{VERSION}")
    for key in list(live_line.redis.scan_iter("contacts:tally:*")):
        live_line.redis.delete(key)
    assert summed(store, *quarter(now)) == Counter()
    Jobs(Queue(QUEUE_NAME, connection=live_line.redis)).recount_contacts()
    live_line.run_jobs()
    assert summed(store, *quarter(now))["abandoned"] == 1
