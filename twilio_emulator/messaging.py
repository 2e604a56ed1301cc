"""Texts: the checks Twilio makes when the line creates a message, the network's
delivery reports (status callbacks), and texts from virtual phones to the line.

Like Twilio's default opt-out handling on a long code or toll-free number, a
text of STOP (or a synonym) from a phone unsubscribes it — the line's later
messages to it fail at create with 21610 — and START (or a synonym)
resubscribes it. Twilio answers those and HELP/INFO itself, as does the
carrier of a toll-free number (`keyword_replies`): the phone gets those texts
as well as the line's. Only Twilio's documented defaults count, as a single
word of any case: ALTO, "STOP PLEASE" or "stop texting me" are the line's to
honour (it records them and stops sending itself), not Twilio's
(docs/emulator.md, "Opt-out").
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import ParamSpec, Protocol

from ivr.content.segments import count_segments
from ivr.platform.config import is_e164
from twilio_emulator.config import (
    TWILIO_HELP_REPLY,
    TWILIO_START_REPLY,
    TWILIO_STOP_REPLY,
    EmulatorConfig,
)
from twilio_emulator.errors import DELIVERY_ERRORS, TwilioError, delivery_status, twilio_error
from twilio_emulator.ids import API_VERSION
from twilio_emulator.numbers import IncomingNumber, NumberBook
from twilio_emulator.records import MessageRecord
from twilio_emulator.webhooks import Delivery, Webhooks

P = ParamSpec("P")
MAX_BODY = 1600
# Twilio's default keywords (Advanced Opt-Out tutorial; "Twilio support for
# opt-out keywords"): English only, the whole message.
OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN = frozenset({"START", "YES", "UNSTOP"})
HELP = frozenset({"HELP", "INFO"})
# The toll-free carrier's own replies (Twilio, "Opt-out keyword handling (SMS
# STOP Filtering) for Toll-Free SMS"): to STOP, and to START or UNSTOP, whose
# reply names the word as it was sent ("Start", "Unstop").
NETWORK_STOP = (
    'NETWORK MSG: You replied with the word "stop" which blocks all texts sent from this'
    ' number. Text back "unstop" to receive messages again.'
)
NETWORK_START = (
    'NETWORK MSG: You have replied "{word}" and will begin receiving messages again from'
    " this number."
)


class TextNetwork(Protocol):
    """What texts need of the network they travel (network.Network): passed
    in, as the network imports this module to deliver them."""

    config: EmulatorConfig
    lock: threading.RLock
    numbers: NumberBook
    webhooks: Webhooks

    @property
    def owned_numbers(self) -> frozenset[str]: ...

    def number(self, phone_number: str | None = None) -> IncomingNumber: ...

    def add_message(self, record: MessageRecord) -> None: ...

    def notify(self) -> None: ...

    def note(self, text: str) -> None: ...

    def opt_out(self, number: str) -> None: ...

    def opt_in(self, number: str) -> None: ...

    def is_opted_out(self, number: str) -> bool: ...

    def submit(self, work: Callable[P, None], *args: P.args, **kwargs: P.kwargs) -> None: ...


def new_outbound(network: TextNetwork, form: Mapping[str, str]) -> MessageRecord:
    """The Message a create request makes, or the TwilioError it gets."""
    to = form.get("To", "").strip()
    from_ = form.get("From", "").strip()
    body = form.get("Body", "")
    if not to:
        raise twilio_error(21604)
    if not from_ and not form.get("MessagingServiceSid"):
        raise twilio_error(21603)
    if not body and not form.get("MediaUrl"):
        raise twilio_error(21602)
    if len(body) > MAX_BODY:
        raise twilio_error(21617)
    if not is_e164(to):
        raise twilio_error(21211, to=to)
    if from_ and from_ not in network.owned_numbers:
        raise twilio_error(21606, from_=from_)
    if network.is_opted_out(to):
        raise twilio_error(21610)
    return MessageRecord(
        account_sid=network.config.account_sid,
        to=to,
        from_=from_ or network.config.line_number,
        body=body,
        status_callback=form.get("StatusCallback") or None,
        num_segments=count_segments(body).segments if body else 1,
        num_media=1 if form.get("MediaUrl") else 0,
    )


def deliver(network: TextNetwork, record: MessageRecord, failure: int | None) -> None:
    """The carrier's part: queued → sent → delivered, or a delivery error
    (`failed` before sending, `undelivered` after), each reported to the
    message's StatusCallback."""
    _report(network, record)  # queued
    steps: list[tuple[str, int | None]]
    if failure is None:
        steps = [("sent", None), ("delivered", None)]
    elif delivery_status(failure) == "failed":
        steps = [("failed", failure)]
    else:
        steps = [("sent", None), ("undelivered", failure)]
    for status, code in steps:
        with network.lock:
            record.move_to(status, code, DELIVERY_ERRORS.get(code or 0))
        network.notify()
        _report(network, record)


def _report(network: TextNetwork, record: MessageRecord) -> Delivery | None:
    if not record.status_callback:
        return None
    fields = {
        "AccountSid": record.account_sid,
        "ApiVersion": API_VERSION,
        "From": record.from_,
        "MessageSid": record.sid,
        "MessageStatus": record.status,
        "SmsSid": record.sid,
        "SmsStatus": record.status,
        "To": record.to,
    }
    if record.error_code is not None:
        fields["ErrorCode"] = str(record.error_code)
    return network.webhooks.send(record.status_callback, fields)


@dataclass
class InboundText:
    """A text a virtual phone sent the line, and what the line answered."""

    message: MessageRecord
    delivery: Delivery
    replies: list[MessageRecord] = field(default_factory=list)


def text_line(network: TextNetwork, from_: str, body: str, to: str | None = None) -> InboundText:
    """Deliver a text to the line's Messaging URL now (its SmsFallbackUrl if
    that fails), as Twilio does, and send any `<Message>` replies in its TwiML
    back to the phone."""
    line = to or network.config.line_number
    record = MessageRecord(
        account_sid=network.config.account_sid,
        to=line,
        from_=from_,
        body=body,
        direction="inbound",
        status="received",
        num_segments=count_segments(body).segments,
    )
    record.date_sent = record.date_created
    network.add_message(record)
    opt_out_type = keyword_replies(network, from_, body, line)
    fields = {
        "AccountSid": network.config.account_sid,
        "ApiVersion": API_VERSION,
        "Body": body,
        "From": from_,
        "MessageSid": record.sid,
        "NumMedia": "0",
        "NumSegments": str(record.num_segments),
        "SmsMessageSid": record.sid,
        "SmsSid": record.sid,
        "SmsStatus": "received",
        "To": line,
    }
    if opt_out_type is not None and network.config.advanced_opt_out is not None:
        # Only a Messaging Service with Advanced Opt-Out tells the webhook
        # ("How to Track Opt-Out, Opt-In and Help Messages Using the
        # OptOutType Parameter"); Twilio's default handling does not.
        fields["OptOutType"] = opt_out_type
    number = network.number(line)
    with network.numbers.lock:
        sms = (number.sms_url, number.sms_method)
        fallback = (number.sms_fallback_url, number.sms_fallback_method)
    delivery = network.webhooks.send(sms[0], fields, sms[1])
    code = delivery.reply_problem()
    if code is not None and fallback[0]:
        # As Twilio does: the SmsFallbackUrl, told what went wrong (11200
        # covers a refused connection and an error status; 12300 a reply
        # that is not XML).
        delivery = network.webhooks.send(
            fallback[0], {**fields, "ErrorCode": code, "ErrorUrl": sms[0]}, fallback[1]
        )
    inbound = InboundText(record, delivery)
    if delivery.reply_problem() is None and delivery.body.strip():
        inbound.replies = _replies(network, delivery.body, from_, line)
    return inbound


def keyword_replies(network: TextNetwork, texter: str, body: str, line: str) -> str | None:
    """Twilio's layer (and a toll-free carrier's) before the webhook: a whole-
    message keyword opts the phone out or in and is answered from the line's
    number. Its OptOutType (STOP, START, HELP), or None for any other text.

    Which texts (docs/emulator.md, "Twilio's own replies to its keywords"): on a
    toll-free number the carrier answers STOP (the Advanced Opt-Out reply is
    not shown) and START/UNSTOP (then the Advanced Opt-Out reply too); Twilio
    answers the other words, and HELP/INFO unless the phone is opted out."""
    word = body.strip()
    keyword = word.upper()
    config = network.config
    custom = config.advanced_opt_out
    toll_free = config.is_toll_free(line)
    replies: list[str] = []
    if keyword in OPT_OUT:
        network.opt_out(texter)
        if toll_free and keyword == "STOP":
            replies = [NETWORK_STOP]
        else:
            replies = [custom.stop if custom else TWILIO_STOP_REPLY]
        kind = "STOP"
    elif keyword in OPT_IN:
        network.opt_in(texter)
        if toll_free and keyword in ("START", "UNSTOP"):
            # Whether Twilio's default opt-in text follows the carrier's is
            # not documented: only the carrier's is sent without Advanced Opt-Out.
            replies = [NETWORK_START.format(word=word.capitalize())]
            replies += [custom.start] if custom else []
        else:
            replies = [custom.start if custom else TWILIO_START_REPLY]
        kind = "START"
    elif keyword in HELP:
        if not network.is_opted_out(texter):
            replies = [custom.help if custom else TWILIO_HELP_REPLY]
        kind = "HELP"
    else:
        return None
    for text in replies:
        if not text:
            continue
        reply = MessageRecord(
            account_sid=config.account_sid,
            to=texter,
            from_=line,
            body=text,
            direction="outbound-reply",
            num_segments=count_segments(text).segments,
        )
        network.add_message(reply)
        network.submit(deliver, network, reply, None)
    return kind


def _replies(network: TextNetwork, twiml: str, texter: str, line: str) -> list[MessageRecord]:
    try:
        root = ET.fromstring(twiml)  # noqa: S314 - ElementTree expands no external entities
    except ET.ParseError:
        return []
    replies = []
    for element in root.iter("Message"):
        body_element = element.find("Body")
        text = (body_element.text if body_element is not None else element.text) or ""
        try:
            reply = new_outbound(
                network,
                {
                    "To": element.get("to", texter),
                    "From": element.get("from", line),
                    "Body": text.strip(),
                    "StatusCallback": element.get("statusCallback", ""),
                },
            )
        except TwilioError as error:
            network.note(f"reply to {texter} refused: {error}")
            continue
        reply.direction = "outbound-reply"
        network.add_message(reply)
        network.submit(deliver, network, reply, None)
        replies.append(reply)
    return replies
