"""What operators read about the line, as plain values: who is on call, who
is waiting and who is talking, voicemails and callback requests, the daily
figures, and whether a number opted out. The API, the pages and the CLI all
read through here, so they can never disagree.

Callers' numbers leave this module masked; the one exception is
`Overview.callback_number`, which an admin asks for right before calling back
(and which the caller of it audits).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
import redis

from ivr.callbacks.requests import Callbacks
from ivr.callbacks.urgent import UrgentItems
from ivr.callbacks.voicemail import INDEX as VOICEMAILS
from ivr.callbacks.voicemail import message_heard
from ivr.operators import jobs
from ivr.platform.privacy import mask
from ivr.platform.redis_store import decoded
from ivr.roster.model import Counselor, Roster
from ivr.roster.oncall import who_is_on_call
from ivr.routing.dispatches import Dispatches, counselor_of
from ivr.routing.figures import DayFigures, Figures, day_of
from ivr.sms.optout import OptOuts
from ivr.sms.twilio_layer import OptOutSetting

MAX_DAYS = 400

# KEYS[1] a voicemail's record; ARGV[1] its new status. A record that expired
# meanwhile is not brought back as a stray, endless hash.
_SET_STATUS_IF_EXISTS = """
local record, status = KEYS[1], ARGV[1]
if redis.call('EXISTS', record) == 0 then return 0 end
redis.call('HSET', record, 'status', status)
return 1
"""


@dataclass(frozen=True)
class OnCallPerson:
    id: str
    name: str
    languages: tuple[str, ...]
    phone: str  # masked
    busy: bool


@dataclass(frozen=True)
class LiveCall:
    id: str
    state: str  # waiting | ringing | bridged
    language: str
    caller: str  # masked
    waited_seconds: int
    counselor: str | None
    talking_seconds: int | None


@dataclass(frozen=True)
class Voicemail:
    id: str
    created: datetime
    duration_seconds: int
    language: str
    caller: str  # masked
    recording_url: str
    status: str  # new | done
    callback: str | None
    urgent: str | None = None  # a message nobody may call back: the work of hearing it


@dataclass(frozen=True)
class CallbackRequest:
    reference: str
    created: datetime
    source: str
    language: str
    urgent: bool
    status: str
    attempts: int
    caller: str  # masked
    waiting_minutes: int


@dataclass(frozen=True)
class UrgentWork:
    """Urgent work nobody has taken yet: a crisis text's callback, an urgent
    callback, a voicemail; how long it has waited and how far it has climbed."""

    reference: str
    kind: str  # crisis | callback | voicemail
    language: str
    waiting_minutes: int
    step: str  # on_call | on_call_again | supervisors | backup (ivr.callbacks.urgent.LADDER)
    reached_backup: bool


@dataclass(frozen=True)
class Board:
    """The Now page: one consistent read."""

    at: datetime
    on_call: list[OnCallPerson]
    waiting: list[LiveCall]
    connected: list[LiveCall]
    today: DayFigures  # the line's local day, in `zone`
    zone: str  # the line's time zone (an IANA name), whose days the figures count
    open_callbacks: int = 0
    new_voicemails: int = 0
    notes: list[str] = field(default_factory=list)
    failed_jobs: int = 0  # jobs RQ gave up on (docs/reliability.md): someone should look
    urgent: list[UrgentWork] = field(default_factory=list)  # not taken yet, oldest first


class OptOutLookupError(ValueError):
    """The number could not be read as a phone number."""


class Overview:
    def __init__(
        self, client: redis.Redis, secret_key: str, retention_seconds: int, zone_name: str
    ) -> None:
        """ZONE_NAME: the line's time zone (`Settings.timezone`): its figures'
        days, today among them, are local dates there."""
        self._redis = client
        self.zone_name = zone_name
        self._figures = Figures(client, zone_name)
        self._secret = secret_key
        self._retention = retention_seconds
        # The same record lifetime as the routes that write dispatches.
        self._dispatches = Dispatches(client, retention_seconds)
        self._callbacks = Callbacks(client, secret_key, retention_seconds)
        self._urgent = UrgentItems(client, retention_seconds)
        self._set_if_exists = client.register_script(_SET_STATUS_IF_EXISTS)

    # -- on call and live calls --------------------------------------------

    def on_call(self, roster: Roster | None, at: datetime) -> list[OnCallPerson]:
        if roster is None:
            return []
        busy = self._dispatches.busy_counselors()
        return [_person(c, c.id in busy) for c in who_is_on_call(roster, at)]

    def live_calls(self) -> list[LiveCall]:
        now = time.time()
        calls = []
        for dispatch in self._dispatches.live():
            answered = dispatch.answered_at
            calls.append(
                LiveCall(
                    id=dispatch.id,
                    state=dispatch.state,
                    language=dispatch.language,
                    caller=mask(dispatch.caller),
                    waited_seconds=int((answered or now) - dispatch.created),
                    counselor=_counselor_of_winner(dispatch.winner),
                    talking_seconds=int(now - answered) if answered else None,
                )
            )
        return calls

    def board(self, roster: Roster | None, at: datetime | None = None) -> Board:
        moment = at or datetime.now(UTC)
        calls = self.live_calls()
        return Board(
            at=moment,
            on_call=self.on_call(roster, moment),
            waiting=[c for c in calls if c.state != "bridged"],
            connected=[c for c in calls if c.state == "bridged"],
            today=self._figures.day(day_of(moment.timestamp(), zone_name=self.zone_name)),
            zone=self.zone_name,
            open_callbacks=len(self._callbacks.open_references()),
            new_voicemails=sum(v.status == "new" for v in self.voicemails()),
            notes=self._notes(roster),
            failed_jobs=jobs.failed_count(self._redis),
            urgent=self.urgent(),
        )

    def _notes(self, roster: Roster | None) -> list[str]:
        notes = [] if roster is not None else ["no roster yet: nobody is on call"]
        opt_out_setting = OptOutSetting.mismatch(self._redis)
        return notes + ([opt_out_setting] if opt_out_setting else [])

    # -- voicemail -----------------------------------------------------------

    def voicemails(self, include_done: bool = False) -> list[Voicemail]:
        """Newest first; those past retention are gone from Redis and dropped here."""
        self._redis.zremrangebyscore(VOICEMAILS, 0, time.time() - self._retention)
        found = []
        for raw in self._redis.zrevrange(VOICEMAILS, 0, -1):
            sid = raw.decode() if isinstance(raw, bytes) else str(raw)
            record = decoded(self._redis.hgetall(f"voicemail:{sid}"))
            if not record:
                self._redis.zrem(VOICEMAILS, sid)
                continue
            voicemail = _voicemail(sid, record)
            if include_done or voicemail.status != "done":
                found.append(voicemail)
        return found

    def heard(self, sid: str, by: str) -> bool:
        """BY listened to the message: its urgent work, if any, is theirs."""
        return message_heard(self._redis, self._retention, sid, by)

    def voicemail(self, sid: str) -> Voicemail | None:
        record = decoded(self._redis.hgetall(f"voicemail:{sid}"))
        return _voicemail(sid, record) if record else None

    def mark_voicemail(
        self, sid: str, status: str, by: str = ""
    ) -> tuple[Voicemail, Voicemail] | None:
        """(before, after); None for an unknown voicemail. Done by BY: the
        work of hearing it, if it had any, is theirs."""
        before = self.voicemail(sid)
        if before is None or not self._set_if_exists(keys=[f"voicemail:{sid}"], args=[status]):
            return None
        if status == "done":
            message_heard(self._redis, self._retention, sid, by)
        after = self.voicemail(sid)
        return (before, after) if after is not None else None

    # -- callbacks -----------------------------------------------------------

    def callbacks(self, include_done: bool = False) -> list[CallbackRequest]:
        """Open requests, urgent and oldest first; then, if asked, the recently done."""
        references = self._callbacks.open_references()
        if include_done:
            references += self._callbacks.done_references()
        found = (self.callback(reference) for reference in dict.fromkeys(references))
        return [request for request in found if request is not None]

    def callback(self, reference: str) -> CallbackRequest | None:
        record = self._callbacks.get(reference)
        return _callback(reference, record) if record else None

    def callback_number(self, reference: str) -> str | None:
        """The caller's number in clear, for the admin about to call back."""
        return self._callbacks.get(reference).get("number") or None

    def mark_callback(
        self, reference: str, status: str, by: str
    ) -> tuple[CallbackRequest, CallbackRequest] | None:
        before = self.callback(reference)
        if before is None or not self._callbacks.mark(reference, status, by=by, attempt=False):
            return None
        if status == "done":
            self._urgent.claim(reference, by)  # returned: its ladder has nothing left to do
        after = self.callback(reference)
        return (before, after) if after is not None else None

    # -- urgent work -----------------------------------------------------------

    def urgent(self) -> list[UrgentWork]:
        now = time.time()
        return [
            UrgentWork(
                item.reference,
                item.kind,
                item.language,
                int(item.age(now) // 60),
                item.step_name,
                item.reached_backup,
            )
            for item in self._urgent.open_items()
        ]

    def claim_urgent(self, reference: str, by: str) -> bool | None:
        """BY takes the item: True; False when someone took it first; None for
        no such item. The caller audits it."""
        if self._urgent.get(reference) is None:
            return None
        return self._urgent.claim(reference, by)

    # -- jobs that failed for good -------------------------------------------

    def failed_jobs(self, limit: int = 100) -> list[jobs.FailedJob]:
        """Newest first: which job, when, and the exception's type and first
        line — never its arguments."""
        return jobs.failed_jobs(self._redis, limit)

    def retry_job(self, job_id: str) -> bool:
        """Queue a failed job again (the caller audits it); False if unknown."""
        return jobs.retry_failed(self._redis, job_id)

    # -- figures and opt-outs -----------------------------------------------

    def figures(self, days: int, until: date | None = None) -> list[DayFigures]:
        """The last `days` days up to `until` (today), oldest first: local dates
        in the line's zone, one each whatever its length (23 or 25 hours across a
        DST change)."""
        last = until or datetime.now(ZoneInfo(self.zone_name)).date()
        count = max(1, min(days, MAX_DAYS))
        shown = [last - timedelta(days=n) for n in reversed(range(count))]
        return [self._figures.day(day.isoformat()) for day in shown]

    def opted_out(self, number: str, region: str = "US") -> bool:
        """Whether this number asked to hear nothing more. Looked up by its keyed
        hash: the opt-out list holds no numbers to hand out."""
        return OptOuts(self._redis, self._secret).is_opted_out(e164(number, region))


def e164(number: str, region: str = "US") -> str:
    """A number as typed by a person ("(202) 555-0101") in E.164, or OptOutLookupError."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as error:
        raise OptOutLookupError(f"not a phone number: {error}") from None
    if not phonenumbers.is_possible_number(parsed):
        raise OptOutLookupError("not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _person(counselor: Counselor, busy: bool) -> OnCallPerson:
    return OnCallPerson(
        counselor.id, counselor.name, counselor.languages, mask(counselor.phone), busy
    )


def _counselor_of_winner(leg_id: str) -> str | None:
    return counselor_of(leg_id) if leg_id else None


def _count(value: str | None) -> int:
    """A stored count, or 0 for anything that is not plain ASCII digits."""
    text = value or ""
    return int(text) if text.isascii() and text.isdigit() else 0


def _moment(value: str | None) -> datetime:
    try:
        return datetime.fromtimestamp(float(value or 0), UTC)
    except (ValueError, OverflowError):
        return datetime.fromtimestamp(0, UTC)


def _voicemail(sid: str, record: dict[str, str]) -> Voicemail:
    return Voicemail(
        id=sid,
        created=_moment(record.get("created")),
        duration_seconds=_count(record.get("duration")),
        language=record.get("language", ""),
        caller=mask(record.get("caller", "")),
        recording_url=record.get("recording_url", ""),
        status="done" if record.get("status") == "done" else "new",
        callback=record.get("callback") or None,
        urgent=record.get("urgent") or None,
    )


def _callback(reference: str, record: dict[str, str]) -> CallbackRequest:
    created = _moment(record.get("created"))
    return CallbackRequest(
        reference=reference,
        created=created,
        source=record.get("source", ""),
        language=record.get("language", ""),
        urgent=record.get("urgent") == "1",
        status=record.get("status", "open"),
        attempts=_count(record.get("attempts")),
        caller=mask(record.get("number", "")),
        waiting_minutes=max(0, int((datetime.now(UTC) - created).total_seconds() // 60)),
    )
