"""The sender's pace toward Twilio (ivr.ratelimit), against a real Redis."""

from __future__ import annotations

import time

import redis

from ivr.ratelimit import SendPacer


def _sends(pacer: SendPacer, count: int, hand_over: float = 0.0) -> list[tuple[float, float]]:
    """When each of `count` one-segment sends began and ended, each taking `hand_over` s."""
    times = []
    for _ in range(count):
        with pacer.sending(1):
            began = time.time()
            time.sleep(hand_over)
            times.append((began, time.time()))
    return times


def test_it_never_lets_four_texts_into_one_second_at_three_per_second(
    redis_client: redis.Redis,
) -> None:
    # 1000/3 ms rounded down (333) let the fourth text go at 999 ms.
    pacer = SendPacer(redis_client, "test:round", 3)
    sends = _sends(pacer, 4)
    assert sends[3][0] - sends[0][0] >= 1.0


def test_it_counts_the_gap_from_when_a_slow_send_ended(redis_client: redis.Redis) -> None:
    # A send that took 0.2 s to hand over: the next waits its full 1/rate after
    # that, or the two could reach Twilio closer together than the rate allows.
    pacer = SendPacer(redis_client, "test:slow", 5)
    first, second = _sends(pacer, 2, hand_over=0.2)
    assert second[0] - first[1] >= 0.2


def test_it_waits_for_nothing_when_pacing_is_off(redis_client: redis.Redis) -> None:
    pacer = SendPacer(redis_client, "test:off", 0)
    started = time.monotonic()
    _sends(pacer, 20)
    assert time.monotonic() - started < 0.5
    assert redis_client.get("ratelimit:test:off") is None
