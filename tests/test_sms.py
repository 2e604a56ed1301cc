"""Texting the line: keywords in both languages, compliance, the crisis fast
path, and replies queued once through the outbox."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import redis
from flask import Flask
from rq import Queue

from ivr.app import create_app
from ivr.callbacks.requests import Callbacks
from ivr.content.model import Content
from ivr.content.render import fill
from ivr.jobs import QUEUE_NAME
from ivr.line import Line
from ivr.platform.config import Settings
from ivr.platform.redis_store import decoded
from ivr.sms.outbox import batch_key
from ivr.sms.status import StatusUpdates
from tests.conftest import AUTH_TOKEN, PUBLIC_URL, RedisServer, make_settings
from tests.twilio_signing import CallFixture, TwilioSigner

TEXTER = "+12025550144"


def texts_of(content: Content, text_id: str, language: str) -> list[str]:
    return [fill(content, p.text(language), language, "sms") for p in content.texts[text_id]]


class Phone:
    """A texter's phone: sends signed inbound texts and reads what was queued."""

    def __init__(self, twilio: TwilioSigner, client: redis.Redis, number: str = TEXTER) -> None:
        self.twilio = twilio
        self.redis = client
        self.number = number

    def send(self, body: str, *, sid: str | None = None, **extra: str) -> ET.Element:
        params = {
            "MessageSid": sid or "SM" + secrets.token_hex(16),
            "From": self.number,
            "To": "+18885550100",
            "Body": body,
            "NumMedia": "0",
            "AccountSid": "AC" + "0" * 32,
            **extra,
        }
        response = self.twilio.post("/sms/incoming", params)
        assert response.status_code == 200, response.get_data(as_text=True)
        return ET.fromstring(response.get_data())  # noqa: S314 - our own response

    def queued(self) -> list[dict[str, str]]:
        """Every outbox batch queued so far, oldest first."""
        jobs = Queue(QUEUE_NAME, connection=self.redis).get_jobs()
        batches = [
            decoded(self.redis.hgetall(batch_key(str(j.args[0]))))
            for j in jobs
            if j.func_name == "workers.outbox.send_batch"
        ]
        return sorted(batches, key=lambda b: b["created"])

    def queued_bodies(self) -> list[list[str]]:
        return [
            [b[f"body{i}"] for i in range(int(b["parts"]))]
            for b in self.queued()
            if b["to"] == self.number
        ]


@pytest.fixture
def phone(twilio: TwilioSigner, redis_client: redis.Redis) -> Phone:
    return Phone(twilio, redis_client)


def inline(reply: ET.Element) -> list[str]:
    return [(m.text or "").strip() for m in reply.iter("Message")]


KEYWORDS = [
    ("KLONOPIN", "about_klonopin", "en"),
    ("klonopin?", "about_klonopin", "en"),
    ("Tell me about Klonopin please", "about_klonopin", "en"),
    ("taper", "stopping_safely", "en"),
    ("How do I taper safely", "stopping_safely", "en"),
    ("MIXING", "staying_safe", "en"),
    ("treatment", "treatment_options", "en"),
    ("find", "find_treatment", "en"),
    ("insurance", "insurance_cost", "en"),
    ("Benzodiacepina", "about_klonopin", "es"),
    ("dejar", "stopping_safely", "es"),
    ("quiero dejarlo", "stopping_safely", "es"),
    ("mezcla", "staying_safe", "es"),
    ("TRATAMIENTO", "treatment_options", "es"),
    ("buscar", "find_treatment", "es"),
    ("¿Cuánto es el costo?", "insurance_cost", "es"),
    ("seguro", "insurance_cost", "es"),
    # A word of both languages ("clonazepam") takes the language of the words around it.
    ("¿Qué es el clonazepam?", "about_klonopin", "es"),
    ("información sobre clonazepam", "about_klonopin", "es"),
    ("que es rivotril", "about_klonopin", "es"),
    ("What is clonazepam?", "about_klonopin", "en"),
]


@pytest.mark.parametrize(("body", "text_id", "language"), KEYWORDS)
def test_each_keyword_gets_its_text_in_the_senders_language(
    phone: Phone, content: Content, body: str, text_id: str, language: str
) -> None:
    reply = phone.send(body)
    assert inline(reply) == []  # not a crisis: the reply goes through the outbox
    assert phone.queued_bodies() == [texts_of(content, text_id, language)]


# AYUDA alone is Spanish for HELP: the compliance reply (tests/test_optout_reasonable.py).
@pytest.mark.parametrize("body", ["necesito ayuda", "Español", "espanol", "ESPAÑOL!"])
def test_spanish_keywords_switch_the_conversation_to_spanish(
    phone: Phone, content: Content, body: str
) -> None:
    phone.send(body)
    phone.send("klonopin")  # the same word in both languages: the conversation's language
    assert phone.queued_bodies() == [
        texts_of(content, "menu", "es"),
        texts_of(content, "about_klonopin", "es"),
    ]


def test_a_spanish_question_about_clonazepam_turns_the_conversation_spanish(
    phone: Phone, content: Content
) -> None:
    phone.send("klonopin")
    phone.send("¿qué es el clonazepam?")
    phone.send("klonopin")  # the same word in both languages: the conversation's, now Spanish
    assert phone.queued_bodies() == [
        texts_of(content, "about_klonopin", "en"),
        texts_of(content, "about_klonopin", "es"),
        texts_of(content, "about_klonopin", "es"),
    ]


def test_the_replies_start_with_a_capital_letter(phone: Phone) -> None:
    for body in ("HELP", "AYUDA", "hello?"):
        phone.send(body)
    sent = [part for batch in phone.queued_bodies() for part in batch]
    assert any(part.startswith("The Benzo Support Line:") for part in sent)
    assert any(part.startswith("La Línea de Apoyo Benzo:") for part in sent)
    assert all(not part[0].islower() for part in sent)


def test_english_switches_back(phone: Phone, content: Content) -> None:
    phone.send("ayuda")
    phone.send("English")
    assert phone.queued_bodies()[-1] == texts_of(content, "menu", "en")


@pytest.mark.parametrize(
    "body", ["hello?", "", "   ", "😀🙏", "x" * 1600, "what is this number", "INFO please"]
)
def test_anything_else_gets_the_menu(phone: Phone, content: Content, body: str) -> None:
    phone.send(body)
    menu = texts_of(content, "menu", "en")
    (queued,) = phone.queued_bodies()
    # The menu; and after it, for a text the crisis reader finds close to one,
    # one line about 988 (tests/test_crisis_texts.py).
    assert queued[: len(menu)] == menu
    assert queued[len(menu) :] in ([], texts_of(content, "near_crisis", "en"))


def test_a_picture_without_words_gets_the_menu(phone: Phone, content: Content) -> None:
    phone.send(
        "",
        NumMedia="1",
        MediaUrl0="https://api.twilio.com/media/ME1",
        MediaContentType0="image/jpeg",
    )
    assert phone.queued_bodies() == [texts_of(content, "menu", "en")]


def test_the_first_text_of_a_conversation_says_how_to_opt_out(phone: Phone) -> None:
    phone.send("hi")
    assert "STOP" in phone.queued_bodies()[0][0]


# Also what the operator gives Advanced Opt-Out to send (docs/operations.md).
@pytest.mark.parametrize("body", ["HELP", "help", "Info", " INFO. ", "help?"])
def test_help_gets_the_compliance_reply_with_every_required_part(
    phone: Phone, content: Content, body: str
) -> None:
    phone.send(body)
    (reply,) = phone.queued_bodies()
    text = " ".join(reply)
    assert content.line_name["en"].lower() in text.lower()  # the program's name
    assert "call this number" in text.lower()  # how to reach a person
    assert "988" in text
    assert "Msg&data rates may apply" in text
    assert "on request" in text.lower()  # how often messages come
    assert "STOP" in text


@pytest.mark.parametrize(
    "word",
    [
        "STOP",
        "stop",
        "StopAll",
        "UNSUBSCRIBE",
        "cancel",
        "END",
        "quit",
        "REVOKE",
        "optout",
        "Stop.",
    ],
)
def test_opt_out_words_opt_out_with_one_confirmation(
    phone: Phone, content: Content, word: str
) -> None:
    phone.send(word)
    phone.send(word)  # a second STOP confirms nothing more
    assert phone.queued_bodies() == [texts_of(content, "opted_out", "en")]
    batch = phone.queued()[0]
    assert batch["despite_opt_out"] == "1"


def test_after_stop_nothing_is_sent_from_any_path_until_start(
    phone: Phone, content: Content, twilio: TwilioSigner, redis_client: redis.Redis
) -> None:
    phone.send("STOP")
    phone.send("klonopin")
    phone.send("HELP")
    phone.send("call me")
    # "Text me this" from a call from the same number: nothing queued, and the caller is told.
    call = CallFixture(twilio, caller=TEXTER)
    menu = call.press(call.press(call.start(), "4"), "1")
    assert fill(content, content.prompts["text_unavailable"].text("en"), "en", "voice") in " ".join(
        (s.text or "") for s in menu.iter("Say")
    )
    assert phone.queued_bodies() == [texts_of(content, "opted_out", "en")]
    for word in ("START", "yes", "Unstop"):
        phone.send("STOP")
        phone.send(word)  # confirmed by Twilio's layer, not by the line
        phone.send("klonopin")
        assert phone.queued_bodies()[-2:] == [
            texts_of(content, "opted_out", "en"),
            texts_of(content, "about_klonopin", "en"),
        ]


def test_yes_inside_a_sentence_is_not_an_opt_in(phone: Phone) -> None:
    phone.send("STOP")
    phone.send("yes I want info")
    assert len(phone.queued_bodies()) == 1  # still opted out: nothing more


CRISIS = [
    ("I want to kill myself", "en"),
    ("i think i took too many pills", "en"),
    ("took to many klonopin", "en"),
    ("sucidal thoughts tonight", "en"),
    ("My brother is having a seizure", "en"),
    ("she overdosed", "en"),
    ("Quiero matarme", "es"),
    ("creo que tomé demasiadas pastillas", "es"),
    ("pienso en el suicido", "es"),
    ("mi hijo tiene una convulsión", "es"),
]


@pytest.mark.parametrize(("body", "language"), CRISIS)
def test_a_crisis_text_is_answered_inline_at_once(
    phone: Phone, content: Content, redis_client: redis.Redis, body: str, language: str
) -> None:
    reply = phone.send(body)
    assert inline(reply) == texts_of(content, "crisis_no_counselor", language)
    assert any("911" in m for m in inline(reply))
    assert any("988" in m for m in inline(reply))
    jobs = Queue(QUEUE_NAME, connection=redis_client).get_jobs()
    alerts = [j for j in jobs if j.func_name == "workers.alerts.alert_on_call"]
    assert len(alerts) == 1
    role, reference, item = alerts[0].args
    assert role == "crisis_alert"
    assert item.startswith("CB-")  # the urgent callback that climbs the ladder
    # The alert job carries a reference: no number, no words.
    raw = redis_client.hget(f"rq:job:{alerts[0].id}", "data") or b""
    assert b"2025550144" not in raw
    assert body.encode() not in raw
    assert redis_client.exists(f"crisis:{reference}")


def test_crisis_is_answered_even_after_stop(phone: Phone, content: Content) -> None:
    phone.send("STOP")
    reply = phone.send("I want to die")
    assert inline(reply) == texts_of(content, "crisis_no_counselor", "en")


def test_a_worried_text_gets_its_answer_whatever_it_is_read_as(phone: Phone) -> None:
    """Read as a crisis or not, a worried question is answered: a crisis reply
    (inline) is followed by the menu it asked for, never instead of it."""
    for body in ("I want to overcome this?", "is it safe to stop?", "how do I quit?"):
        before = len(phone.queued_bodies())
        phone.send(body)
        assert len(phone.queued_bodies()) == before + 1, body


def test_the_same_message_sid_twice_gets_one_reply(phone: Phone) -> None:
    phone.send("klonopin", sid="SM" + "a" * 32)
    phone.send("klonopin", sid="SM" + "a" * 32)
    assert len(phone.queued_bodies()) == 1


def test_a_repeated_crisis_webhook_alerts_once_but_answers_again(
    phone: Phone, redis_client: redis.Redis, content: Content
) -> None:
    """Twilio sends a webhook again only when our answer did not reach it."""
    phone.send("overdose", sid="SM" + "b" * 32)
    again = phone.send("overdose", sid="SM" + "b" * 32)
    assert inline(again) == texts_of(content, "crisis_no_counselor", "en")
    jobs = Queue(QUEUE_NAME, connection=redis_client).get_jobs()
    assert len([j for j in jobs if j.func_name == "workers.alerts.alert_on_call"]) == 1


def test_many_crisis_texts_from_one_person_alert_once_and_are_all_answered(
    phone: Phone, redis_client: redis.Redis, content: Content
) -> None:
    for words in ("I want to die", "please", "i took too many", "suicide"):
        reply = phone.send(words)
        if words != "please":
            assert inline(reply) == texts_of(content, "crisis_no_counselor", "en")
    jobs = Queue(QUEUE_NAME, connection=redis_client).get_jobs()
    assert len([j for j in jobs if j.func_name == "workers.alerts.alert_on_call"]) == 1


def test_call_me_queues_a_callback_and_confirms(
    phone: Phone, content: Content, redis_client: redis.Redis
) -> None:
    phone.send("Can you call me?")
    assert phone.queued_bodies() == [texts_of(content, "callback_confirmed", "en")]
    jobs = Queue(QUEUE_NAME, connection=redis_client).get_jobs()
    (alert,) = [j for j in jobs if j.func_name == "workers.alerts.alert_on_call"]
    assert alert.args[0] == "callback_alert"
    record = decoded(redis_client.hgetall(f"callback:{alert.args[1]}"))
    assert record["number"] == TEXTER
    assert record["source"] == "sms"


def test_asking_again_while_the_callback_is_open_is_the_same_request(
    phone: Phone, content: Content, redis_client: redis.Redis, settings: Settings
) -> None:
    phone.send("CALL")
    phone.send("call me please")
    confirmed = texts_of(content, "callback_confirmed", "en")
    assert phone.queued_bodies() == [confirmed, confirmed]  # each asking is answered
    callbacks = Callbacks(redis_client, settings.secret_key, settings.retention_seconds)
    (reference,) = callbacks.open_references()
    jobs = Queue(QUEUE_NAME, connection=redis_client).get_jobs()
    alerts = [j for j in jobs if j.func_name == "workers.alerts.alert_on_call"]
    assert [a.args for a in alerts] == [("callback_alert", reference)]
    callbacks.mark(reference, "done", by="test")
    phone.send("CALL")  # returned, then asked again: a new request
    (again,) = callbacks.open_references()
    assert again != reference


def test_records_expire(phone: Phone, redis_client: redis.Redis) -> None:
    phone.send("klonopin")
    phone.send("I want to die")
    for pattern in ("outbox:*", "sms:conv:*", "crisis:*", "callback:*"):
        keys = [k for k in redis_client.scan_iter(pattern) if b":lock" not in k]
        assert keys, pattern
        for key in keys:
            if redis_client.type(key) == b"hash":
                assert 0 < redis_client.ttl(key) <= 30 * 86400, key


def test_status_callbacks_only_move_forward(phone: Phone, redis_client: redis.Redis) -> None:
    phone.send("klonopin")
    batch_id = phone.queued()[0]
    key = next(k for k in redis_client.scan_iter("outbox:*") if redis_client.type(k) == b"hash")
    assert batch_id
    redis_client.hset(key, "sid0", "SM" + "c" * 32)
    redis_client.set("outbox:sid:SM" + "c" * 32, key.decode().split(":")[1] + ":0")
    updates = StatusUpdates(redis_client)
    assert updates.record("SM" + "c" * 32, "sent", "")
    assert updates.record("SM" + "c" * 32, "delivered", "")
    assert not updates.record("SM" + "c" * 32, "sent", "")  # late: ignored
    assert not updates.record("SM" + "c" * 32, "queued", "")
    assert redis_client.hget(key, "state0") == b"delivered"
    assert updates.record("SM" + "c" * 32, "undelivered", "30007")
    assert redis_client.hget(key, "state0_error") == b"30007"


def test_status_callback_for_an_unknown_message_changes_nothing(
    twilio: TwilioSigner, redis_client: redis.Redis
) -> None:
    response = twilio.post(
        "/sms/status", {"MessageSid": "SM" + "d" * 32, "MessageStatus": "delivered"}
    )
    assert response.status_code == 204
    assert redis_client.dbsize() == 0


def test_a_status_callback_before_its_sid_is_kept_finds_its_part_by_its_url(
    phone: Phone, twilio: TwilioSigner, redis_client: redis.Redis
) -> None:
    phone.send("klonopin")
    key = next(k for k in redis_client.scan_iter("outbox:*") if redis_client.type(k) == b"hash")
    batch_id = key.decode().split(":")[1]
    sid = "SM" + "e" * 32  # Twilio reports before the worker has kept the sid
    early = twilio.post("/sms/status", {"MessageSid": sid, "MessageStatus": "sent"})
    assert early.status_code == 204
    assert redis_client.hget(key, "state0") is None  # by its sid alone: lost
    answer = twilio.post(
        f"/sms/status?part={batch_id}:0", {"MessageSid": sid, "MessageStatus": "delivered"}
    )
    assert answer.status_code == 204
    assert redis_client.hget(key, "state0") == b"delivered"
    for hostile in ("../x:0", f"{batch_id}:0;", f"{batch_id}:1000", f"{batch_id}:0" + "0" * 40):
        failed = {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "30003"}
        assert twilio.post(f"/sms/status?part={hostile}", failed).status_code == 204
    assert redis_client.hget(key, "state0") == b"delivered"  # no part named: nothing moved
    parts = int(redis_client.hget(key, "parts") or 0)
    for index in ("00", str(parts), "999"):  # no part the batch has: no field made
        assert twilio.post(f"/sms/status?part={batch_id}:{index}", failed).status_code == 204
        assert redis_client.hget(key, f"state{index}") is None


def test_a_callback_for_another_message_on_the_same_part_changes_nothing(
    phone: Phone, twilio: TwilioSigner, redis_client: redis.Redis
) -> None:
    """A create that timed out is sent again (workers/outbox.py): both messages
    report to the part's URL, and only the one the part kept speaks for it."""
    phone.send("klonopin")
    key = next(k for k in redis_client.scan_iter("outbox:*") if redis_client.type(k) == b"hash")
    batch_id = key.decode().split(":")[1]
    kept, lost = "SM" + "1" * 32, "SM" + "2" * 32
    redis_client.hset(key, "sid0", kept)
    url = f"/sms/status?part={batch_id}:0"
    assert twilio.post(url, {"MessageSid": kept, "MessageStatus": "delivered"}).status_code == 204
    failed = {"MessageSid": lost, "MessageStatus": "failed", "ErrorCode": "30003"}
    assert twilio.post(url, failed).status_code == 204
    assert redis_client.hget(key, "state0") == b"delivered"
    assert redis_client.hget(key, "state0_error") is None


@pytest.fixture
def fragile_app(tmp_path: Path, content: Content) -> Flask:
    server = RedisServer(tmp_path / "redis")
    server.start()
    app = create_app(make_settings(server.url, tmp_path), content)
    app.config["test_redis"] = server
    return app


def test_without_redis_texts_still_get_a_helpful_reply(
    fragile_app: Flask, content: Content
) -> None:
    server: RedisServer = fragile_app.config["test_redis"]
    line: Line = fragile_app.extensions["helpline"]
    twilio = TwilioSigner(fragile_app.test_client(), PUBLIC_URL, AUTH_TOKEN)
    phone = Phone(twilio, line.redis)
    server.stop()
    assert inline(phone.send("klonopin")) == texts_of(content, "unavailable", "en")
    assert inline(phone.send("quiero morir")) == texts_of(
        content, "crisis_blocked", "es"
    )  # nothing recorded: no promise
    assert inline(phone.send("STOP")) == []  # never anything but compliance for STOP


def test_a_lost_sends_failure_before_the_kept_sid_is_undone(
    phone: Phone, twilio: TwilioSigner, redis_client: redis.Redis
) -> None:
    """A create timed out and the text was sent again: the lost first send's
    "failed" reached the part before the worker kept the second's sid. Kept,
    the part is the second's, not "failed" (a counselor would send again)."""
    phone.send("klonopin")
    key = next(k for k in redis_client.scan_iter("outbox:*") if redis_client.type(k) == b"hash")
    batch_id = key.decode().split(":")[1]
    lost, kept = "SM" + "3" * 32, "SM" + "4" * 32
    url = f"/sms/status?part={batch_id}:0"
    failed = {"MessageSid": lost, "MessageStatus": "failed", "ErrorCode": "30003"}
    assert twilio.post(url, failed).status_code == 204
    assert redis_client.hget(key, "state0") == b"failed"
    StatusUpdates(redis_client).keep_sid(batch_id, 0, kept, 3600)
    assert redis_client.hget(key, "state0") == b"queued"
    assert redis_client.hget(key, "state0_error") is None
    assert twilio.post(url, {"MessageSid": kept, "MessageStatus": "delivered"}).status_code == 204
    assert redis_client.hget(key, "state0") == b"delivered"
    # Its own early report is kept: no step back to "queued".
    StatusUpdates(redis_client).keep_sid(batch_id, 0, kept, 3600)
    assert redis_client.hget(key, "state0") == b"delivered"
    assert redis_client.get(f"outbox:sid:{kept}") == f"{batch_id}:0".encode()
