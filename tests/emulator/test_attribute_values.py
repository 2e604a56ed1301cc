"""Attribute values out of Twilio's documented range: a warning (13xxx, the
verb runs with its default) or an error (the call ends), as Twilio's Error and
Warning Dictionary files each code — see docs/emulator.md, "Attribute values"."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from twilio.rest import Client
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from tests.emulator.conftest import CALLER, LINE_NUMBER, FakeLine
from tests.live import eventually
from twilio_emulator import Network, press, silence
from twilio_emulator.twiml_values import check_document, check_verb


def verb(xml: str) -> ET.Element:
    return ET.fromstring(xml)  # noqa: S314 - the test's own literal


def codes(xml: str) -> list[tuple[int | None, str]]:
    return [(problem.code, problem.level) for problem in check_verb(verb(xml))]


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        # <Say>: the voice and language pairs of the Text-to-Speech table.
        ('<Say voice="Polly.Joanna-Neural" language="en-US">Hi</Say>', []),
        ('<Say voice="Polly.Lupe-Neural" language="es-US">Hola</Say>', []),
        ('<Say voice="Polly.Aditi" language="hi-IN">Namaste</Say>', []),  # bilingual
        ('<Say voice="Google.es-US-Neural2-A" language="es-US">Hola</Say>', []),
        ('<Say voice="woman" language="es-MX">Hola</Say>', []),
        ('<Say voice="Polly.Lupe-Neural" language="en-US">Hi</Say>', [(None, "error")]),
        ('<Say voice="Polly.Joanna-Neural" language="es-US">Hola</Say>', [(None, "error")]),
        ('<Say voice="Google.en-US-Neural2-A" language="es-US">Hola</Say>', [(None, "error")]),
        ('<Say voice="Polly.Nobody-Neural">Hi</Say>', [(13511, "warning")]),
        ('<Say loop="-1">Hi</Say>', [(13510, "warning")]),
        ("<Say>  </Say>", [(13520, "warning")]),
        (f'<Say voice="Polly.Joanna">{"word " * 700}</Say>', [(13521, "warning")]),
        # <Gather> and what it nests.
        ('<Gather numDigits="0"/>', [(13314, "warning")]),
        ('<Gather timeout="-3"/>', [(13313, "warning")]),
        ('<Gather timeout="5" speechTimeout="auto"/>', []),
        ('<Gather timeout="auto"/>', [(13313, "warning")]),  # only speechTimeout takes "auto"
        ('<Gather speechTimeout="soon"/>', [(13327, "warning")]),
        ('<Gather speechModel="phone_call" speechTimeout="auto"/>', [(13335, "warning")]),
        ('<Gather input="keys"/>', [(13326, "warning")]),
        ('<Gather finishOnKey="x"/>', [(13310, "warning")]),
        ('<Gather method="PUT"/>', [(13312, "warning")]),
        ('<Gather language="en"/>', [(13512, "warning")]),
        ('<Gather language="de-DE" speechModel="phone_call"/>', [(13331, "warning")]),
        ('<Gather speechModel="whisper"/>', [(13334, "warning")]),
        ('<Gather actionOnEmptyResult="maybe"/>', [(13338, "error")]),
        ('<Gather><Say voice="Polly.Nobody">Hi</Say></Gather>', [(13321, "warning")]),
        ('<Gather><Say loop="x">Hi</Say></Gather>', [(13322, "warning")]),
        ("<Gather><Dial>+12025550111</Dial></Gather>", [(13320, "warning")]),
        # <Dial> and its nouns.
        ('<Dial timeout="0">+12025550111</Dial>', [(13212, "warning")]),
        ('<Dial timeout="601">+12025550111</Dial>', [(None, "warning")]),
        ('<Dial timeout="4">+12025550111</Dial>', [(None, "warning")]),
        ('<Dial timeout="600" timeLimit="14400">+12025550111</Dial>', []),
        ('<Dial timeLimit="0">+12025550111</Dial>', [(13216, "warning")]),
        ('<Dial callerId="the line">+12025550111</Dial>', [(13214, "warning")]),
        ('<Dial record="yes">+12025550111</Dial>', [(13217, "warning")]),
        ('<Dial record="record-from-answer-dual">+12025550111</Dial>', []),
        ('<Dial method="PUT">+12025550111</Dial>', [(13210, "warning")]),
        ('<Dial><Number method="PUT">+12025550111</Number></Dial>', [(13221, "warning")]),
        (f"<Dial><Queue>{'q' * 65}</Queue></Dial>", [(14213, "error")]),
        ("<Dial><Queue> </Queue></Dial>", [(14212, "error")]),
        # <Record>, <Pause>, <Play>, <Redirect>, <Enqueue>.
        ('<Record maxLength="0"/>', [(13612, "warning")]),
        ('<Record timeout="x"/>', [(13611, "warning")]),
        ('<Record finishOnKey="a"/>', [(13613, "warning")]),
        ('<Record playBeep="yes"/>', [(13616, "warning")]),
        ('<Record maxLength="180" finishOnKey="#" playBeep="true" timeout="10"/>', []),
        ('<Pause length="0"/>', [(13910, "warning")]),
        ('<Play loop="x">https://example.com/a.wav</Play>', [(13410, "warning")]),
        ('<Redirect method="PUT">/next</Redirect>', [(13710, "warning")]),
        ('<Enqueue method="PUT">help</Enqueue>', [(14201, "error")]),
    ],
)
def test_a_value_gets_twilios_documented_answer(
    xml: str, expected: list[tuple[int | None, str]]
) -> None:
    assert codes(xml) == expected


def test_hints_are_at_most_500_entries_of_100_characters() -> None:
    fine = Gather(hints=", ".join(f"word {n}" for n in range(500)))
    assert check_verb(verb(str(fine))) == []
    many = Gather(hints=", ".join(f"word {n}" for n in range(501)))
    assert [p.code for p in check_verb(verb(str(many)))] == [13330]
    long = Gather(hints=f"short, {'x' * 101}")
    assert [p.code for p in check_verb(verb(str(long)))] == [13330]


def test_a_whole_document_is_judged_verb_by_verb() -> None:
    response = VoiceResponse()
    response.say("Hola", voice="Polly.Lupe-Neural", language="es-US")
    response.append(Gather(num_digits=0, timeout=5))
    dial = Dial(timeout=30)
    dial.number("+12025550111")
    response.append(dial)
    twiml = ET.fromstring(str(response))  # noqa: S314 - built here
    assert [(p.verb, p.attribute, p.code) for p in check_document(twiml)] == [
        ("Gather", "numDigits", 13314)
    ]


WARNED = """<Response>
  <Gather numDigits="0" timeout="soon" action="/twiml/chosen">
    <Say>Press a key.</Say>
  </Gather>
  <Redirect>/twiml/chosen</Redirect>
</Response>"""
MISMATCHED = """<Response>
  <Say voice="Polly.Lupe-Neural" language="en-US">Hello.</Say>
  <Say>Never heard.</Say>
</Response>"""
EMPTY_RESULT = """<Response>
  <Gather actionOnEmptyResult="sometimes" action="/twiml/chosen"><Say>Press.</Say></Gather>
  <Say>Never heard.</Say>
</Response>"""
BYE = "<Response><Say>Goodbye.</Say><Hangup/></Response>"


def place(rest: Client, fake_line: FakeLine, document: str) -> str:
    created = rest.calls.create(
        to=CALLER, from_=LINE_NUMBER, url=f"{fake_line.url}/twiml/{document}"
    )
    return str(created.sid)


def test_a_warning_is_kept_and_the_call_goes_on_with_the_defaults(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    fake_line.documents.update(warned=WARNED, chosen=BYE)
    network.phone(CALLER, press("1"))
    sid = place(rest, fake_line, "warned")
    chosen = eventually(lambda: fake_line.at("/twiml/chosen"))[0]
    assert chosen.form["Digits"] == "1"  # numDigits fell back to "unlimited"
    record = network.wait_for_call(sid)
    assert record.errors == []
    warned = [(w["code"], w["attribute"], w["call_sid"]) for w in network.warnings]
    assert sorted(warned) == [(13313, "timeout", sid), (13314, "numDigits", sid)]
    assert record.inspect()["warnings"][0]["url"].endswith("/twiml/warned")


def test_a_voice_that_does_not_speak_the_language_ends_the_call(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    fake_line.documents.update(mismatched=MISMATCHED)
    network.phone(CALLER, silence())
    record = network.wait_for_call(place(rest, fake_line, "mismatched"))
    assert record.status == "completed"
    assert [h for h in record.heard if h["kind"] == "say"] == []
    assert [(e["code"], e["attribute"], e["value"]) for e in record.errors] == [
        (None, "language", "en-US")
    ]


def test_an_error_level_value_ends_the_call_before_the_verb(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    fake_line.documents.update(empty=EMPTY_RESULT, chosen=BYE)
    network.phone(CALLER, silence())
    record = network.wait_for_call(place(rest, fake_line, "empty"))
    assert [e["code"] for e in record.errors] == [13338]
    assert [h["text"] for h in record.heard if h["kind"] == "say"] == []
    assert fake_line.at("/twiml/chosen") == []
