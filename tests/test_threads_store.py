"""Text conversations with a person, as stored (issue 19): one holder at a
time however many take it at once, messages both ways in order, a counselor's
message only while they hold the thread, and nothing left behind by a close."""

from __future__ import annotations

import threading
import time
from typing import cast

import redis

from ivr.platform.privacy import number_ref
from ivr.threads.store import OPEN, WAITING, Threads
from tests.raw_replies import RawScored

TEXTER = "+12025550177"
SECRET = "test-secret"


def threads(client: redis.Redis) -> Threads:
    return Threads(client, SECRET, 3600)


def test_a_texter_has_one_open_thread_and_it_waits_to_be_taken(
    redis_client: redis.Redis,
) -> None:
    store = threads(redis_client)
    assert store.open(TEXTER, "es", "TX-AAAAAA") == ("TX-AAAAAA", True)
    assert store.open(TEXTER, "es", "TX-BBBBBB") == ("TX-AAAAAA", False)
    thread = store.get("TX-AAAAAA")
    assert thread is not None
    assert (thread.state, thread.holder, thread.language) == ("waiting", "", "es")
    assert store.waiting() == ["TX-AAAAAA"]
    assert store.number_of("TX-AAAAAA") == TEXTER
    assert thread.number_ref == number_ref(SECRET, TEXTER)  # a keyed hash, not the number
    assert redis_client.exists(store.key_of(TEXTER))  # what the SMS handler asks


def test_of_many_counselors_taking_it_at_once_exactly_one_holds_it(
    redis_client: redis.Redis,
) -> None:
    store = threads(redis_client)
    store.open(TEXTER, "en", "TX-AAAAAA")
    verdicts: dict[str, str] = {}
    start = threading.Barrier(8)

    def take(counselor: str) -> None:
        start.wait()
        verdicts[counselor] = threads(redis_client).claim("TX-AAAAAA", counselor)

    takers = [threading.Thread(target=take, args=(f"c{n}",)) for n in range(8)]
    for taker in takers:
        taker.start()
    for taker in takers:
        taker.join()
    (winner,) = [who for who, verdict in verdicts.items() if verdict == "won"]
    assert sorted(v for v in verdicts.values() if v != "won") == ["held"] * 7
    thread = store.get("TX-AAAAAA")
    assert thread is not None
    assert (thread.state, thread.holder) == ("held", winner)
    assert store.waiting() == []
    assert store.held_by(winner) == ["TX-AAAAAA"]
    assert store.claim("TX-AAAAAA", winner) == "yours"


def test_only_the_holder_writes_to_the_texter(redis_client: redis.Redis) -> None:
    store = threads(redis_client)
    store.open(TEXTER, "en", "TX-AAAAAA")
    assert store.say("TX-AAAAAA", "alex", "hello") is None  # nobody holds it yet
    store.claim("TX-AAAAAA", "alex")
    assert store.hear("TX-AAAAAA", "i need someone") == 0
    assert store.say("TX-AAAAAA", "blanca", "hi") is None
    assert store.say("TX-AAAAAA", "alex", "I'm here. What's going on?") == 1
    said = store.messages("TX-AAAAAA")
    assert [(m.seq, m.sender, m.status) for m in said] == [
        (0, "texter", "received"),
        (1, "alex", "queued"),
    ]
    assert [m.body for m in store.messages("TX-AAAAAA", after=0)] == ["I'm here. What's going on?"]


def test_a_crisis_message_stays_flagged_until_the_holder_answers(
    redis_client: redis.Redis,
) -> None:
    store = threads(redis_client)
    store.open(TEXTER, "en", "TX-AAAAAA")
    store.claim("TX-AAAAAA", "alex")
    store.hear("TX-AAAAAA", "i took all my pills", crisis=True)
    store.hear("TX-AAAAAA", "please", crisis=True)
    thread = store.get("TX-AAAAAA")
    assert thread is not None
    assert thread.crisis_at is not None
    first_flag = thread.crisis_at
    assert store.get("TX-AAAAAA").crisis_at == first_flag  # type: ignore[union-attr]
    assert store.messages("TX-AAAAAA")[0].crisis
    store.say("TX-AAAAAA", "alex", "Call 911 now. I'm staying with you.")
    assert store.get("TX-AAAAAA").crisis_at is None  # type: ignore[union-attr]


def test_the_holder_hands_it_on_or_back_and_nobody_else_can(redis_client: redis.Redis) -> None:
    store = threads(redis_client)
    store.open(TEXTER, "en", "TX-AAAAAA")
    store.claim("TX-AAAAAA", "alex")
    assert store.hand("TX-AAAAAA", "blanca", "carmen") == "not yours"
    assert store.hand("TX-AAAAAA", "alex", "blanca") == "ok"
    assert store.held_by("alex") == []
    assert store.held_by("blanca") == ["TX-AAAAAA"]
    assert store.say("TX-AAAAAA", "alex", "still me?") is None
    assert store.hand("TX-AAAAAA", "blanca", "") == "ok"  # back to the waiting pool
    assert store.waiting() == ["TX-AAAAAA"]
    assert store.claim("TX-AAAAAA", "carmen") == "won"


def test_closing_leaves_nothing_open_and_a_new_talk_opens_a_new_thread(
    redis_client: redis.Redis,
) -> None:
    store = threads(redis_client)
    store.open(TEXTER, "en", "TX-AAAAAA")
    store.claim("TX-AAAAAA", "alex")
    assert store.close("TX-AAAAAA", "alex", "resolved")
    assert not store.close("TX-AAAAAA", "alex", "resolved")  # once
    for index in (WAITING, OPEN, "threads:held:alex"):
        assert redis_client.zcard(index) == 0
    assert store.hear("TX-AAAAAA", "hello?") is None
    assert store.say("TX-AAAAAA", "alex", "bye") is None
    assert store.open_thread_of(TEXTER) is None
    assert store.open(TEXTER, "en", "TX-BBBBBB") == ("TX-BBBBBB", True)
    closed = store.get("TX-AAAAAA")
    assert closed is not None
    assert (closed.state, closed.closed_by, closed.closed_why) == ("closed", "alex", "resolved")


def two_said(client: redis.Redis) -> tuple[Threads, int, int]:
    """A conversation alex holds, and the sequences of the two messages alex wrote."""
    store = threads(client)
    store.open(TEXTER, "en", "TX-AAAAAA")
    store.claim("TX-AAAAAA", "alex")
    first = store.say("TX-AAAAAA", "alex", "one")
    second = store.say("TX-AAAAAA", "alex", "two")
    assert first is not None
    assert second is not None
    return store, first, second


def test_a_message_queued_and_never_handed_to_the_outbox_is_found(
    redis_client: redis.Redis,
) -> None:
    store, first, _ = two_said(redis_client)
    assert store.mark("TX-AAAAAA", first, "sent")
    time.sleep(0.01)
    assert [m.body for m in store.unsent("TX-AAAAAA", older_than=0)] == ["two"]
    assert store.unsent("TX-AAAAAA", older_than=60) == []


def test_hostile_text_is_kept_as_it_came(redis_client: redis.Redis) -> None:
    store = threads(redis_client)
    store.open(TEXTER, "en", "TX-AAAAAA")
    hostile = '<script>alert(1)</script> "\\u0000" ]] {{7*7}} \U0001f494' + "x" * 1600
    assert store.hear("TX-AAAAAA", hostile) == 0
    (message,) = store.messages("TX-AAAAAA")
    assert message.body == hostile
    store.mark("TX-AAAAAA", 0, "seen")  # rewritten by Lua's cjson: still the same words
    (message,) = store.messages("TX-AAAAAA")
    assert (message.body, message.status) == (hostile, "seen")


def test_an_unanswered_crisis_in_a_held_thread_comes_due_and_an_answer_stops_it(
    redis_client: redis.Redis,
) -> None:
    store = Threads(redis_client, SECRET, 3600, crisis_seconds=60)
    store.open(TEXTER, "en", "TX-AAAAAA")
    store.hear("TX-AAAAAA", "i took all my pills", crisis=True)  # waiting: replied at once
    assert store.crisis_due(time.time() + 61) == []
    store.open("+12025550178", "en", "TX-BBBBBB")
    store.claim("TX-BBBBBB", "alex")
    store.hear("TX-BBBBBB", "i took all my pills", crisis=True)
    assert store.crisis_due() == []
    assert store.crisis_due(time.time() + 61) == ["TX-BBBBBB"]
    store.say("TX-BBBBBB", "alex", "Call 911 now. I'm here.")
    assert store.crisis_due(time.time() + 61) == []


def test_a_silent_texter_comes_due_and_each_text_starts_the_clock_again(
    redis_client: redis.Redis,
) -> None:
    store = Threads(redis_client, SECRET, 3600, silence_seconds=600)
    store.open(TEXTER, "en", "TX-AAAAAA")
    assert store.quiet_due(time.time() + 590) == []
    assert store.quiet_due(time.time() + 601) == ["TX-AAAAAA"]
    store.claim("TX-AAAAAA", "alex")
    store.say("TX-AAAAAA", "alex", "are you still there?")  # the counselor's words do not
    assert store.quiet_due(time.time() + 601) == ["TX-AAAAAA"]
    time.sleep(0.01)
    store.hear("TX-AAAAAA", "yes")
    (due,) = cast(RawScored, redis_client.zrange("threads:quiet_due", 0, -1, withscores=True))
    assert due[1] > time.time() + 599
    store.close("TX-AAAAAA", "line", "texter silent")
    assert store.quiet_due(time.time() + 9999) == []


def test_a_message_the_outbox_never_got_comes_due_once(redis_client: redis.Redis) -> None:
    store, first, second = two_said(redis_client)
    store.mark("TX-AAAAAA", first, "sent")
    assert store.unsent_due() == []  # within the grace
    assert store.unsent_due(time.time() + 31) == [("TX-AAAAAA", second)]
    message = store.message("TX-AAAAAA", second)
    assert message is not None
    assert (message.body, message.status) == ("two", "queued")
    store.mark("TX-AAAAAA", second, "sent")
    assert store.unsent_due(time.time() + 31) == []
