"""Repeat-abuse rate limits degrade, never silence (issue #7, security review).

The one automatic limit on a person is the per-number cap on replies
(HELPLINE_SMS_PER_RECIPIENT_PER_HOUR), checked where every text is sent. Over
it, the first reply of the hour becomes a notice — replies are paused, reply
CALL and a counselor will call back, 988 — and only then do replies stop for
the hour. CALL still opens a callback (and alerts the counselor on call)
while they are paused; crisis texts are answered inline whatever the count.
A caller asking for a "text me this" over the cap hears so on the call, with
a counselor offered, instead of being promised a text that would not come.
Calls themselves have no automatic limit: nobody is turned away for calling
often (an operator can block a number: see test_blocked_numbers).
"""

from __future__ import annotations

import pytest
import redis
from rq import Queue

from ivr.callbacks.requests import Callbacks
from ivr.content.model import Content
from ivr.content.render import fill
from ivr.jobs import QUEUE_NAME
from ivr.platform.config import Settings
from ivr.platform.privacy import number_ref
from ivr.platform.redis_store import decoded
from ivr.sms.optout import OptOuts
from ivr.sms.outbox import Outbox, batch_key, cap_key, cap_notice_key
from tests.live import LiveLine
from tests.rosters import COUNSELOR_A, store_always_on_call
from tests.twilio_signing import CallFixture, TwilioSigner, spoken

TEXTER = "+12025550166"
CAP = 3
capped = pytest.mark.line_settings(HELPLINE_SMS_PER_RECIPIENT_PER_HOUR=str(CAP))


def role_texts(content: Content, role: str, language: str) -> list[str]:
    return [
        fill(content, part.text(language), language, "sms")
        for part in content.texts[content.sms.replies[role]]
    ]


def received(line: LiveLine, number: str = TEXTER) -> list[str]:
    return [m.body for m in line.network.sent_messages(to=number)]


def outbox(line: LiveLine) -> Outbox:
    return Outbox(
        line.redis, Queue(QUEUE_NAME, connection=line.redis), line.settings.secret_key, 86400
    )


@capped
def test_a_texter_over_the_cap_is_told_once_and_can_still_reach_a_person(
    live_line: LiveLine, content: Content
) -> None:
    store_always_on_call(live_line.redis)
    network = live_line.network
    for _ in range(CAP + 3):
        network.text_line(TEXTER, "hello")  # the menu, two parts, each time
        live_line.run_jobs()
    menu, notice = role_texts(content, "menu", "en"), role_texts(content, "rate_limited", "en")
    assert received(live_line) == menu * CAP + notice
    assert any("CALL" in part for part in notice)
    assert any("988" in part for part in notice)

    # Replies are paused, but CALL still puts the request in a counselor's hands.
    network.text_line(TEXTER, "CALL")
    live_line.run_jobs()
    assert received(live_line) == menu * CAP + notice  # its confirmation is capped
    callbacks = Callbacks(live_line.redis, live_line.settings.secret_key, 3600)
    (reference,) = callbacks.open_references()
    assert callbacks.get(reference)["number"] == TEXTER
    assert any(reference in body for body in received(live_line, COUNSELOR_A))  # alerted

    # And a crisis is answered at once, in the webhook's own response.
    reply = network.text_line(TEXTER, "I want to die")
    assert [m.body for m in reply.replies] == role_texts(
        content, "crisis", "en"
    )  # someone is on call


@capped
def test_the_notice_is_in_the_texters_language(live_line: LiveLine, content: Content) -> None:
    for n in range(CAP + 2):
        outbox(live_line).send(TEXTER, [f"texto {n}"], cause=f"es{n}", kind="menu", language="es")
    live_line.run_jobs()
    notice = role_texts(content, "rate_limited", "es")
    assert received(live_line) == [f"texto {n}" for n in range(CAP)] + notice


@capped
def test_the_notice_goes_once_an_hour_and_once_however_often_its_job_runs(
    live_line: LiveLine, content: Content
) -> None:
    made = [
        outbox(live_line).send(TEXTER, ["a", "b", "c"], cause=f"n{n}", kind="menu")
        for n in range(CAP + 4)
    ]
    live_line.run_jobs()
    notice = role_texts(content, "rate_limited", "en")
    assert received(live_line)[-len(notice) :] == notice
    assert received(live_line).count(notice[0]) == 1
    states = [decoded(live_line.redis.hgetall(batch_key(b))) for b in made]
    assert [s["status"] for s in states] == ["sent"] * (CAP + 1) + ["capped"] * 3
    assert states[CAP]["replaced"] == "rate_limited"
    assert "body2" not in states[CAP]  # what it was to say is not kept
    ref = number_ref(live_line.settings.secret_key, TEXTER)
    assert 0 < live_line.redis.ttl(cap_notice_key(ref)) <= 3600
    outbox(live_line).enqueue(made[CAP], attempt=1)  # as if RQ or the sweeper ran it again
    live_line.run_jobs()
    assert received(live_line).count(notice[0]) == 1


@capped
def test_a_stop_confirmation_over_the_cap_is_never_turned_into_the_notice(
    live_line: LiveLine, content: Content
) -> None:
    for n in range(CAP):
        outbox(live_line).send(TEXTER, [f"text {n}"], cause=f"s{n}", kind="menu")
    live_line.run_jobs()
    OptOuts(live_line.redis, live_line.settings.secret_key).opt_out(TEXTER, "stop keyword")
    stop = outbox(live_line).send(
        TEXTER, ["You will get no more messages."], cause="stop", kind="opted-out",
        despite_opt_out=True,
    )  # fmt: skip
    live_line.run_jobs()
    assert received(live_line) == [f"text {n}" for n in range(CAP)]
    assert decoded(live_line.redis.hgetall(batch_key(stop)))["status"] == "capped"


def test_text_me_over_the_cap_says_so_on_the_call_and_offers_a_person(
    twilio: TwilioSigner, content: Content, redis_client: redis.Redis, settings: Settings
) -> None:
    ref = number_ref(settings.secret_key, TEXTER)
    redis_client.set(cap_key(ref), settings.sms_per_recipient_per_hour)
    call = CallFixture(twilio, caller=TEXTER)
    twiml = call.press(call.press(call.start(), "4"), "1")  # text me the Klonopin facts
    limited = fill(content, content.prompts["text_limited"].text("en"), "en", "voice")
    assert limited in spoken(twiml)
    assert "sending this" not in spoken(twiml)
    assert twiml.find("Gather") is not None  # the call goes on, a counselor on key 0
    assert Queue(QUEUE_NAME, connection=redis_client).get_jobs() == []
    # One under the cap, the text is queued as usual.
    redis_client.set(cap_key(ref), settings.sms_per_recipient_per_hour - 1)
    call = CallFixture(twilio, caller=TEXTER)
    twiml = call.press(call.press(call.start(), "4"), "1")
    assert limited not in spoken(twiml)
    assert len(Queue(QUEUE_NAME, connection=redis_client).get_jobs()) == 1


def test_every_role_of_the_limits_is_in_every_language(content: Content) -> None:
    for language in content.languages:
        assert role_texts(content, "rate_limited", language)
        assert content.prompts["text_limited"].text(language)
