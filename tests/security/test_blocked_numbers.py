"""Blocked numbers (issue #7, security review): an operator blocks a number
for a while; its calls get `<Reject>`, its texts no reply and nothing queued —
except a text that reads as a crisis, which is still answered at once with the
911/988 guidance (no counselor alerted, no callback opened, counted on the
block). Blocks are kept by keyed hash with a Redis expiry, and end by themselves.

Everything through signed webhooks, as Twilio sends them; one call through
the emulator, to show the network sees a refused call and no counselor rung.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
import redis
from rq import Queue

from ivr.callers.blocklist import (
    INDEX,
    MAX_SECONDS,
    BlockError,
    Blocklist,
    clean_reason,
    duration_seconds,
    phone_number,
)
from ivr.content.model import Content
from ivr.jobs import QUEUE_NAME
from ivr.platform.config import Settings
from ivr.platform.privacy import number_ref
from ivr.sms.optout import OptOuts
from tests.live import LiveLine
from tests.raw_replies import RawList
from tests.rosters import COUNSELOR_A, COUNSELOR_B, store_always_on_call
from tests.test_sms import Phone, inline, texts_of
from tests.twilio_signing import CallFixture, TwilioSigner
from twilio_emulator import press

BLOCKED = "+12025550144"  # the texter of tests.test_sms.Phone
OTHER = "+12025550145"


@pytest.fixture
def blocklist(redis_client: redis.Redis, settings: Settings) -> Blocklist:
    return Blocklist(redis_client, settings.secret_key)


@pytest.fixture
def phone(twilio: TwilioSigner, redis_client: redis.Redis) -> Phone:
    return Phone(twilio, redis_client, BLOCKED)


def role_texts(content: Content, role: str, language: str) -> list[str]:
    return texts_of(content, content.sms.replies[role], language)


def jobs(client: redis.Redis) -> list[str | None]:
    return [j.func_name for j in Queue(QUEUE_NAME, connection=client).get_jobs()]


# -- the store -------------------------------------------------------------------


def test_a_block_is_kept_by_keyed_hash_with_its_expiry_as_the_ttl(
    blocklist: Blocklist, redis_client: redis.Redis, settings: Settings
) -> None:
    _, block = blocklist.block("(202) 555-0144", "threats to counselors", by="cli:dana",
                               seconds=7 * 86400)  # fmt: skip
    ref = number_ref(settings.secret_key, BLOCKED)
    assert block.id == ref
    key = f"blocklist:{ref}"
    assert 7 * 86400 - 5 <= redis_client.ttl(key) <= 7 * 86400 + 1
    assert blocklist.is_blocked(BLOCKED)
    assert not blocklist.is_blocked(OTHER)
    # No number in clear anywhere: only its hash and its last four digits.
    stored = b" ".join(
        [k for k in cast(RawList, redis_client.keys("*"))]
        + [
            v
            for k in redis_client.keys("blocklist:n_*")
            for v in cast(RawList, redis_client.hvals(k))
        ]
        + cast(RawList, redis_client.zrange(INDEX, 0, -1))
    )
    assert b"2025550144" not in stored
    assert b"555-0144" not in stored
    assert redis_client.hget(key, "number") == "…0144".encode()


def test_the_list_is_masked_with_reason_and_expiry_and_drops_ended_blocks(
    redis_client: redis.Redis, settings: Settings
) -> None:
    now = [time.time()]
    blocklist = Blocklist(redis_client, settings.secret_key, clock=lambda: now[0])
    blocklist.block(BLOCKED, "prank calls", by="web:sam", seconds=2 * 3600)
    blocklist.block(OTHER, "abuse from +12025550199", by="web:sam", seconds=86400)
    listed = blocklist.list()
    assert [(b.number, b.reason, b.by) for b in listed] == [
        ("…0144", "prank calls", "web:sam"),
        ("…0145", "abuse from …0199", "web:sam"),  # numbers in a reason are masked too
    ]
    assert listed[0].until == datetime.fromtimestamp(now[0] + 2 * 3600, UTC)
    now[0] += 3 * 3600  # the first block has ended
    assert [b.number for b in blocklist.list()] == ["…0145"]
    assert redis_client.zcard(INDEX) == 1  # the index is pruned as it is read


def test_an_expired_block_lets_the_number_through(
    blocklist: Blocklist, redis_client: redis.Redis, phone: Phone, content: Content
) -> None:
    blocklist.block(BLOCKED, "prank", by="cli:dana", seconds=3600)
    assert inline(phone.send("klonopin")) == []
    assert phone.queued_bodies() == []
    key = f"blocklist:{blocklist.ref(BLOCKED)}"
    redis_client.pexpire(key, 1)  # Redis ends it, as it would at the hour
    time.sleep(0.01)
    assert not blocklist.is_blocked(BLOCKED)
    phone.send("klonopin")
    assert phone.queued_bodies() == [texts_of(content, "about_klonopin", "en")]
    assert blocklist.list() == []


def test_blocking_again_replaces_reason_and_expiry(blocklist: Blocklist) -> None:
    first_before, first = blocklist.block(BLOCKED, "prank", by="cli:dana", seconds=3600)
    before, after = blocklist.block("+1 202 555 0144", "threats", by="cli:dana",
                                    seconds=30 * 86400)  # fmt: skip
    assert first_before is None
    assert before is not None
    assert before.reason == "prank"
    assert after.reason == "threats"
    assert after.until > first.until
    assert len(blocklist.list()) == 1


@pytest.mark.parametrize(
    ("length", "seconds"), [("12h", 12 * 3600), ("30d", 30 * 86400), ("2w", 14 * 86400),
                            (" 365D ", 365 * 86400)],
)  # fmt: skip
def test_durations(length: str, seconds: int) -> None:
    assert duration_seconds(length) == seconds


@pytest.mark.parametrize("length", ["", "30", "d", "0h", "30m", "366d", "53w", "-1d", "1.5d"])
def test_durations_refused(length: str) -> None:
    with pytest.raises(BlockError):
        duration_seconds(length)


def test_a_block_is_bounded_and_needs_a_number_and_a_reason(blocklist: Blocklist) -> None:
    with pytest.raises(BlockError, match="365"):
        blocklist.block(BLOCKED, "x", by="t", seconds=MAX_SECONDS + 1)
    with pytest.raises(BlockError, match="365"):
        blocklist.block(BLOCKED, "x", by="t", until=datetime.now(UTC) + timedelta(days=400))
    with pytest.raises(BlockError, match="offset"):
        blocklist.block(BLOCKED, "x", by="t", until=datetime(2030, 1, 1))
    with pytest.raises(BlockError, match="hour"):
        blocklist.block(BLOCKED, "x", by="t", until=datetime.now(UTC) - timedelta(days=1))
    for number in ("", "anonymous", "12", "+1 (202) 555"):
        with pytest.raises(BlockError) as refused:
            blocklist.block(number, "x", by="t")
        assert refused.value.field == "number"
    with pytest.raises(BlockError) as refused:
        blocklist.block(BLOCKED, " \n\t", by="t")
    assert refused.value.field == "reason"
    assert blocklist.list() == []
    assert phone_number("(202) 555-0144") == BLOCKED
    assert clean_reason("a\x00b\nc") == "a b c"


# -- enforcement: calls ------------------------------------------------------------


def test_a_blocked_caller_is_rejected(twilio: TwilioSigner, blocklist: Blocklist) -> None:
    blocklist.block(BLOCKED, "prank calls", by="cli:dana")
    twiml = CallFixture(twilio, caller=BLOCKED).start()
    assert [child.tag for child in twiml] == ["Reject"]
    assert twiml[0].attrib == {"reason": "rejected"}
    # Anyone else still hears the greeting, crisis numbers first.
    other = CallFixture(twilio, caller=OTHER).start()
    assert other.find("Reject") is None
    assert "911" in " ".join((s.text or "") for s in other.iter("Say")).replace("9 1 1", "911")


def test_a_blocked_callers_call_rings_no_one(live_line: LiveLine) -> None:
    """Through the emulator: the network sees the call refused, no counselor rung."""
    store_always_on_call(live_line.redis)
    Blocklist(live_line.redis, live_line.settings.secret_key).block(
        BLOCKED, "prank calls", by="cli:dana"
    )
    network = live_line.network
    call = network.call_line(BLOCKED, press("1"))
    finished = network.wait_for_call(call.sid)
    live_line.run_jobs()
    assert finished.status == "no-answer"
    assert finished.start_time is None  # never answered: nothing billed
    dialled = [c.to for c in network.calls.values() if c.direction != "inbound"]
    assert dialled == []
    assert COUNSELOR_A not in dialled
    assert COUNSELOR_B not in dialled


# -- enforcement: texts ------------------------------------------------------------


@pytest.mark.parametrize("body", ["klonopin", "CALL me", "HELP", "hello", ""])
def test_a_blocked_texter_gets_no_reply_and_nothing_is_queued(
    phone: Phone, blocklist: Blocklist, redis_client: redis.Redis, body: str
) -> None:
    blocklist.block(BLOCKED, "abusive texts", by="cli:dana")
    reply = phone.send(body)
    assert list(reply) == []  # an empty <Response/>
    assert jobs(redis_client) == []
    assert redis_client.zcard("callbacks:open") == 0


def test_a_blocked_texter_in_crisis_is_still_answered_with_911_and_988(
    phone: Phone, blocklist: Blocklist, redis_client: redis.Redis, content: Content
) -> None:
    """The safety exception: a person blocked for abuse can still be a person in
    crisis. Answered at once, inline, with guidance that promises no contact;
    no counselor alerted, no callback opened; counted on the block."""
    blocklist.block(BLOCKED, "abusive texts", by="cli:dana")
    reply = inline(phone.send("I took too many pills"))
    assert reply == role_texts(content, "blocked_crisis", "en")
    assert any("911" in m for m in reply)
    assert any("988" in m for m in reply)
    assert not any("reach out" in m for m in reply)  # no promise the block would break
    assert jobs(redis_client) == []
    assert redis_client.zcard("callbacks:open") == 0
    # No crisis record (the decision figures, without words, are kept for all).
    assert [
        k
        for k in cast(RawList, redis_client.keys("crisis:*"))
        if not k.startswith(b"crisis:decisions:")
    ] == []
    spanish = inline(phone.send("tomé demasiadas pastillas"))
    assert spanish == role_texts(content, "blocked_crisis", "es")
    (block,) = blocklist.list()
    assert block.crisis_texts == 2
    assert block.last_crisis is not None
    # The same webhook again (Twilio retries when our answer was lost): answered again.
    sid = "SM" + "c" * 32
    assert inline(phone.send("suicide", sid=sid)) == inline(phone.send("suicide", sid=sid))


def test_stop_from_a_blocked_number_still_holds_after_the_block(
    phone: Phone, blocklist: Blocklist, redis_client: redis.Redis, settings: Settings
) -> None:
    blocklist.block(BLOCKED, "abusive texts", by="cli:dana")
    assert list(phone.send("STOP")) == []
    assert jobs(redis_client) == []  # no confirmation while blocked
    assert OptOuts(redis_client, settings.secret_key).is_opted_out(BLOCKED)
    blocklist.unblock(BLOCKED)
    phone.send("klonopin")
    assert phone.queued_bodies() == []  # still opted out


def test_an_unblocked_texter_is_answered_again(
    phone: Phone, blocklist: Blocklist, content: Content
) -> None:
    blocklist.block(BLOCKED, "abusive texts", by="cli:dana")
    phone.send("klonopin")
    assert blocklist.unblock("202-555-0144") is not None
    phone.send("klonopin")
    assert phone.queued_bodies() == [texts_of(content, "about_klonopin", "en")]
