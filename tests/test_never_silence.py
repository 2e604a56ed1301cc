"""No silence: with Redis gone, a bug, or fields Twilio never sends, the caller
still hears the crisis numbers and is put through to the backup line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from ivr.app import create_app
from ivr.content.model import Content
from ivr.menu import engine as engine_module
from tests.conftest import RedisServer, make_settings
from tests.twilio_signing import CallFixture, TwilioSigner, spoken

BACKUP = "+12025550199"


def assert_safe_fallback(twiml_text: str) -> None:
    import xml.etree.ElementTree as ET

    twiml = ET.fromstring(twiml_text)  # noqa: S314 - our own response
    heard = spoken(twiml)
    assert "9 1 1" in heard
    assert "9 8 8" in heard
    assert [(n.text or "").strip() for n in twiml.iter("Number")] == [BACKUP]
    dial = twiml.find("Dial")
    assert dial is not None
    assert dial.attrib["action"].endswith("/voice/fallback-done")


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis this test may kill without disturbing the others."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fragile_app(own_redis: RedisServer, tmp_path: Path, content: Content) -> Flask:
    return create_app(make_settings(own_redis.url, tmp_path), content)


def test_redis_stopped_mid_call_gives_the_fallback_quickly(
    fragile_app: Flask, own_redis: RedisServer
) -> None:
    from tests.conftest import AUTH_TOKEN, PUBLIC_URL

    call = CallFixture(TwilioSigner(fragile_app.test_client(), PUBLIC_URL, AUTH_TOKEN))
    menu = call.start()
    own_redis.stop()
    response = call.twilio.post(
        menu.find("Gather").attrib["action"],  # type: ignore[union-attr]
        call.params(Digits="2"),
    )
    assert response.status_code == 200
    assert_safe_fallback(response.get_data(as_text=True))
    # And a new call while Redis is down gets the same.
    fresh = CallFixture(call.twilio)
    response = fresh.twilio.post("/voice/incoming", fresh.params())
    assert response.status_code == 200
    assert_safe_fallback(response.get_data(as_text=True))
    # Redis back: new calls work with no manual step.
    own_redis.start()
    again = CallFixture(call.twilio).start()
    assert again.find("Gather") is not None


def test_redis_is_asked_with_short_timeouts_and_no_retries(fragile_app: Flask) -> None:
    """A dead Redis must cost a caller a fraction of a second, not redis-py's
    default retries with backoff."""
    from ivr.line import Line

    line: Line = fragile_app.extensions["helpline"]
    kwargs = line.redis.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] <= 1
    assert kwargs["socket_connect_timeout"] <= 1
    assert kwargs["retry"].get_retries() == 0


def test_the_fallback_path_works_without_redis(
    fragile_app: Flask, own_redis: RedisServer, content: Content
) -> None:
    from tests.conftest import AUTH_TOKEN, PUBLIC_URL

    call = CallFixture(TwilioSigner(fragile_app.test_client(), PUBLIC_URL, AUTH_TOKEN))
    own_redis.stop()
    nobody = call.post("/voice/fallback-done", DialCallStatus="no-answer")
    assert nobody.find("Record") is not None
    assert "9 8 8" in spoken(nobody)
    goodbye = call.post(
        "/voice/fallback-recorded",
        RecordingSid="RE" + "2" * 32,
        RecordingUrl="https://api.twilio.com/x",
        RecordingDuration="5",
    )
    assert goodbye.find("Hangup") is not None
    finished = call.post("/voice/fallback-done", DialCallStatus="completed")
    assert [c.tag for c in finished] == ["Hangup"]


def test_an_internal_error_gives_the_fallback_in_the_callers_language(
    twilio: TwilioSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = CallFixture(twilio)
    spanish = call.press(call.start(), "9")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(engine_module.VoiceEngine, "answer", broken)
    response = twilio.post(
        spanish.find("Gather").attrib["action"],  # type: ignore[union-attr]
        call.params(Digits="2"),
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert_safe_fallback(text)
    assert 'language="es-US"' in text
    assert 'language="en-US"' not in text


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"CallSid": ""},
        {"CallSid": "CA123"},
        {"CallSid": "<Say>hi</Say>"},
        {"CallSid": "x" * 10000},
    ],
)
def test_malformed_fields_get_the_safe_reply(twilio: TwilioSigner, fields: dict[str, str]) -> None:
    response = twilio.post("/voice/incoming", fields)
    assert response.status_code == 200
    assert_safe_fallback(response.get_data(as_text=True))


def test_xml_in_fields_never_breaks_the_twiml(twilio: TwilioSigner) -> None:
    call = CallFixture(twilio, caller="<Hangup/>&\"'")
    twiml = call.start()
    assert twiml.find("Gather") is not None
    menu = call.say(twiml, "</Say><Hangup/> & 'quotes'")
    # Whatever the words are read as (a menu again, or the crisis path), the
    # call goes on: a Gather, or a person (Enqueue, Dial).
    assert {child.tag for child in menu} & {"Gather", "Enqueue", "Dial"}
