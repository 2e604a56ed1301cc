"""Twilio answers its own keywords before the line does (docs/emulator.md,
"Opt-out at Twilio's layer"): HELP/INFO with its help text, START/YES/UNSTOP
and STOP (and synonyms) with a confirmation — on a toll-free number the
carrier's "NETWORK MSG" for STOP, START and UNSTOP. With Advanced Opt-Out the
texts are the operator's and the webhook says which keyword it was
(OptOutType); without it, nothing in the webhook says so."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import pytest

from tests.conftest import ACCOUNT_SID, AUTH_TOKEN
from tests.emulator.conftest import CALLER, LINE_NUMBER, WAIT, FakeLine
from tests.live import eventually
from twilio_emulator import EmulatorServer, Network, create_emulator
from twilio_emulator.config import (
    TWILIO_HELP_REPLY,
    TWILIO_START_REPLY,
    TWILIO_STOP_REPLY,
    AdvancedOptOut,
)
from twilio_emulator.messaging import NETWORK_START, NETWORK_STOP

LONG_CODE = "+12025550100"
CUSTOM = AdvancedOptOut(help="Our help: call us.", start="Welcome back.", stop="Bye.")


class Make(Protocol):
    def __call__(
        self,
        number: str = ...,
        *,
        toll_free: bool | None = ...,
        advanced_opt_out: AdvancedOptOut | None = ...,
    ) -> Network: ...


@pytest.fixture
def make(fake_line: FakeLine) -> Iterator[Make]:
    """An emulator whose line is `number`, answering keywords as configured."""
    servers: list[EmulatorServer] = []

    def build(
        number: str = LINE_NUMBER,
        *,
        toll_free: bool | None = None,
        advanced_opt_out: AdvancedOptOut | None = None,
    ) -> Network:
        app = create_emulator(
            ACCOUNT_SID,
            AUTH_TOKEN,
            fake_line.url,
            number,
            webhook_timeout=5.0,
            toll_free=toll_free,
            advanced_opt_out=advanced_opt_out,
        )
        server = EmulatorServer(app).start()
        servers.append(server)
        return server.network

    yield build
    for server in servers:
        server.stop()


def received(network: Network, phone: str = CALLER) -> list[str]:
    """What Twilio's layer sent the phone (the fake line answers nothing)."""
    sent = network.sent_messages(to=phone)
    eventually(lambda: all(m.status == "delivered" for m in sent), timeout=WAIT)
    for message in sent:
        assert (message.from_, message.direction) == (LINE_NUMBER, "outbound-reply")
    return [m.body for m in sent]


def test_the_line_number_is_toll_free_by_default_and_help_gets_twilios_text(
    make: Make, fake_line: FakeLine
) -> None:
    network = make()
    network.text_line(CALLER, "HELP")
    network.text_line(CALLER, " info ")
    assert received(network) == [TWILIO_HELP_REPLY, TWILIO_HELP_REPLY]
    # The line is still told, and not that Twilio answered (no Advanced Opt-Out).
    hooks = fake_line.at("/sms/incoming")
    assert [h.form["Body"] for h in hooks] == ["HELP", " info "]
    assert all("OptOutType" not in h.form for h in hooks)


def test_on_toll_free_the_carrier_confirms_stop_start_and_unstop(make: Make) -> None:
    network = make()
    for word in ("STOP", "start", "stop", "UNSTOP"):
        network.text_line(CALLER, word)
    assert received(network) == [
        NETWORK_STOP,
        NETWORK_START.format(word="Start"),
        NETWORK_STOP,
        NETWORK_START.format(word="Unstop"),
    ]


def test_twilios_other_words_get_twilios_own_texts(make: Make) -> None:
    network = make()
    network.text_line(CALLER, "unsubscribe")
    network.text_line(CALLER, "HELP")  # opted out: no help text
    network.text_line(CALLER, "yes")
    assert received(network) == [TWILIO_STOP_REPLY, TWILIO_START_REPLY]


def test_a_long_code_gets_twilios_texts_only(make: Make) -> None:
    network = make(LONG_CODE)
    for word in ("STOP", "START", "HELP"):
        network.text_line(CALLER, word)
    sent = network.sent_messages(to=CALLER)
    eventually(lambda: all(m.status == "delivered" for m in sent), timeout=WAIT)
    assert [m.body for m in sent] == [TWILIO_STOP_REPLY, TWILIO_START_REPLY, TWILIO_HELP_REPLY]
    assert {m.from_ for m in sent} == {LONG_CODE}


@pytest.mark.parametrize("body", ["Help.", "help me", "HELP PLEASE", "AYUDA", "ALTO", "Stop."])
def test_anything_but_the_whole_keyword_gets_nothing_from_twilio(make: Make, body: str) -> None:
    network = make()
    network.text_line(CALLER, body)
    assert received(network) == []


def test_advanced_opt_out_sends_the_operators_texts_and_marks_the_webhook(
    make: Make, fake_line: FakeLine
) -> None:
    network = make(advanced_opt_out=CUSTOM)
    for word in ("HELP", "STOP", "START", "hello"):
        network.text_line(CALLER, word)
    # STOP: on toll-free the carrier's text, not the operator's; START: both.
    assert received(network) == [
        "Our help: call us.",
        NETWORK_STOP,
        NETWORK_START.format(word="Start"),
        "Welcome back.",
    ]
    types = [h.form.get("OptOutType") for h in fake_line.at("/sms/incoming")]
    assert types == ["HELP", "STOP", "START", None]


def test_advanced_opt_out_without_a_help_text_sends_none(make: Make, fake_line: FakeLine) -> None:
    network = make(advanced_opt_out=AdvancedOptOut(help="", start=""), toll_free=False)
    network.text_line(CALLER, "HELP")
    network.text_line(CALLER, "START")
    assert network.sent_messages(to=CALLER) == []
    assert [h.form.get("OptOutType") for h in fake_line.at("/sms/incoming")] == ["HELP", "START"]
