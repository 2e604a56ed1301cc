"""The emulator's settings: the account, the line it fronts and how much it
keeps. In a module of its own because the network and the parts it is made
of (call legs, texts) all read it, and those parts must not import the
network."""

from __future__ import annotations

from dataclasses import dataclass

LOG_LIMIT = 5000
# Toll-free area codes of the North American plan (800, 888, 877, 866, 855,
# 844, 833): the numbers whose texts pass the carrier's own STOP layer.
TOLL_FREE_PREFIXES = tuple(f"+1{code}" for code in (800, 888, 877, 866, 855, 844, 833))

# Twilio's default replies to its own keywords (docs/emulator.md, "Opt-out at
# Twilio's layer", which says where each comes from).
TWILIO_STOP_REPLY = (
    "You have successfully been unsubscribed. You will not receive any more messages"
    " from this number. Reply START to resubscribe."
)
TWILIO_START_REPLY = (
    "You have successfully been re-subscribed to messages from this number. Reply HELP"
    " for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply."
)
TWILIO_HELP_REPLY = "Reply STOP to unsubscribe. Msg&Data Rates May Apply."


@dataclass(frozen=True)
class AdvancedOptOut:
    """The line's number is in a Messaging Service with Advanced Opt-Out: Twilio
    answers its keywords with these texts (the operator's own; Twilio's
    defaults until changed) and marks them with OptOutType. An empty text
    sends nothing (whether Twilio's console allows one is not documented)."""

    help: str = TWILIO_HELP_REPLY
    start: str = TWILIO_START_REPLY
    stop: str = TWILIO_STOP_REPLY


@dataclass(frozen=True)
class EmulatorConfig:
    account_sid: str
    auth_token: str
    line_url: str  # where the line listens
    line_number: str
    public_url: str | None = None  # the base URL the line's webhooks are signed for
    voice_path: str = "/voice/incoming"
    voice_status_path: str | None = "/voice/status"
    voice_fallback_path: str | None = None
    sms_path: str = "/sms/incoming"
    other_numbers: tuple[str, ...] = ()  # more numbers the account owns
    max_workers: int = 64  # delivery reports (and other short background work) at once
    max_calls: int = 1000  # call legs in progress at once, each on its own thread
    log_limit: int = LOG_LIMIT  # entries kept in each log: REST requests, webhooks, notes
    webhook_timeout: float = 15.0
    # Real seconds per virtual second a scripted caller's waitUrl round lasts
    # (at least enqueue.MIN_ROUND); a phone a person plays always goes at 1.0.
    hold_pace: float = 0.0
    # At most this many real seconds a <Dial><Queue> waits on an empty queue
    # (None: the Dial's timeout, as Twilio does).
    dial_queue_wait: float | None = None
    # The line's number is toll-free (None: read from the number), so the
    # carrier answers STOP, START and UNSTOP itself ("NETWORK MSG").
    toll_free: bool | None = None
    # None: Twilio's default keyword handling, as a new account has.
    advanced_opt_out: AdvancedOptOut | None = None

    def is_toll_free(self, number: str) -> bool:
        """Is NUMBER (one the account owns) toll-free? The line's as configured."""
        if number == self.line_number and self.toll_free is not None:
            return self.toll_free
        return number.startswith(TOLL_FREE_PREFIXES)

    @property
    def base_url(self) -> str:
        return (self.public_url or self.line_url).rstrip("/")
