"""The sender's pace toward Twilio (ivr.sms.pacing), against a real Redis.

Twilio takes a request at some moment between its start and its answer, so
the property checked is the pacer's own invariant: when a send starts, the
sends that started before it and ended less than a window ago (or have not
ended), with it, hold no more than the rate's segments."""

from __future__ import annotations

import threading
import time

import redis

from ivr.sms.pacing import SendPacer

Send = tuple[float, float, int]  # began, ended, segments


def _sends(pacer: SendPacer, count: int, hand_over: float = 0.0, segments: int = 1) -> list[Send]:
    """When each of `count` sends began and ended, each taking `hand_over` s."""
    times = []
    for _ in range(count):
        with pacer.sending(segments):
            began = time.time()
            time.sleep(hand_over)
            times.append((began, time.time(), segments))
    return times


def _worst_window(sends: list[Send], window: float = 1.0) -> int:
    """The most segments any send could have met at Twilio within `window`:
    its own, plus those of every send that began before it and ended less than
    `window` before it began (or later)."""
    ordered = sorted(sends)
    worst = 0
    for index, (began, _ended, segments) in enumerate(ordered):
        met = sum(s for b, e, s in ordered[:index] if e > began - window)
        worst = max(worst, met + segments)
    return worst


def test_it_never_lets_four_texts_into_one_second_at_three_per_second(
    redis_client: redis.Redis,
) -> None:
    # The first pacer rounded 1000/3 ms down (333) and let the fourth text go at 999 ms.
    pacer = SendPacer(redis_client, "test:round", 3)
    sends = _sends(pacer, 4)
    assert sends[3][0] - sends[0][1] >= 1.0
    assert _worst_window(sends) <= 3


def test_slow_sends_still_fit_the_window(redis_client: redis.Redis) -> None:
    # Each send takes 0.2 s to be answered: Twilio may take it at its start or
    # its end, so a send counts until a second after its answer.
    pacer = SendPacer(redis_client, "test:slow", 3)
    sends = _sends(pacer, 7, hand_over=0.2)
    assert _worst_window(sends) <= 3


def test_several_workers_share_one_window(redis_client: redis.Redis) -> None:
    pacer = SendPacer(redis_client, "test:shared", 4)
    sends: list[Send] = []
    lock = threading.Lock()

    def worker() -> None:
        mine = _sends(pacer, 3, hand_over=0.05)
        with lock:
            sends.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sends) == 12
    assert _worst_window(sends) <= 4


def test_a_text_longer_than_the_rate_goes_alone(redis_client: redis.Redis) -> None:
    pacer = SendPacer(redis_client, "test:long", 3)
    sends = _sends(pacer, 2, segments=5)
    # Nothing else counted when each went: one such text per window, never two.
    assert sends[1][0] - sends[0][1] >= 1.0


def test_a_send_whose_worker_died_stops_counting(redis_client: redis.Redis) -> None:
    pacer = SendPacer(redis_client, "test:died", 1, in_flight_ms=300)
    booked = pacer._acquire(1, max_wait_seconds=5)  # and never ended: the worker died
    assert booked
    began = time.time()
    _sends(pacer, 1)  # waits for the dead send's in-flight limit, not forever
    assert time.time() - began >= 0.25


def test_it_waits_for_nothing_when_pacing_is_off(redis_client: redis.Redis) -> None:
    pacer = SendPacer(redis_client, "test:off", 0)
    started = time.monotonic()
    _sends(pacer, 20)
    assert time.monotonic() - started < 0.5
    assert redis_client.get("ratelimit:test:off") is None
