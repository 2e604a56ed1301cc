"""Twilio's layer answers its own keywords itself (and on a toll-free number
the carrier answers STOP, START and UNSTOP): the line does not answer START
a second time, nor HELP where Twilio sent the operator's help text (Advanced
Opt-Out, marked by OptOutType). Without Advanced Opt-Out Twilio's help text
names neither the line nor 988, so the line's follows it: two replies, the
second the one a person in distress needs (ivr/sms/twilio_layer.py;
docs/operations.md, "The first real texts"). What Twilio does not answer
(AYUDA, "Help?", an opt-out said in a sentence) the line does, and a crisis
always gets the crisis reply."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from ivr.app import create_app
from ivr.cli.main import main
from ivr.content.model import Content
from ivr.operators.overview import Overview
from ivr.platform.config import ConfigError
from ivr.sms.twilio_layer import SETTING_KEY, twilio_answered
from tests.conftest import AUTH_TOKEN, PUBLIC_URL, RedisServer, cli_environment, make_settings
from tests.live import LiveLine
from tests.test_sms import Phone, inline, texts_of
from tests.twilio_signing import TwilioSigner
from twilio_emulator.config import TWILIO_HELP_REPLY
from twilio_emulator.messaging import NETWORK_START, NETWORK_STOP

TEXTER = "+12025550166"


def arrived(line: LiveLine, body: str) -> list[str]:
    """Text the line, let it answer, and every text the phone got for it."""
    before = len(line.network.sent_messages(to=TEXTER))
    inbound = line.network.text_line(TEXTER, body)
    line.run_jobs()
    got = [m.body for m in line.network.sent_messages(to=TEXTER)[before:]]
    # Inline replies (a crisis) are among them already: the emulator sends them.
    assert all(reply.body in got for reply in inbound.replies)
    return got


def test_help_without_advanced_opt_out_gets_twilios_text_then_the_lines_with_988(
    live_line: LiveLine,
) -> None:
    ours = texts_of(live_line.content, "help", "en")
    assert any("988" in part for part in ours)
    assert arrived(live_line, "HELP") == [TWILIO_HELP_REPLY, *ours]
    assert arrived(live_line, "info") == [TWILIO_HELP_REPLY, *ours]


def test_start_gets_one_reply_the_carriers(live_line: LiveLine) -> None:
    # STOP: the carrier's confirmation; the line's is refused by Twilio (21610).
    assert arrived(live_line, "STOP") == [NETWORK_STOP]
    assert arrived(live_line, "START") == [NETWORK_START.format(word="Start")]


def test_what_twilio_does_not_answer_the_line_does(live_line: LiveLine) -> None:
    content = live_line.content
    assert arrived(live_line, "AYUDA") == texts_of(content, "help", "es")
    assert arrived(live_line, "Help?") == texts_of(content, "help", "es")  # a Spanish talk now
    assert arrived(live_line, "ALTO") == texts_of(content, "opted_out", "es")


def test_a_crisis_still_gets_the_crisis_reply(live_line: LiveLine) -> None:
    got = arrived(live_line, "help I want to kill myself")
    assert got
    assert "988" in got[0]
    assert TWILIO_HELP_REPLY not in got


@pytest.fixture
def advanced(
    redis_client: redis.Redis, redis_server: RedisServer, tmp_path: Path, content: Content
) -> Phone:
    """A line told its number has Advanced Opt-Out (webhooks posted directly)."""
    settings = make_settings(redis_server.url, tmp_path, HELPLINE_ADVANCED_OPT_OUT="true")
    client = create_app(settings, content).test_client()
    return Phone(TwilioSigner(client, PUBLIC_URL, AUTH_TOKEN), redis_client, TEXTER)


def test_with_advanced_opt_out_the_line_trusts_opt_out_type(
    advanced: Phone, content: Content
) -> None:
    advanced.send("HELP", OptOutType="HELP")  # Twilio sent the operator's help text
    advanced.send("STOP", OptOutType="STOP")
    advanced.send("START", OptOutType="START")
    # Twilio answered these without saying so: a keyword the operator removed.
    advanced.send("INFO")
    advanced.send("YES")
    assert advanced.queued_bodies() == [
        texts_of(content, "opted_out", "en"),  # refused by Twilio (21610), as it blocked
        texts_of(content, "help", "en"),
        texts_of(content, "opted_in", "en"),
    ]


def test_a_crisis_marked_help_still_gets_the_crisis_reply(advanced: Phone) -> None:
    # Advanced Opt-Out may name any word a help keyword; a crisis still wins.
    reply = advanced.send("I want to kill myself", OptOutType="HELP")
    assert any("988" in text for text in inline(reply))


@pytest.mark.parametrize(
    ("body", "opt_out_type", "advanced_opt_out", "answered"),
    [
        ("HELP", "", False, True),
        (" help ", "", False, True),
        ("Help?", "", False, False),
        ("AYUDA", "", False, False),
        ("YES", "", False, True),
        ("HELP", "", True, False),
        ("AYUDA", "HELP", True, True),
        ("whatever", "start", False, True),
    ],
)
def test_twilio_answered(
    body: str, opt_out_type: str, advanced_opt_out: bool, answered: bool
) -> None:
    assert twilio_answered(body, opt_out_type, advanced_opt_out=advanced_opt_out) is answered


def test_the_setting_is_read_and_checked(redis_server: RedisServer, tmp_path: Path) -> None:
    assert not make_settings(redis_server.url, tmp_path).advanced_opt_out
    on = make_settings(redis_server.url, tmp_path, HELPLINE_ADVANCED_OPT_OUT="True")
    assert on.advanced_opt_out
    with pytest.raises(ConfigError, match="HELPLINE_ADVANCED_OPT_OUT must be true or false"):
        make_settings(redis_server.url, tmp_path, HELPLINE_ADVANCED_OPT_OUT="maybe")


def now_notes(client: redis.Redis) -> list[str]:
    """The Now page's notes about the setting."""
    notes = Overview(client, "k", 3600, "America/New_York").board(None).notes
    return [note for note in notes if "HELPLINE_ADVANCED_OPT_OUT" in note]


def test_a_wrong_setting_shows_on_the_now_page_until_a_text_agrees(
    advanced: Phone,
    twilio: TwilioSigner,
    redis_client: redis.Redis,
    redis_server: RedisServer,
    tmp_path: Path,
) -> None:
    """Only real texts tell whether Advanced Opt-Out is in force; a setting
    that disagrees gives texters two replies, so the operator is told."""
    advanced.send("HELP")  # an operator may take HELP off the lists: no evidence
    advanced.send("Stop texting me")
    assert now_notes(redis_client) == []
    advanced.send("STOP")  # Advanced Opt-Out marks every STOP: it is not in force
    (note,) = now_notes(redis_client)
    assert "without OptOutType" in note
    advanced.send("START", OptOutType="START")
    assert now_notes(redis_client) == []
    plain = Phone(twilio, redis_client, "+12025550167")  # the setting false
    plain.send("HELP", OptOutType="HELP")
    (note,) = now_notes(redis_client)
    assert "HELPLINE_ADVANCED_OPT_OUT is false" in note
    # Where an operator reads it: `helpline now` (the /admin Now panel prints
    # the same Board's notes).
    shown = CliRunner().invoke(main, ["now"], env=cli_environment(redis_server.url, tmp_path))
    assert shown.exit_code == 0, shown.output
    assert note in shown.output
    assert redis_client.ttl(SETTING_KEY) > 0  # kept a month at most
    plain.send("STOP")
    assert now_notes(redis_client) == []
