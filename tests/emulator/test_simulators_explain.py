"""Simulators that explain themselves (issue 16): the caller sees the texts
their phone receives, the texter is told why no reply comes, the counselor's
console shows a whisper once and notices when the caller hangs up, and a
simulator with no emulator to reach says where it looked and what to run."""

from __future__ import annotations

import time
from pathlib import Path

import click
import pytest
import redis
from click.testing import CliRunner
from twilio.rest import Client

from ivr.sms.optout import OptOuts
from loadtest.ports import free_port
from tests.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC_URL,
    RedisServer,
    make_settings,
)
from tests.emulator.conftest import CALLER, COUNSELOR, LINE_NUMBER, FakeLine
from tests.emulator.test_queues import DEQUEUE, results, setup
from tests.live import LiveLine, eventually
from tests.rosters import COUNSELOR_A, store_always_on_call
from twilio_emulator import EmulatorServer, Network, talk
from twilio_emulator.console import ControlClient, PhoneConsole
from twilio_emulator.simulate_cli import _first_on_call, simulate


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "HELPLINE_PUBLIC_URL": PUBLIC_URL,
        "HELPLINE_NUMBER": LINE_NUMBER,
        "HELPLINE_VAR_DIR": str(tmp_path / "var"),
        **extra,
    }


class Person:
    """A keyboard a test plays: answers in order, each when the console asks;
    then nothing (the person is still thinking), never the end of input."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.questions: list[str] = []
        self.withdrawn = 0

    def ask(self, question: str) -> None:
        self.questions.append(question)

    def answer(self, timeout: float) -> str | None:
        if self.answers:
            return self.answers.pop(0)
        time.sleep(timeout)
        return None

    def withdraw(self) -> None:
        self.withdrawn += 1

    def aside(self) -> None:
        pass

    def resume(self) -> None:
        pass


WHISPER_TWICE = """<Response>
  <Gather numDigits="1" action="/twiml/accept">
    <Say>Helpline call, in English. Press 1 to accept.</Say>
    <Say>Helpline call, in English. Press 1 to accept.</Say>
  </Gather>
  <Hangup/>
</Response>"""


def test_the_counselor_hears_the_whisper_once_and_notices_the_caller_hang_up(
    emulator: EmulatorServer, rest: Client, network: Network, fake_line: FakeLine
) -> None:
    setup(fake_line, whisper=WHISPER_TWICE, accept=DEQUEUE)
    caller = network.call_line(CALLER, talk(1.0)).sid  # talks a second, then hangs up
    eventually(lambda: fake_line.at("/twiml/wait"))
    shown: list[str] = []
    person = Person("y", "1")  # answers, accepts, then says nothing and never hangs up
    console = PhoneConsole(
        ControlClient(emulator.url), COUNSELOR, show=shown.append, keyboard=person
    )
    console.start()
    rest.calls.create(to=COUNSELOR, from_=LINE_NUMBER, url=f"{fake_line.url}/twiml/whisper")
    started = time.monotonic()
    assert console.follow() == "completed"  # it returns without a word from the person
    assert time.monotonic() - started < 15
    transcript = "\n".join(shown)
    assert transcript.count("Helpline call, in English. Press 1 to accept.") == 1
    assert f"connected to {CALLER}" in transcript
    assert shown[-1].endswith("the other side hung up")
    assert person.questions[-1].startswith("(talking)")
    assert person.withdrawn == 1
    network.wait_for_call(caller)
    assert results(fake_line) == ["bridged"]


def test_the_caller_sees_a_text_their_phone_receives(
    emulator: EmulatorServer, rest: Client, fake_line: FakeLine, tmp_path: Path
) -> None:
    def text_them(form: dict[str, str]) -> str:
        # The line's part, played here at once: "text me this" sends a text.
        rest.messages.create(to=form["From"], from_=LINE_NUMBER, body="Here is your text.")
        return '<Response><Say>Sent.</Say><Pause length="2"/></Response>'

    fake_line.documents.update(
        voice='<Response><Gather numDigits="1" action="/twiml/chosen" timeout="5">'
        "<Say>Press 1 for a text.</Say></Gather></Response>",
        chosen=text_them,
    )
    env = cli_env(tmp_path, HELPLINE_TWILIO_API_URL=emulator.url)
    result = CliRunner().invoke(simulate, ["call", "--caller", CALLER], input="1\n", env=env)
    assert result.exit_code == 0, result.output
    assert f"📱 text from {LINE_NUMBER}: Here is your text." in result.output
    assert result.output.count("Here is your text.") == 1


def test_an_opted_out_texter_is_told_why_no_reply_comes(
    live_line: LiveLine, tmp_path: Path
) -> None:
    settings = live_line.settings
    OptOuts(live_line.redis, settings.secret_key).opt_out(CALLER, "STOP")
    env = cli_env(
        tmp_path, REDIS_URL=str(settings.redis_url), HELPLINE_SECRET_KEY=settings.secret_key
    )
    args = ["sms", "klonopin", "--from", CALLER, "--wait", "1", "--emulator"]
    result = CliRunner().invoke(simulate, [*args, live_line.emulator_url], env=env)
    assert result.exit_code == 0, result.output
    assert "you → line: klonopin" in result.output
    assert "line → you" not in result.output
    assert "no reply came in 1 s. Why:" in result.output
    assert "this number opted out" in result.output
    assert "START" in result.output


def test_a_texter_over_the_hourly_cap_is_told_replies_are_paused(
    live_line: LiveLine, tmp_path: Path
) -> None:
    from ivr.platform.privacy import number_ref
    from ivr.sms.outbox import cap_key

    settings = live_line.settings
    cap = settings.sms_per_recipient_per_hour
    live_line.redis.set(cap_key(number_ref(settings.secret_key, CALLER)), cap + 1)
    env = cli_env(
        tmp_path, REDIS_URL=str(settings.redis_url), HELPLINE_SECRET_KEY=settings.secret_key
    )
    # Nothing runs the line's jobs here: the reply waits in the queue, and that is said too.
    args = ["sms", "klonopin", "--from", CALLER, "--wait", "0.5", "--emulator"]
    result = CliRunner().invoke(simulate, [*args, live_line.emulator_url], env=env)
    assert result.exit_code == 0, result.output
    assert f"replies to this number are paused: {cap + 1} this hour" in result.output
    assert "is a worker running" in result.output


@pytest.mark.parametrize(
    "args",
    [["call"], ["counselor", "--number", COUNSELOR], ["sms", "hello"]],
    ids=["call", "counselor", "sms"],
)
def test_a_simulator_without_an_emulator_says_where_it_looked_and_what_to_run(
    tmp_path: Path, args: list[str]
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    env = cli_env(tmp_path, HELPLINE_TWILIO_API_URL=nowhere)
    result = CliRunner().invoke(simulate, args, env=env)
    assert result.exit_code == 1
    assert f"no Twilio emulator answers at {nowhere}" in result.output
    assert "make run" in result.output
    assert "--emulator URL" in result.output
    assert "calling" not in result.output  # nothing else was tried quietly


def test_the_counselor_on_call_is_read_from_the_lines_own_redis(
    redis_server: RedisServer, redis_client: redis.Redis, tmp_path: Path
) -> None:
    settings = make_settings(redis_server.url, tmp_path)
    with pytest.raises(click.ClickException, match="the roster is empty"):
        _first_on_call(settings)
    store_always_on_call(redis_client)
    assert _first_on_call(settings) == COUNSELOR_A
