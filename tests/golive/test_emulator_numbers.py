"""The emulator's IncomingPhoneNumbers: found, fetched and updated through the
official client as on Twilio, and followed when the line is called or texted."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.emulator.conftest import FakeLine
from tests.golive.conftest import CALLER, LINE_NUMBER, OTHER_NUMBER
from twilio_emulator import EmulatorServer, Network


def test_the_list_finds_a_number_by_phone_number(rest: Client, fake_line: FakeLine) -> None:
    found = rest.incoming_phone_numbers.list(phone_number=LINE_NUMBER)
    assert [n.phone_number for n in found] == [LINE_NUMBER]
    number = found[0]
    assert number.sid.startswith("PN")
    assert len(number.sid) == 34
    assert number.voice_url == fake_line.url + "/voice/incoming"
    assert number.sms_url == fake_line.url + "/sms/incoming"
    assert number.status_callback == fake_line.url + "/status"
    assert number.voice_fallback_url == ""
    assert number.voice_method == number.sms_method == "POST"
    assert number.capabilities == {"voice": True, "sms": True, "mms": True, "fax": False}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("+18885550100", {LINE_NUMBER}),
        ("888555", {LINE_NUMBER}),  # partial
        ("+1202555****", {OTHER_NUMBER}),  # `*` is any digit
        ("+19995550100", set()),
    ],
)
def test_the_phone_number_filter(rest: Client, pattern: str, expected: set[str]) -> None:
    assert {n.phone_number for n in rest.incoming_phone_numbers.list(phone_number=pattern)} == (
        expected
    )


def test_an_update_is_stored_and_returned_faithfully(rest: Client) -> None:
    sid = rest.incoming_phone_numbers.list(phone_number=LINE_NUMBER)[0].sid
    wanted = {
        "voice_url": "https://line.example.org/voice/incoming#ct=2000&rt=3000",
        "voice_method": "POST",
        "voice_fallback_url": "https://static.example.org/voice.xml",
        "voice_fallback_method": "GET",
        "status_callback": "https://line.example.org/voice/status",
        "status_callback_method": "POST",
        "sms_url": "https://line.example.org/sms/incoming#tt=5000",
        "sms_method": "POST",
        "sms_fallback_url": "https://static.example.org/sms.xml",
        "sms_fallback_method": "GET",
    }
    updated = rest.incoming_phone_numbers(sid).update(**wanted, friendly_name="Helpline")
    fetched = rest.incoming_phone_numbers(sid).fetch()
    for number in (updated, fetched):
        assert {name: getattr(number, name) for name in wanted} == wanted
        assert number.friendly_name == "Helpline"


@pytest.mark.parametrize(
    ("update", "code"),
    [
        ({"voice_url": "not a url"}, 21402),
        ({"sms_fallback_url": "ftp://example.org/x"}, 21402),
        ({"voice_method": "PUT"}, 21403),
        ({"voice_url": "", "voice_fallback_url": "https://static.example.org/voice.xml"}, 21405),
        ({"sms_url": "", "sms_fallback_url": "https://static.example.org/sms.xml"}, 21406),
    ],
)
def test_a_bad_update_is_refused_whole(rest: Client, update: dict[str, str], code: int) -> None:
    sid = rest.incoming_phone_numbers.list(phone_number=LINE_NUMBER)[0].sid
    before = rest.incoming_phone_numbers(sid).fetch()
    with pytest.raises(TwilioRestException) as refused:
        rest.incoming_phone_numbers(sid).update(status_callback="https://x.example.org/s", **update)
    assert (refused.value.code, refused.value.status) == (code, 400)
    after = rest.incoming_phone_numbers(sid).fetch()
    assert (after.status_callback, after.voice_url) == (before.status_callback, before.voice_url)


def test_an_unknown_number_is_a_404(rest: Client) -> None:
    with pytest.raises(TwilioRestException) as missing:
        rest.incoming_phone_numbers("PN" + "0" * 32).fetch()
    assert (missing.value.code, missing.value.status) == (20404, 404)


def test_a_call_follows_the_numbers_voice_url_and_method(
    emulator: EmulatorServer, network: Network, rest: Client, fake_line: FakeLine
) -> None:
    fake_line.documents["moved"] = "<Response><Say>Moved here.</Say></Response>"
    sid = rest.incoming_phone_numbers.list(phone_number=LINE_NUMBER)[0].sid
    rest.incoming_phone_numbers(sid).update(
        voice_url=fake_line.url + "/twiml/moved#ct=1000", voice_method="GET"
    )
    call = network.wait_for_call(network.call_line(CALLER).sid)
    assert [h["text"] for h in call.heard if h["kind"] == "say"] == ["Moved here."]
    fetched = fake_line.at("/twiml/moved")
    assert len(fetched) == 1
    assert fetched[0].signed
    assert "CallSid=" in fetched[0].url  # GET: the fields in the query string


def test_a_text_follows_the_numbers_sms_fallback_when_the_sms_url_fails(
    network: Network, rest: Client, fake_line: FakeLine
) -> None:
    fake_line.documents["sms-fallback"] = "<Response><Message>Fallback.</Message></Response>"
    sid = rest.incoming_phone_numbers.list(phone_number=LINE_NUMBER)[0].sid
    rest.incoming_phone_numbers(sid).update(
        sms_url=fake_line.url + "/twiml/missing",  # 404
        sms_fallback_url=fake_line.url + "/twiml/sms-fallback",
        sms_fallback_method="POST",
    )
    inbound = network.text_line(CALLER, "hello")
    assert [reply.body for reply in inbound.replies] == ["Fallback."]
    [hook] = fake_line.at("/twiml/sms-fallback")
    assert hook.signed
    assert hook.form["ErrorCode"] == "11200"
    assert hook.form["ErrorUrl"] == fake_line.url + "/twiml/missing"


def test_a_reset_restores_the_numbers_configuration(
    network: Network, rest: Client, fake_line: FakeLine
) -> None:
    sid = rest.incoming_phone_numbers.list(phone_number=LINE_NUMBER)[0].sid
    rest.incoming_phone_numbers(sid).update(voice_url="https://elsewhere.example.org/v")
    network.reset()
    [number] = rest.incoming_phone_numbers.list(phone_number=LINE_NUMBER)
    assert number.voice_url == fake_line.url + "/voice/incoming"
