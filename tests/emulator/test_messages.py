"""Messages through the official twilio client: create, fetch, list, the
delivery reports that follow, and every error the line must handle."""

from __future__ import annotations

from datetime import datetime

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from ivr.platform.config import Settings
from ivr.platform.twilio_transport import twilio_client
from tests.conftest import AUTH_TOKEN
from tests.emulator.conftest import CALLER, LINE_NUMBER, FakeLine
from tests.live import eventually
from twilio_emulator import Network


def send(rest: Client, fake_line: FakeLine, body: str = "hello", to: str = CALLER) -> str:
    message = rest.messages.create(
        to=to, from_=LINE_NUMBER, body=body, status_callback=f"{fake_line.url}/status"
    )
    return str(message.sid)


def test_a_created_message_comes_back_as_twilio_writes_it(rest: Client) -> None:
    message = rest.messages.create(to=CALLER, from_=LINE_NUMBER, body="Reply STOP to opt out")
    assert message.sid.startswith("SM")
    assert len(message.sid) == 34
    assert message.status == "queued"
    assert (message.to, message.from_, message.body) == (
        CALLER,
        LINE_NUMBER,
        "Reply STOP to opt out",
    )
    assert message.direction == "outbound-api"
    assert isinstance(message.date_created, datetime)
    assert message.date_created.tzinfo is not None
    assert message.api_version == "2010-04-01"
    assert message.num_segments == "1"
    assert message.price is None
    assert message.uri == f"/2010-04-01/Accounts/{message.account_sid}/Messages/{message.sid}.json"


def test_a_message_can_be_fetched_and_listed(rest: Client, network: Network) -> None:
    sid = rest.messages.create(to=CALLER, from_=LINE_NUMBER, body="one").sid
    eventually(lambda: network.messages[sid].status == "delivered")
    fetched = rest.messages(sid).fetch()
    assert fetched.status == "delivered"
    assert isinstance(fetched.date_sent, datetime)
    assert [m.sid for m in rest.messages.list(to=CALLER)] == [sid]
    assert rest.messages.list(to="+12025550199") == []


def test_listing_follows_pages(rest: Client) -> None:
    sids = {rest.messages.create(to=CALLER, from_=LINE_NUMBER, body=str(n)).sid for n in range(5)}
    assert {m.sid for m in rest.messages.list(page_size=2)} == sids


def test_a_filtered_list_keeps_its_filter_on_every_page(rest: Client) -> None:
    """Twilio keeps a list's filters in its paging URIs; without them the next
    page listed every number's messages (issue 18, item 5)."""
    other = "+12025550177"
    mine = {rest.messages.create(to=CALLER, from_=LINE_NUMBER, body=str(n)).sid for n in range(3)}
    for n in range(4):
        rest.messages.create(to=other, from_=LINE_NUMBER, body=f"other {n}")
    assert {m.sid for m in rest.messages.list(to=CALLER, limit=7, page_size=2)} == mine
    page = rest.messages.page(to=CALLER, page_size=2)
    assert "To=%2B1" in (page.next_page_url or "")


def test_delivery_is_reported_queued_sent_delivered_and_signed(
    rest: Client, fake_line: FakeLine
) -> None:
    sid = send(rest, fake_line)
    hooks = eventually(lambda: len(fake_line.at("/status")) == 3 and fake_line.at("/status"))
    assert [h.form["MessageStatus"] for h in hooks] == ["queued", "sent", "delivered"]
    assert all(h.signed for h in hooks)
    assert {h.form["MessageSid"] for h in hooks} == {sid}
    assert hooks[-1].form["SmsStatus"] == "delivered"
    assert hooks[-1].form["To"] == CALLER


def test_a_tampered_delivery_report_fails_the_signature_check(
    rest: Client, fake_line: FakeLine
) -> None:
    send(rest, fake_line)
    hook = eventually(lambda: fake_line.at("/status") and fake_line.at("/status")[0])
    validator = RequestValidator(AUTH_TOKEN)
    assert validator.validate(hook.url, hook.form, hook.signature)
    tampered = {**hook.form, "MessageStatus": "delivered"}
    assert tampered != hook.form
    assert not validator.validate(hook.url, tampered, hook.signature)


def test_carrier_filtering_30007_is_reported_by_callback_not_at_create(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    network.fail_next("messages", code=30007)
    sid = send(rest, fake_line)  # accepted
    hooks = eventually(lambda: len(fake_line.at("/status")) == 3 and fake_line.at("/status"))
    assert [h.form["MessageStatus"] for h in hooks] == ["queued", "sent", "undelivered"]
    assert hooks[-1].form["ErrorCode"] == "30007"
    fetched = rest.messages(sid).fetch()
    assert (fetched.status, fetched.error_code) == ("undelivered", 30007)


@pytest.mark.parametrize(
    ("fault", "code", "status"),
    [
        ({"code": 20429}, 20429, 429),
        ({"status": 429}, 20429, 429),
        ({"status": 500}, 20500, 500),
        ({"code": 21610}, 21610, 400),
        ({"code": 21211}, 21211, 400),
        ({"code": 21408}, 21408, 400),
    ],
)
def test_injected_create_errors_reach_the_client_as_twilio_exceptions(
    rest: Client, network: Network, fault: dict[str, int], code: int, status: int
) -> None:
    network.fail_next("messages", **fault)
    with pytest.raises(TwilioRestException) as raised:
        rest.messages.create(to=CALLER, from_=LINE_NUMBER, body="hi")
    assert (raised.value.code, raised.value.status) == (code, status)
    assert rest.messages.create(to=CALLER, from_=LINE_NUMBER, body="hi").status == "queued"


def test_a_fault_holds_for_its_count_then_lifts(rest: Client, network: Network) -> None:
    network.fail_next("messages", count=2, code=20429)
    for _ in range(2):
        with pytest.raises(TwilioRestException):
            rest.messages.create(to=CALLER, from_=LINE_NUMBER, body="hi")
    rest.messages.create(to=CALLER, from_=LINE_NUMBER, body="hi")
    statuses = [r["status"] for r in network.requests if r["method"] == "POST"]
    assert statuses == [429, 429, 201]


@pytest.mark.parametrize(
    ("to", "body", "code"),
    [
        ("12345", "hi", 21211),
        ("", "hi", 21604),
        (CALLER, "", 21602),
        (CALLER, "x" * 1601, 21617),
    ],
)
def test_twilio_checks_what_it_is_asked_to_send(
    rest: Client, to: str, body: str, code: int
) -> None:
    with pytest.raises(TwilioRestException) as raised:
        rest.messages.create(to=to, from_=LINE_NUMBER, body=body)
    assert (raised.value.code, raised.value.status) == (code, 400)


def test_sending_from_a_number_the_account_does_not_own_is_refused(rest: Client) -> None:
    with pytest.raises(TwilioRestException) as raised:
        rest.messages.create(to=CALLER, from_="+12025550100", body="hi")
    assert raised.value.code == 21606


def test_a_phone_that_texted_stop_is_unsubscribed_until_start(
    rest: Client, network: Network
) -> None:
    network.text_line(CALLER, "stop")
    with pytest.raises(TwilioRestException) as raised:
        rest.messages.create(to=CALLER, from_=LINE_NUMBER, body="hi")
    assert (raised.value.code, raised.value.status) == (21610, 400)
    network.text_line(CALLER, "START")
    assert rest.messages.create(to=CALLER, from_=LINE_NUMBER, body="hi").status == "queued"


@pytest.mark.parametrize(
    ("body", "blocked"),
    [
        *((word, True) for word in ("STOP", "stopall", "Unsubscribe", "CANCEL", "end", "QUIT")),
        *((word, True) for word in ("revoke", "OptOut", " stop ")),
        # Not Twilio's: the line honours these itself (docs/emulator.md, "Opt-out").
        *((word, False) for word in ("ALTO", "STOP PLEASE", "stop texting me", "Stop.")),
    ],
)
def test_only_twilios_own_words_alone_opt_out_at_twilio(
    rest: Client, network: Network, body: str, blocked: bool
) -> None:
    network.text_line(CALLER, body)
    if blocked:
        with pytest.raises(TwilioRestException) as raised:
            rest.messages.create(to=CALLER, from_=LINE_NUMBER, body="hi")
        assert raised.value.code == 21610
    else:
        assert rest.messages.create(to=CALLER, from_=LINE_NUMBER, body="hi").status == "queued"


def test_a_dropped_connection_is_a_network_error(rest: Client, network: Network) -> None:
    network.fail_next("messages", drop=True)
    with pytest.raises(requests.ConnectionError):
        rest.messages.create(to=CALLER, from_=LINE_NUMBER, body="hi")
    assert eventually(lambda: network.requests and network.requests[-1]["dropped"])


def test_a_slow_answer_runs_into_the_client_timeout(
    rest_settings: Settings, network: Network
) -> None:
    network.fail_next("messages", delay=1.0)
    impatient = twilio_client(rest_settings, timeout=0.1)
    with pytest.raises(requests.Timeout):
        impatient.messages.create(to=CALLER, from_=LINE_NUMBER, body="hi")
    # The emulator still takes the message once it stops stalling, as Twilio may:
    # a timeout does not mean the text was not sent.
    assert eventually(lambda: network.sent_messages(to=CALLER))


def test_wrong_credentials_get_20003(rest_settings: Settings) -> None:
    from dataclasses import replace

    stranger = twilio_client(replace(rest_settings, twilio_auth_token="not-the-token"))
    with pytest.raises(TwilioRestException) as raised:
        stranger.messages.create(to=CALLER, from_=LINE_NUMBER, body="hi")
    assert (raised.value.code, raised.value.status) == (20003, 401)


def test_an_unknown_message_is_20404(rest: Client) -> None:
    with pytest.raises(TwilioRestException) as raised:
        rest.messages("SM" + "f" * 32).fetch()
    assert (raised.value.code, raised.value.status) == (20404, 404)


def test_a_text_to_the_line_is_posted_signed_and_its_reply_is_sent(
    network: Network, fake_line: FakeLine
) -> None:
    fake_line.documents["sms"] = "<Response><Message>We got it.</Message></Response>"
    inbound = network.text_line(CALLER, "HELP")
    hook = fake_line.at("/sms/incoming")[0]
    assert hook.signed
    assert hook.form["Body"] == "HELP"
    assert hook.form["SmsStatus"] == "received"
    assert hook.form["MessageSid"] == inbound.message.sid
    assert (hook.form["From"], hook.form["To"], hook.form["NumMedia"]) == (CALLER, LINE_NUMBER, "0")
    [reply] = inbound.replies
    assert (reply.to, reply.from_, reply.body) == (CALLER, LINE_NUMBER, "We got it.")
    assert reply.direction == "outbound-reply"
    eventually(lambda: reply.status == "delivered")
