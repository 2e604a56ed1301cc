"""What the emulator remembers of each message and call leg, and the api v2010
JSON it renders them as.

Field names follow the `api.v2010.account.message` and `api.v2010.account.call`
schemas of twilio/twilio-oai (spec/json/twilio_api_v2010.json): every property
there is present (null where the emulator has nothing to say), `price` stays
null as it does until Twilio bills, `num_segments`/`num_media`/`duration` are
strings, `error_code` is an integer, dates are RFC 2822 in GMT.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from twilio_emulator.ids import API_VERSION, new_sid, now, rfc2822


@dataclass
class StatusChange:
    status: str
    at: datetime
    error_code: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "at": rfc2822(self.at), "error_code": self.error_code}


@dataclass
class MessageRecord:
    account_sid: str
    to: str
    from_: str
    body: str
    direction: str = "outbound-api"
    status: str = "queued"
    status_callback: str | None = None
    num_segments: int = 1
    num_media: int = 0
    error_code: int | None = None
    error_message: str | None = None
    sid: str = field(default_factory=lambda: new_sid("SM"))
    date_created: datetime = field(default_factory=now)
    date_updated: datetime = field(default_factory=now)
    date_sent: datetime | None = None
    history: list[StatusChange] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.history:
            self.history.append(StatusChange(self.status, self.date_created))

    def move_to(self, status: str, error_code: int | None = None, error: str | None = None) -> None:
        self.status = status
        self.date_updated = now()
        if status in ("sent", "received") and self.date_sent is None:
            self.date_sent = self.date_updated
        if error_code is not None:
            self.error_code, self.error_message = error_code, error
        self.history.append(StatusChange(status, self.date_updated, error_code))

    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"

    def resource(self) -> dict[str, Any]:
        """The Message resource as api v2010 returns it."""
        base = self.uri()[: -len(".json")]
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.date_created),
            "date_sent": rfc2822(self.date_sent),
            "date_updated": rfc2822(self.date_updated),
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "from": self.from_,
            "messaging_service_sid": None,
            "num_media": str(self.num_media),
            "num_segments": str(self.num_segments),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {
                "media": f"{base}/Media.json",
                "feedback": f"{base}/Feedback.json",
            },
            "to": self.to,
            "uri": self.uri(),
        }

    def inspect(self) -> dict[str, Any]:
        """The emulator's own view: the resource plus its status history."""
        return {
            **self.resource(),
            "status_callback": self.status_callback,
            "history": [change.as_json() for change in self.history],
        }


@dataclass
class Fetch:
    """One TwiML document a call leg asked for, and what it got."""

    url: str
    params: dict[str, str]
    status: int | None
    twiml: str
    at: datetime = field(default_factory=now)

    def as_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "params": self.params,
            "status": self.status,
            "twiml": self.twiml,
            "at": rfc2822(self.at),
        }


@dataclass
class CallRecord:
    account_sid: str
    to: str
    from_: str
    direction: str = "outbound-api"
    status: str = "queued"
    parent_call_sid: str | None = None
    url: str | None = None
    method: str = "POST"
    twiml: str | None = None
    fallback_url: str | None = None
    fallback_method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_events: tuple[str, ...] = ("completed",)
    timeout: int = 60
    answered_by: str | None = None
    machine_detection: str | None = None
    sid: str = field(default_factory=lambda: new_sid("CA"))
    date_created: datetime = field(default_factory=now)
    date_updated: datetime = field(default_factory=now)
    start_time: datetime | None = None
    end_time: datetime | None = None
    duration: int | None = None  # virtual seconds, from the TwiML it played
    queue_time: int = 0  # real seconds it waited in a queue
    activity: str = "queued"  # what the leg is doing now: "waiting", "gather", "done"…
    history: list[StatusChange] = field(default_factory=list)
    fetches: list[Fetch] = field(default_factory=list)
    heard: list[dict[str, str]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    # Twilio's debugger warnings (13xxx): the verb went on with its default.
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.history:
            self.history.append(StatusChange(self.status, self.date_created))

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "busy", "failed", "no-answer", "canceled")

    def move_to(self, status: str) -> None:
        self.status = status
        self.date_updated = now()
        if status == "in-progress" and self.start_time is None:
            self.start_time = self.date_updated
        if status in ("completed", "busy", "failed", "no-answer", "canceled"):
            self.end_time = self.date_updated
        self.history.append(StatusChange(status, self.date_updated))

    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}.json"

    def resource(self) -> dict[str, Any]:
        """The Call resource as api v2010 returns it."""
        base = self.uri()[: -len(".json")]
        subresources = ("Notifications", "Recordings", "Payments", "Events", "Siprec", "Streams")
        return {
            "account_sid": self.account_sid,
            "answered_by": self.answered_by,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "direction": self.direction,
            "duration": None if self.duration is None else str(self.duration),
            "end_time": rfc2822(self.end_time),
            "forwarded_from": None,
            "from": self.from_,
            "from_formatted": self.from_,
            "group_sid": None,
            "parent_call_sid": self.parent_call_sid,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": str(self.queue_time),
            "sid": self.sid,
            "start_time": rfc2822(self.start_time),
            "status": self.status,
            "subresource_uris": {name.lower(): f"{base}/{name}.json" for name in subresources},
            "to": self.to,
            "to_formatted": self.to,
            "trunk_sid": None,
            "uri": self.uri(),
        }

    def inspect(self) -> dict[str, Any]:
        """The emulator's own view: the resource plus what happened on the leg."""
        return {
            **self.resource(),
            "url": self.url,
            "activity": self.activity,
            "history": [change.as_json() for change in self.history],
            "fetches": [fetch.as_json() for fetch in self.fetches],
            "heard": list(self.heard),
            "errors": list(self.errors),
            "warnings": list(self.warnings),
        }
