"""Hostile input at every Twilio-facing route, signed as Twilio signs.

A valid signature proves only that Twilio sent the request, not that its fields
are sane: a caller chooses what they say (SpeechResult), a texter what they
type (Body), and a spoofed or odd caller id arrives as From. Whatever the
fields — huge, empty, unicode, control characters, NUL bytes, text where digits
belong, missing, repeated — and whatever the path segments, every route must
answer without a 5xx or a traceback: TwiML that parses (on the phone, every
<Gather> with a way on after it), an empty 2xx, or a plain 4xx refusal.

The routes come from the app's URL map (as in tests/test_signature.py), so a
new webhook is fuzzed without anyone remembering to add it here.
"""

from __future__ import annotations

import logging
import os
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import ClassVar, TypeVar, overload
from urllib.parse import quote_from_bytes, urlencode, urlparse

import pytest
import redis
import yaml
from flask import Flask, Response
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.routing import Rule
from werkzeug.test import EnvironBuilder, TestResponse
from werkzeug.wrappers import Request

from ivr.app import MAX_REQUEST_BYTES, create_app
from ivr.callbacks.requests import Callbacks
from ivr.content.check import load_content
from ivr.content.model import Content, CounselorNode, MenuNode, Node, VoicemailNode
from ivr.line import Line
from ivr.menu.state import CallState, CallStates
from ivr.platform.config import Settings
from ivr.roster.model import Roster
from ivr.roster.parse import parse_roster
from ivr.roster.store import RosterStore
from ivr.routing.dispatches import Dispatches
from ivr.sms.outbox import batch_key, sid_key
from tests.conftest import AUTH_TOKEN, PUBLIC_URL
from tests.twilio_signing import CALLER, LINE, CallFixture, TwilioSigner, gather_action

# CI runs a small, fixed set of examples. For a deeper hunt on one machine:
# HELPLINE_FUZZ_EXAMPLES=1000 HELPLINE_FUZZ_RANDOM=1 pytest tests/security
FUZZ = settings(
    max_examples=int(os.environ.get("HELPLINE_FUZZ_EXAMPLES", "20")),
    deadline=None,
    derandomize="HELPLINE_FUZZ_RANDOM" not in os.environ,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
FORM = "application/x-www-form-urlencoded"
CALL_SID = "CA" + "f" * 32
MESSAGE_SID = "SM" + "e" * 32
FLOWS_MINIMAL = Path(__file__).resolve().parents[1] / "flows_minimal"

# Every field Twilio sends to one of these routes, and a few it sends elsewhere.
TWILIO_FIELDS = [
    "AccountSid",
    "ApiVersion",
    "Body",
    "CallSid",
    "CallStatus",
    "Called",
    "Caller",
    "Confidence",
    "DialCallDuration",
    "DialCallStatus",
    "Digits",
    "Direction",
    "ErrorCode",
    "From",
    "MessageSid",
    "MessageStatus",
    "NumMedia",
    "QueueResult",
    "QueueSid",
    "QueueTime",
    "RecordingDuration",
    "RecordingSid",
    "RecordingUrl",
    "SmsSid",
    "SpeechResult",
    "To",
]

XML_SPECIALS = [
    "<",
    ">",
    "&",
    "'",
    '"',
    "]]>",
    "<![CDATA[x]]>",
    "&amp;",
    "&#0;",
    "&bogus;",
    "<Hangup/>",
    "</Say><Dial><Number>+19005550000</Number></Dial><Say>",
    '<?xml version="1.0"?>',
    "<!DOCTYPE r [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>&e;",
    "\"'><script>alert(1)</script>",
]
NASTY = [
    *XML_SPECIALS,
    "",
    " ",
    "\x00",
    "\x00" * 8,
    "1\x00",
    "\r\n",
    "\t",
    "\x1b[31m",
    "\x7f",
    "\ufeff",
    "\u202e",
    "\ufffd",
    "🙂",
    "²",  # isdigit() but not int()
    "¹²³",
    "١٢٣",
    "１",
    "-1",
    "+1",
    "1e400",
    "NaN",
    "99999999999999999999999999",
    "0x10",
    " 1 ",
    "*",
    "#",
    "None",
    "null",
    "[]",
    "{}",
    "%00",
    "%FF",
    "../../etc/passwd",
    "CA" + "0" * 32,
    "CA" + "0" * 31,
    "CA" + "g" * 32,
    "RE" + "1" * 32,
    "+12025550123",
    "+19005550000",
    "+",
    "completed",
    "bridged",
    "hangup",
    "redirected",
    "leave",
    "delivered",
    "STOP",
    "START",
    "HELP",
    "suicide",
    "CALL",
    "ESPAÑOL",
    "https://attacker.example/r.mp3",
    "javascript:alert(1)",
]
ODD_SEGMENTS = [
    ".",
    "..",
    "...",
    "%",
    "%25",
    "%2F",
    "*",
    "?",
    "#",
    " ",
    "\x00",
    "\t",
    "x" * 3000,
    "🙂",
    "é",
    "<Say>",
    "a;b=c",
    "main\n",
    "dispatch:*",
    "{}",
]


def odd_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NASTY),
        st.text(max_size=40),
        st.text(st.characters(max_codepoint=0x20), max_size=12),  # NUL and control characters
        # digits, and things that look like them
        st.text("0123456789²³١٣１*#+-. \x00", max_size=10),
        st.sampled_from([600, 1700, 5000, 30000]).flatmap(
            lambda n: st.sampled_from(["x", "9", "&", "<", "é", "\x00"]).map(lambda c: c * n)
        ),
    )


# -- the line, in a known state ----------------------------------------------


@dataclass(frozen=True)
class Scene:
    """A call at the main menu, waiting for a counselor being rung, a callback
    request, and a text the line sent: so that the real ids reach real code."""

    call_sid: str
    menu: str
    counselor_node: str
    dispatch_id: str
    leg_id: str
    reference: str


def first_node(content: Content, kind: type[Node]) -> str:
    return next(node.id for node in content.voice.nodes.values() if isinstance(node, kind))


def always_on_call() -> Roster:
    return parse_roster(
        {
            "timezone": "America/New_York",
            "counselors": [
                {"id": "alex", "name": "Alex", "phone": "+12025550111", "languages": ["en", "es"]}
            ],
            "shifts": [
                {
                    "counselor": "alex",
                    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                    "start": "00:00",
                    "end": "24:00",
                }
            ],
        },
        "fuzz roster",
    )


def set_scene(client: redis.Redis, line: Line, roster: Roster) -> Scene:
    client.flushall()
    RosterStore(client).save(roster)
    content = line.content
    menu = content.voice.start
    if not isinstance(content.voice.nodes[menu], MenuNode):
        menu = first_node(content, MenuNode)
    counselor_node = first_node(content, CounselorNode)
    CallStates(client, 3600).save(CALL_SID, CallState(content.default_language, menu))
    dispatches = Dispatches(client, 86400)
    dispatch, _ = dispatches.open_for_call(
        CALL_SID, CALLER, content.default_language, counselor_node
    )
    leg_id = dispatches.add_leg(dispatch.id, "alex", 1)
    assert leg_id is not None
    reference = Callbacks(client, line.settings.secret_key, 86400).create(
        CALLER, content.default_language, "voicemail"
    )
    client.set(sid_key(MESSAGE_SID), "fuzzbatch:0")
    client.hset(batch_key("fuzzbatch"), "state0", "queued")
    return Scene(CALL_SID, menu, counselor_node, dispatch.id, leg_id, reference)


def twilio_choices(scene: Scene) -> dict[str, list[str]]:
    """What Twilio sends to the routes for the scene's call; the first of each
    is the typical value."""
    return {
        "AccountSid": ["AC" + "0" * 32],
        "CallSid": [scene.call_sid],
        "From": [CALLER, "+442071838750", "anonymous", "266696687"],
        "To": [LINE],
        "CallStatus": ["in-progress", "ringing", "completed", "no-answer"],
        "Direction": ["inbound"],
        "Digits": [*"1234567890*#", "12", ""],
        "SpeechResult": ["", "counselor", "main menu", "talk", "hablar"],
        "Confidence": ["0.9", "0"],
        "DialCallStatus": ["no-answer", "completed", "busy", "failed"],
        "RecordingSid": ["RE" + "1" * 32],
        "RecordingUrl": ["https://api.twilio.com/2010-04-01/Recordings/RE1"],
        "RecordingDuration": ["12", "0", "180"],
        "QueueResult": ["leave", "bridged", "hangup", "redirected", "error"],
        "QueueTime": ["25", "0", "900"],
        "MessageSid": [MESSAGE_SID],
        "Body": ["hello", "STOP", "HELP", "CALL", "I want to die", "suicide"],
        "MessageStatus": ["delivered", "sent", "failed", "undelivered"],
        "ErrorCode": ["", "30003"],
    }


# Fields that carry numbers: text that looks like one is tried there most.
NUMERIC = {
    "Confidence",
    "DialCallDuration",
    "Digits",
    "ErrorCode",
    "NumMedia",
    "QueueTime",
    "RecordingDuration",
}
DIGIT_LIKE = st.one_of(
    st.sampled_from(["²", "¹²³", "١٢٣", "１", "-1", "1e400", "9" * 600, "0x10", " 1 ", "3.5"]),
    st.text("0123456789²³¹١٣１", min_size=1, max_size=6),
)


def changed(name: str) -> st.SearchStrategy[str]:
    return st.one_of(DIGIT_LIKE, odd_text()) if name in NUMERIC else odd_text()


@st.composite
def hostile_fields(
    draw: st.DrawFn, scene: Scene, read: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """Twilio's fields for the scene, with some changed, dropped or repeated;
    then fields Twilio never sends; in any order.

    Half the time only one to three of the fields the route reads are touched
    and the rest are as Twilio sends them, so the odd value gets past the
    first check and reaches the code behind it; else any field may be."""
    realistic = {
        name: draw(st.sampled_from(values)) for name, values in twilio_choices(scene).items()
    }
    pool = sorted(read | set(realistic))
    if bool(read) and draw(st.booleans()):
        targets = draw(st.lists(st.sampled_from(sorted(read)), min_size=1, max_size=3, unique=True))
        hows = {
            name: draw(st.sampled_from(["change", "change", "drop", "repeat"])) for name in targets
        }
    else:
        hows = {
            name: draw(st.sampled_from(["keep", "keep", "drop", "change", "repeat"]))
            for name in pool
        }
    pairs: list[tuple[str, str]] = []
    for name in pool:
        how = hows.get(name, "keep")
        value = realistic.get(name)
        if how == "change" or (value is None and how == "repeat"):
            pairs.append((name, draw(changed(name))))
        elif value is not None and how == "keep":
            pairs.append((name, value))
        elif value is not None and how == "repeat":
            pairs += [(name, value), (name, draw(changed(name)))]
    names = st.one_of(st.sampled_from(TWILIO_FIELDS), st.text(max_size=20))
    pairs += draw(st.lists(st.tuples(names, odd_text()), max_size=3))
    return draw(st.permutations(pairs))


_T = TypeVar("_T")


class AskedForm(ImmutableMultiDict[str, str]):
    """A form that notes which fields the line's own code asks it for (the
    signature check reads every field, with getlist, and is not noted)."""

    asked: ClassVar[set[str]] = set()

    # werkzeug's own overloads of TypeConversionDict.get, with the two ignores its
    # source has too: they differ from dict.get's, and the fourth passes `type` in
    # the place the implementation takes `default`.
    @overload  # type: ignore[override]
    def get(self, key: str) -> str | None: ...
    @overload
    def get(self, key: str, default: str) -> str: ...
    @overload
    def get(self, key: str, default: _T) -> str | _T: ...
    @overload
    def get(self, key: str, type: Callable[[str], _T]) -> _T | None: ...
    @overload
    def get(self, key: str, default: _T, type: Callable[[str], _T]) -> _T: ...
    def get(  # type: ignore[misc]
        self, key: str, default: object = None, type: Callable[[str], object] | None = None
    ) -> object:
        AskedForm.asked.add(key)
        if type is None:
            return super().get(key, default)
        return super().get(key, default, type)


def fields_read(app: Flask, client: FlaskClient, rule: Rule, scene: Scene) -> frozenset[str]:
    """The fields a route reads when Twilio sends it what it usually does."""
    real = real_segments(scene)
    path = build_path(app, rule, {arg: real[arg] for arg in rule.arguments})
    form = {name: values[0] for name, values in twilio_choices(scene).items()}
    original = app.request_class
    app.request_class = type("AskingRequest", (original,), {"parameter_storage_class": AskedForm})
    AskedForm.asked.clear()
    try:
        signed_post(client, path, urlencode(form).encode(), MultiDict(form))
    finally:
        app.request_class = original
    return frozenset(AskedForm.asked)


def real_segments(scene: Scene) -> dict[str, str]:
    return {
        "node_id": scene.menu,
        "dispatch_id": scene.dispatch_id,
        "leg_id": scene.leg_id,
        "reference": scene.reference,
        "counselor_id": "alex",
    }


def path_values(rule: Rule, scene: Scene, content: Content) -> st.SearchStrategy[dict[str, str]]:
    real: dict[str, list[str]] = {
        "node_id": [scene.menu, scene.counselor_node, *content.voice.nodes],
        "dispatch_id": [scene.dispatch_id],
        "leg_id": [scene.leg_id, "alex-1-0"],
        "reference": [scene.reference, "CB-222222", "VM-222222"],
        "counselor_id": ["alex", "blanca"],
    }
    odd = st.one_of(st.sampled_from(ODD_SEGMENTS), st.text(min_size=1, max_size=30))
    return st.fixed_dictionaries(
        {
            name: st.one_of(st.sampled_from(real.get(name, ["x"])), odd)
            for name in sorted(rule.arguments)
        }
    )


# -- posting and judging --------------------------------------------------------


def twilio_rules(app: Flask) -> list[Rule]:
    """Every POST route of every Twilio-facing (signature-guarded) blueprint."""
    guarded = {name for name, bp in app.blueprints.items() if getattr(bp, "twilio_signed", False)}
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if rule.endpoint.split(".")[0] in guarded and "POST" in (rule.methods or ())
        ),
        key=lambda rule: rule.rule,
    )


def build_path(app: Flask, rule: Rule, values: dict[str, str]) -> str:
    """The path as url_for writes it, which is what Twilio is given and signs."""
    adapter = app.url_map.bind("helpline.example.org", url_scheme="https")
    return adapter.build(rule.endpoint, values)


def signed_post(
    client: FlaskClient, path: str, body: bytes, form: MultiDict[str, str]
) -> TestResponse:
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + path, form)
    return client.post(
        path, data=body, content_type=FORM, headers={"X-Twilio-Signature": signature}
    )


def parsed_form(body: bytes) -> MultiDict[str, str]:
    """The fields as the line will read them (Twilio signs what it sent; for
    raw bytes that are not UTF-8, that is what the line decodes them to)."""
    environ = EnvironBuilder(method="POST", data=body, content_type=FORM).get_environ()
    return MultiDict(Request(environ).form.items(multi=True))


STATUS_CALLBACKS = ("/voice/status", "/voice/leg-status/", "/sms/status")


def check_answer(path: str, response: TestResponse, body_size: int) -> None:
    """The property every answer must have."""
    text = response.get_data(as_text=True)
    where = f"{response.status_code} from {path!r}: {text[:300]!r}"
    assert response.status_code < 500, where
    assert "Traceback" not in text, where
    assert 'File "' not in text, where
    if body_size > MAX_REQUEST_BYTES:
        assert response.status_code == 413, where
        return
    if response.status_code == 403 and urlparse(PUBLIC_URL + path).geturl() != PUBLIC_URL + path:
        # twilio-python's validator checks urlparse(url).geturl(), which drops an
        # empty ";" parameter: no URL of ours has one, and Twilio sends ours only.
        return
    if response.status_code == 308 and "//" in path.split("?")[0]:
        return  # the router merges doubled slashes; no route of ours has them
    if response.status_code >= 400:
        # Refused before any handler (a path that is no route): never the signature,
        # which was valid.
        assert response.status_code in (404, 405, 413), where
        return
    assert response.status_code in (200, 204), where
    if not text.strip():
        assert path.startswith(STATUS_CALLBACKS), f"silence on the line: {where}"
        return
    assert response.mimetype == "text/xml", where
    twiml = ET.fromstring(response.get_data())  # noqa: S314 - our own response
    assert twiml.tag == "Response", where
    if path.startswith("/voice/"):
        check_voice(twiml, path, where)


def check_voice(twiml: ET.Element, path: str, where: str) -> None:
    verbs = [child.tag for child in twiml]
    # The hold document is Twilio's waitUrl: after it, Twilio plays it again.
    way_on = {"Redirect", "Play", "Pause"} if path.startswith("/voice/hold/") else {"Redirect"}
    for index, verb in enumerate(verbs):
        if verb == "Gather":
            after = verbs[index + 1 : index + 2]
            assert after, f"<Gather> last: {where}"
            assert after[0] in way_on, f"<Gather> without a fallback: {where}"
    for say in twiml.iter("Say"):
        assert (say.text or "").strip(), f"empty <Say>: {where}"


class Unexpected(logging.Handler):
    """Collects exceptions the line caught and logged: with Redis up, a field
    that reaches an unguarded int() or the like is a bug even when the safe
    fallback hides it from the caller."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)

    def check(self, where: str) -> None:
        if self.records:
            record = self.records[0]
            self.records.clear()
            assert record.exc_info is not None
            raise AssertionError(f"{where}: {record.getMessage()}") from record.exc_info[1]


@pytest.fixture
def unexpected(app: Flask) -> Iterator[Unexpected]:
    handler = Unexpected()
    loggers = [logging.getLogger("helpline"), app.logger]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


def line_of(app: Flask) -> Line:
    line: Line = app.extensions["helpline"]
    return line


# -- the fuzz ---------------------------------------------------------------------


def test_the_fuzz_covers_every_twilio_route(app: Flask) -> None:
    paths = {rule.rule for rule in twilio_rules(app)}
    assert {"/voice/incoming", "/voice/status", "/sms/incoming", "/sms/status"} <= paths
    assert len(paths) >= 20, paths  # the voice steps, hold, whisper and callback legs too


def test_every_twilio_route_survives_hostile_fields(
    app: Flask, client: FlaskClient, redis_client: redis.Redis, unexpected: Unexpected
) -> None:
    line = line_of(app)
    roster = always_on_call()

    def one_example(data: st.DataObject, rule: Rule, read: frozenset[str]) -> None:
        scene = set_scene(redis_client, line, roster)
        values = data.draw(path_values(rule, scene, line.content), label="path")
        fields = data.draw(hostile_fields(scene, read), label="fields")
        query = data.draw(
            st.lists(st.tuples(st.sampled_from(TWILIO_FIELDS), odd_text()), max_size=2),
            label="query",
        )
        path = build_path(app, rule, values)
        if query:
            path += "?" + urlencode(query)
        body = urlencode(fields).encode()
        response = signed_post(client, path, body, MultiDict(fields))
        check_answer(path, response, len(body))
        unexpected.check(f"{rule.rule} {path!r} {fields!r}")

    for rule in twilio_rules(app):
        read = fields_read(app, client, rule, set_scene(redis_client, line, roster))
        fuzz_route(rule, read, one_example)


def fuzz_route(
    rule: Rule, read: frozenset[str], example: Callable[[st.DataObject, Rule, frozenset[str]], None]
) -> None:
    """Hypothesis on one route: each route gets its own examples."""

    @FUZZ
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        example(data, rule, read)

    run()


@FUZZ
@given(raw=st.lists(st.tuples(st.sampled_from(TWILIO_FIELDS), st.binary(max_size=24)), max_size=8))
def test_bytes_that_are_not_utf8_are_answered(
    app: Flask,
    client: FlaskClient,
    redis_client: redis.Redis,
    unexpected: Unexpected,
    raw: list[tuple[str, bytes]],
) -> None:
    """Percent-escapes of any bytes, valid UTF-8 or not, in every field."""
    scene = set_scene(redis_client, line_of(app), always_on_call())
    body = "&".join(f"{name}={quote_from_bytes(value)}" for name, value in raw)
    body = f"CallSid={scene.call_sid}&MessageSid={MESSAGE_SID}&" + body
    for path in ("/voice/incoming", f"/voice/menu/{scene.menu}", "/sms/incoming", "/sms/status"):
        response = signed_post(client, path, body.encode(), parsed_form(body.encode()))
        check_answer(path, response, len(body))
        unexpected.check(f"{path} {body!r}")


@pytest.mark.parametrize("value", XML_SPECIALS)
def test_xml_special_characters_in_any_field_never_break_twiml(
    app: Flask, client: FlaskClient, redis_client: redis.Redis, value: str
) -> None:
    line = line_of(app)
    roster = always_on_call()
    for rule in twilio_rules(app):
        for name in ("SpeechResult", "Body", "From", "Digits", "CallSid", "QueueResult"):
            scene = set_scene(redis_client, line, roster)
            real = real_segments(scene)
            path = build_path(app, rule, {arg: real[arg] for arg in rule.arguments})
            fields = {
                "CallSid": scene.call_sid,
                "MessageSid": MESSAGE_SID,
                "From": CALLER,
                "To": LINE,
                "Body": "hello",
                name: value,
            }
            body = urlencode(fields).encode()
            response = signed_post(client, path, body, MultiDict(fields))
            check_answer(path, response, len(body))
            assert response.status_code in (200, 204), (path, name)


# -- oversized bodies ---------------------------------------------------------------


@pytest.fixture
def views_never_run(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace every Twilio-facing view with one that records it was reached."""
    reached: list[str] = []
    for rule in twilio_rules(app):

        def view(endpoint: str = rule.endpoint, **_: str) -> Response:
            reached.append(endpoint)
            return Response(status=204)

        monkeypatch.setitem(app.view_functions, rule.endpoint, view)
    return reached


def any_path(app: Flask, rule: Rule) -> str:
    return build_path(app, rule, {arg: "x" for arg in rule.arguments})


@pytest.mark.parametrize("signed", [True, False])
def test_oversized_bodies_are_refused_early(
    app: Flask,
    client: FlaskClient,
    redis_client: redis.Redis,
    views_never_run: list[str],
    signed: bool,
) -> None:
    fields = {"CallSid": CALL_SID, "MessageSid": MESSAGE_SID, "Body": "x" * MAX_REQUEST_BYTES}
    body = urlencode(fields).encode()
    assert len(body) > MAX_REQUEST_BYTES
    for rule in twilio_rules(app):
        path = any_path(app, rule)
        if signed:
            response = signed_post(client, path, body, MultiDict(fields))
        else:
            response = client.post(path, data=body, content_type=FORM)
        assert response.status_code == 413, (path, response.status_code)
        assert "Traceback" not in response.get_data(as_text=True)
    assert views_never_run == []
    assert redis_client.dbsize() == 0, list(redis_client.scan_iter())


def test_an_oversized_body_without_a_length_is_refused_too(
    app: Flask, client: FlaskClient, redis_client: redis.Redis, views_never_run: list[str]
) -> None:
    """Chunked: no Content-Length to refuse on, so the body is cut off as it is read."""
    fields = {"CallSid": CALL_SID, "Body": "x" * MAX_REQUEST_BYTES}
    body = urlencode(fields).encode()
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        PUBLIC_URL + "/sms/incoming", MultiDict(fields)
    )
    response = client.post(
        "/sms/incoming",
        input_stream=BytesIO(body),
        content_type=FORM,
        headers={"X-Twilio-Signature": signature, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert views_never_run == []
    assert redis_client.dbsize() == 0


def test_a_body_just_under_the_limit_is_answered(
    app: Flask, client: FlaskClient, redis_client: redis.Redis
) -> None:
    fields = {"MessageSid": MESSAGE_SID, "From": CALLER, "To": LINE, "Body": ""}
    room = MAX_REQUEST_BYTES - len(urlencode(fields).encode())
    fields["Body"] = "x" * room
    body = urlencode(fields).encode()
    assert len(body) == MAX_REQUEST_BYTES
    response = signed_post(client, "/sms/incoming", body, MultiDict(fields))
    assert response.status_code == 200
    check_answer("/sms/incoming", response, len(body))


def test_a_chunked_body_under_the_limit_is_read_whole(
    app: Flask, client: FlaskClient, redis_client: redis.Redis
) -> None:
    """The oversize check reads a chunked body first; the form still comes from it."""
    fields = {"MessageSid": MESSAGE_SID, "From": CALLER, "To": LINE, "Body": "suicide"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        PUBLIC_URL + "/sms/incoming", MultiDict(fields)
    )
    response = client.post(
        "/sms/incoming",
        input_stream=BytesIO(urlencode(fields).encode()),
        content_type=FORM,
        headers={"X-Twilio-Signature": signature, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 200
    assert b"<Message>" in response.get_data()  # read as a crisis: every field arrived


# -- content with XML special characters ----------------------------------------------

MARK = "A&B <b>bold</b> \"double\" 'single' ]]> <![CDATA[c]]> &amp; &#38; >"


def inject(value: object) -> object:
    """MARK appended to every text of a content file, keys and placeholders kept."""
    if isinstance(value, dict):
        return {key: inject(item) for key, item in value.items()}
    if isinstance(value, list):
        return [inject(item) for item in value]
    if isinstance(value, str):
        return f"{value} {MARK}"
    return value


def marked_content(tmp_path: Path) -> Content:
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS_MINIMAL, flows)
    line = yaml.safe_load((flows / "line.yaml").read_text())
    line["name"] = inject(line["name"])
    line["prompts"] = inject(line["prompts"])
    (flows / "line.yaml").write_text(yaml.safe_dump(line, allow_unicode=True))
    texts = yaml.safe_load((flows / "texts.yaml").read_text())
    texts["texts"] = inject(texts["texts"])
    (flows / "texts.yaml").write_text(yaml.safe_dump(texts, allow_unicode=True))
    voice = yaml.safe_load((flows / "voice.yaml").read_text())
    for node in voice["nodes"].values():
        node["say"] = inject(node["say"])
    (flows / "voice.yaml").write_text(yaml.safe_dump(voice, allow_unicode=True))
    return load_content(flows)


@pytest.fixture
def marked_app(redis_client: redis.Redis, settings: Settings, tmp_path: Path) -> Flask:
    return create_app(settings, marked_content(tmp_path))


def post_twiml(client: FlaskClient, path: str, **fields: str) -> ET.Element:
    form = {"CallSid": CALL_SID, "From": CALLER, "To": LINE, **fields}
    response = signed_post(client, path, urlencode(form).encode(), MultiDict(form))
    assert response.status_code == 200, response.get_data(as_text=True)
    return ET.fromstring(response.get_data())  # noqa: S314 - our own response


def test_xml_special_characters_in_content_round_trip(
    marked_app: Flask, redis_client: redis.Redis
) -> None:
    client = marked_app.test_client()
    line = line_of(marked_app)
    scene = set_scene(redis_client, line, always_on_call())
    said: list[str] = []

    def heard(path: str, **fields: str) -> ET.Element:
        twiml = post_twiml(client, path, **fields)
        check_voice(twiml, path, ET.tostring(twiml, encoding="unicode"))
        said.extend((say.text or "") for say in twiml.iter("Say"))
        return twiml

    assert heard("/voice/incoming").find("Gather") is not None
    heard(f"/voice/menu/{scene.menu}", Digits="7")  # not understood
    heard(f"/voice/menu/{scene.menu}")  # silence
    heard("/voice/fallback-done", DialCallStatus="no-answer")
    heard("/voice/fallback-recorded")
    heard(f"/voice/hold/{scene.dispatch_id}", QueueTime="60")
    heard(f"/voice/whisper/{scene.dispatch_id}/{scene.leg_id}")
    heard(f"/voice/callback-whisper/{scene.reference}")
    heard("/voice/incoming", CallSid="not a call sid")  # the safe fallback
    assert said
    assert all(text.endswith(MARK) for text in said), said

    crisis = post_twiml(client, "/sms/incoming", MessageSid=MESSAGE_SID, Body="suicide")
    bodies = [(message.text or "") for message in crisis.iter("Message")]
    assert bodies
    assert all(text.endswith(MARK) for text in bodies), bodies


def test_a_content_set_with_xml_characters_passes_the_checks(tmp_path: Path) -> None:
    """The round trip above is not vacuous: the marked text is really in the content."""
    content = marked_content(tmp_path)
    assert content.prompts["fallback"].text("en").endswith(MARK)
    assert content.line_name["en"].endswith(MARK)


# -- regressions: what the fuzz found --------------------------------------------------


def test_a_step_url_that_needs_percent_encoding_is_accepted_when_signed(
    redis_client: redis.Redis, settings: Settings, tmp_path: Path
) -> None:
    """Twilio signs a step URL as url_for wrote it, percent-encoded; the check
    compared it with the decoded path and refused every press at a menu whose
    id has a space or an accent in it (ivr/web/signature.py)."""
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS_MINIMAL, flows)
    for name in ("line.yaml", "voice.yaml"):
        text = (flows / name).read_text()
        text = text.replace("next: main", 'next: "menú principal"')
        text = text.replace("main: main", 'main: "menú principal"')
        text = text.replace("\n  main:\n", '\n  "menú principal":\n')
        (flows / name).write_text(text)
    app = create_app(settings, load_content(flows))
    call = CallFixture(TwilioSigner(app.test_client(), PUBLIC_URL, AUTH_TOKEN))
    menu = call.start()
    assert gather_action(menu).endswith("/voice/menu/men%C3%BA%20principal")
    assert call.press(menu, "2").find("Gather") is not None  # signed, accepted, answered
    assert call.silence(menu).find("Gather") is not None


def test_a_recording_duration_int_refuses_still_saves_the_message(
    app: Flask, client: FlaskClient, redis_client: redis.Redis
) -> None:
    """ "²".isdigit() is true, int("²") raises: the message was lost and the
    caller who had just left it heard the error fallback (ivr/web/voice/routes.py)."""
    line = line_of(app)
    scene = set_scene(redis_client, line, always_on_call())
    node = first_node(line.content, VoicemailNode)
    fields = {
        "CallSid": scene.call_sid,
        "From": CALLER,
        "RecordingSid": "RE" + "2" * 32,
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Recordings/RE2",
        "RecordingDuration": "²",
    }
    response = signed_post(
        client, f"/voice/recorded/{node}", urlencode(fields).encode(), MultiDict(fields)
    )
    assert response.status_code == 200
    twiml = ET.fromstring(response.get_data())  # noqa: S314 - our own response
    assert twiml.find("Dial") is None, "the error fallback"
    assert redis_client.hget("voicemail:RE" + "2" * 32, "duration") == b"0"


def test_a_queue_time_int_refuses_keeps_the_caller_on_hold(
    app: Flask, client: FlaskClient, redis_client: redis.Redis
) -> None:
    """The same "²" in QueueTime took a waiting caller off hold into the error
    fallback (ivr/web/voice/counselor_routes.py)."""
    scene = set_scene(redis_client, line_of(app), always_on_call())
    fields = {"CallSid": scene.call_sid, "QueueTime": "²"}
    response = signed_post(
        client, f"/voice/hold/{scene.dispatch_id}", urlencode(fields).encode(), MultiDict(fields)
    )
    assert response.status_code == 200
    twiml = ET.fromstring(response.get_data())  # noqa: S314 - our own response
    assert [verb.tag for verb in twiml] == ["Pause"]
    assert redis_client.hget(f"dispatch:{scene.dispatch_id}", "state") == b"ringing"
