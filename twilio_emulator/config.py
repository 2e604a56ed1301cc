"""The emulator's settings: the account, the line it fronts and how much it
keeps. In a module of its own because the network and the parts it is made
of (call legs, texts) all read it, and those parts must not import the
network."""

from __future__ import annotations

from dataclasses import dataclass

LOG_LIMIT = 5000


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

    @property
    def base_url(self) -> str:
        return (self.public_url or self.line_url).rstrip("/")
