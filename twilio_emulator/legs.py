"""One call leg, played in a background thread: it rings, is answered (or not)
by its virtual phone, fetches TwiML, runs it, and reports its progress to its
status callback — each request signed, each bounded by Twilio's timeouts.

A leg can be moved from outside while it runs (REST update: new `Url`/`Twiml`,
`Status=completed|canceled`); the update is taken between verbs, or at once if
the phone is waiting (a `wait` step, ringing with `ring_seconds`, on hold in a
queue, bridged, or an interactive phone waiting for its person).
"""

from __future__ import annotations

import math
import secrets
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Protocol

from twilio_emulator.config import EmulatorConfig
from twilio_emulator.ids import API_VERSION, now, rfc2822
from twilio_emulator.interactive import ask_person, ring_person
from twilio_emulator.phonebook import Performer, PhoneBook
from twilio_emulator.phones import Answer, Step
from twilio_emulator.queues import QueueBook
from twilio_emulator.recordings import RecordingRecord
from twilio_emulator.records import CallRecord, Fetch
from twilio_emulator.twiml import (
    DialedLeg,
    End,
    Goto,
    Interpreter,
    Outcome,
    TwimlError,
    document,
    fetch_problem,
    parse,
)
from twilio_emulator.webhooks import Delivery, Webhooks

MAX_DOCUMENTS = 200  # a call that fetches more TwiML than this is stuck in a loop
FINAL = ("completed", "busy", "failed", "no-answer", "canceled")


class CallNetwork(Protocol):
    """What a call leg, and the verbs it plays (enqueue.py and dequeue.py reach
    it through the leg), need of the network the leg runs on
    (network.Network): passed in, as the network imports the legs it runs."""

    config: EmulatorConfig
    lock: threading.RLock
    phones: PhoneBook
    queues: QueueBook
    webhooks: Webhooks

    def notify(self) -> None: ...

    def add_call(self, record: CallRecord) -> None: ...

    def add_recording(self, record: RecordingRecord) -> None: ...

    def open_leg(self, record: CallRecord, interpreter: Interpreter | None = None) -> CallLeg: ...

    def close_leg(self, sid: str) -> None: ...


class CallLeg:
    def __init__(
        self,
        network: CallNetwork,
        record: CallRecord,
        performer: Performer,
        interpreter: Interpreter,
    ) -> None:
        self.network = network
        self.record = record
        self.performer = performer
        self.interpreter = interpreter
        self.document_url = record.url or ""
        self._elapsed = 0.0
        self._answered = False
        self._sequence = 0
        self._control = threading.Condition()
        self._update: Outcome = None
        self._engaged = False  # holds its single-line phone's line
        # Twilio makes a CallToken when a call arrives at one of the account's
        # numbers, for forwarding it (Calls create, `CallToken`): opaque here.
        self.call_token = secrets.token_urlsafe(96) if record.direction == "inbound" else ""
        # While on hold in a queue: what interrupts a wait (a dequeuer, a hang-up).
        self.hold_check: Callable[[], bool] | None = None

    # -- what verbs use (twiml.Leg) ----------------------------------------

    def hear(self, kind: str, text: str, **details: str) -> None:
        entry = {"kind": kind, "text": text, **{k: v for k, v in details.items() if v}}
        entry["at_second"] = str(int(self._elapsed))
        entry["at_time"] = f"{time.time():.3f}"  # real (epoch) seconds: for timing under load
        with self.network.lock:
            self.record.heard.append(entry)
        self.network.notify()
        if self.performer.phone is not None:
            self.performer.phone.event(kind, text, **{k: v for k, v in details.items() if v})

    @property
    def elapsed(self) -> float:
        return self._elapsed

    def elapse(self, seconds: float) -> None:
        self._elapsed += max(0.0, seconds)

    def next_step(self, patience: float = 5.0, **prompt: str) -> Step:
        """What the phone does now that the call waits for it: its script's next
        step, or its person's input (waiting up to `patience` real seconds)."""
        self._activity("listening")
        if self.performer.phone is not None:
            return ask_person(self, self.performer.phone, patience, prompt)
        return self.performer.next_step(in_queue=self.hold_check is not None)

    def hangs_up_now(self) -> bool:
        """Whether a script's next step, taken now, is a hang-up (after the words
        of a <Record>: the caller hangs up while still being recorded). A person
        at an interactive phone hangs up at the next prompt instead."""
        return self.performer.phone is None and self.performer.take("hangup") is not None

    def wait_on(self, ready: Callable[[], bool], seconds: float) -> None:
        """Wait up to `seconds` of real time for `ready()`, an update or, on
        hold, whatever interrupts the hold."""
        with self._control:
            self._control.wait_for(lambda: ready() or self._pending(), timeout=max(0.0, seconds))

    def interrupted(self) -> bool:
        """A REST update is waiting, or (on hold) something interrupts the hold."""
        return self._pending()

    def _pending(self) -> bool:
        return self._update is not None or (self.hold_check is not None and self.hold_check())

    def wake(self) -> None:
        """Something changed for this leg (an input, a bridge): re-check waits."""
        with self._control:
            self._control.notify_all()

    def wait_for_update(self, seconds: float, activity: str = "waiting") -> Outcome:
        """Wait up to `seconds` (real) for a REST update, and take it. On hold in
        a queue, anything that interrupts the hold comes back as
        End(by="interrupted") and the update stays for the hold loop to take."""
        with self._control:
            if not self._pending() and seconds > 0:
                self._activity(activity)
                self._control.wait_for(self._pending, timeout=seconds)
            if self.hold_check is not None and self._pending():
                return End("in-progress", by="interrupted")
            update, self._update = self._update, None
        return update

    def take_update(self) -> Outcome:
        with self._control:
            update, self._update = self._update, None
        return update

    def params(self, **extra: str) -> dict[str, str]:
        record = self.record
        fields = {
            "AccountSid": record.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": record.sid,
            "CallStatus": record.status,
            "Called": record.to,
            "Caller": record.from_,
            "Direction": record.direction,
            "From": record.from_,
            "To": record.to,
        }
        if record.parent_call_sid:
            fields["ParentCallSid"] = record.parent_call_sid
        if record.answered_by:
            fields["AnsweredBy"] = record.answered_by
        if self.call_token:
            fields["CallToken"] = self.call_token
        fields.update(extra)
        return fields

    def send(self, url: str, params: dict[str, str], method: str = "POST") -> Delivery:
        return self.network.webhooks.send(url, params, method)

    def dial_number(
        self,
        number: str,
        caller_id: str,
        timeout: int,
        whisper: Goto | None,
        status_callback: str | None,
        events: tuple[str, ...],
    ) -> DialedLeg:
        child = CallRecord(
            account_sid=self.record.account_sid,
            to=number,
            from_=caller_id,
            direction="outbound-dial",
            parent_call_sid=self.record.sid,
            url=whisper.url if whisper else None,
            status_callback=status_callback,
            status_callback_events=events,
            timeout=timeout,
        )
        leg = self.network.open_leg(child, self.interpreter.without("Dial"))
        self._activity("dialing")
        result = leg.run_dialed(whisper)
        if result.bridged:
            self.hear("bridged", number)
            self.elapse(result.talk_seconds)
        return result

    def keep_recording(self, sid: str, seconds: int) -> None:
        """A <Record> made a recording: fetchable from then on, as at Twilio."""
        self.network.add_recording(
            RecordingRecord(self.record.account_sid, self.record.sid, sid, seconds)
        )

    def cancel_number(self, number: str, caller_id: str) -> None:
        child = CallRecord(
            account_sid=self.record.account_sid,
            to=number,
            from_=caller_id,
            direction="outbound-dial",
            parent_call_sid=self.record.sid,
        )
        self.network.add_call(child)
        with self.network.lock:
            child.move_to("canceled")
            child.activity = "done"
        self.network.notify()

    # -- control from the REST API -----------------------------------------

    def deliver(self, update: Goto | End) -> None:
        with self._control:
            self._update = update
            self._control.notify_all()

    # -- lifecycle ---------------------------------------------------------

    def _begin(self) -> bool:
        """An interactive phone, or a script's single-line phone, takes one call
        at a time; False: it is busy."""
        phone = self.performer.phone
        if phone is not None:
            return phone.begin(self.record.sid, self.wake)
        if self.performer.script.single_line:
            self._engaged = self.network.phones.engage(self.performer.number)
            return self._engaged
        return True

    def run_outbound(self) -> None:
        """A call placed through the REST API: ring the phone, play its Url."""
        record = self.record
        try:
            self._event("initiated", "initiated")
            end = self._ring() if self._begin() else End("busy", by="callee")
            if end is None:
                end = self.play(Goto(record.url or "", {}, record.method, record.twiml))
            self._finish(end)
        except Exception as error:  # a bug here must not leave the call "in-progress"
            self._crash(error)

    def run_inbound(self, voice_url: str, method: str = "POST") -> None:
        """A call from a virtual phone to the line's number."""
        try:
            if not self._begin():
                raise RuntimeError(f"{self.record.from_} is already on a call")
            self._finish(self.play(Goto(voice_url, {}, method)))
        except Exception as error:
            self._crash(error)

    def run_dialed(self, whisper: Goto | None) -> DialedLeg:
        """A `<Dial><Number>` leg: ring, answer, whisper, talk."""
        try:
            self._event("initiated", "initiated")
            end = self._ring() if self._begin() else End("busy", by="callee")
            if end is not None:
                self._finish(end)
                return DialedLeg(self.record.sid, self.record.status)
            if whisper is not None:
                end = self.play(whisper)
                if end.by != "end":
                    self._finish(end)
                    return DialedLeg(self.record.sid, "declined")
            talk = self.performer.script.talk_seconds
            self._activity("bridged")
            self.elapse(talk)
            self._finish(End("completed", by="callee"))
            return DialedLeg(self.record.sid, "completed", talk)
        except Exception as error:
            self._crash(error)
            return DialedLeg(self.record.sid, "failed")

    def _ring(self) -> End | None:
        """Ring the phone; None once it picks up, else how the leg ended."""
        self._move("ringing")
        self._event("ringing", "ringing")
        script = self.performer.script
        if self.performer.phone is not None:
            return ring_person(self, self.performer.phone)
        if script.ring_seconds > 0:
            # A phone that would answer after the call's ring timeout never does.
            update = self.wait_for_update(min(script.ring_seconds, self.record.timeout), "ringing")
            if isinstance(update, End):
                return End("canceled", by="api")
            if script.ring_seconds > self.record.timeout:
                return End("no-answer", by="callee")
        if not script.answer.picks_up:
            return End(script.answer.value, by="callee")
        if self.record.machine_detection:
            machine = script.answer is Answer.VOICEMAIL
            ending = self.record.machine_detection == "DetectMessageEnd"
            self.record.answered_by = (
                ("machine_end_beep" if ending else "machine_start") if machine else "human"
            )
        self.answer()
        return None

    def answer(self) -> None:
        if not self._answered:
            self._answered = True
            self._move("in-progress")
            self._event("answered", "in-progress")

    def play(self, first: Goto) -> End:
        """Fetch and run documents until the leg ends."""
        current = first
        for _ in range(MAX_DOCUMENTS):
            root = self._document(current)
            if isinstance(root, End):
                return root
            if not self._answered and not (len(root) and root[0].tag == "Reject"):
                self.answer()
            self._activity("playing")
            try:
                outcome = self.interpreter.run(self, root)
            except TwimlError as error:
                self._error(error.code, error.message, self.document_url)
                return End("completed" if self._answered else "failed", by="error")
            if isinstance(outcome, End):
                return outcome
            if outcome is None:
                return End("completed", by="end")
            current = outcome
        self._error(None, f"more than {MAX_DOCUMENTS} documents: stopped", self.document_url)
        return End("completed", by="error")

    def _document(self, source: Goto) -> ET.Element | End:
        if source.twiml is not None:
            self._fetched(Fetch("(inline Twiml)", {}, None, source.twiml))
            try:
                return parse(source.twiml)
            except TwimlError as error:
                self._error(error.code, error.message, "(inline Twiml)")
                return End("completed" if self._answered else "failed", by="error")
        params = self.params(**source.params)
        delivery = self.send(source.url, params, source.method)
        self._fetched(Fetch(source.url, params, delivery.status, delivery.body))
        self.document_url = source.url
        problem = fetch_problem(delivery)
        if problem is None:
            return document(delivery)
        self._error(problem[0], problem[1], source.url)
        fallback = self._fallback(params, problem[0], source.url)
        if fallback is not None:
            return fallback
        # Without a working fallback the caller hears "an application error has occurred".
        self.hear("application-error", "We are sorry, an application error has occurred.")
        return End("completed" if self._answered else "failed", by="error")

    def _fallback(self, params: dict[str, str], code: int, url: str) -> ET.Element | None:
        fallback_url = self.record.fallback_url
        if not fallback_url:
            return None
        fields = {**params, "ErrorCode": str(code), "ErrorUrl": url}
        delivery = self.send(fallback_url, fields, self.record.fallback_method)
        self._fetched(Fetch(fallback_url, fields, delivery.status, delivery.body))
        self.document_url = fallback_url
        problem = fetch_problem(delivery)
        if problem is not None:
            self._error(problem[0], problem[1], fallback_url)
            return None
        return document(delivery)

    def _finish(self, end: End) -> None:
        if self._engaged:  # the single-line phone is free again
            self._engaged = False
            self.network.phones.release(self.performer.number)
        if self.record.finished:
            return
        if self._answered:
            status = "completed"
        else:
            status = end.status if end.status in FINAL else "completed"
        self.record.duration = math.ceil(self._elapsed) if self._answered else 0
        self._move(status)
        self._activity("done")
        if self.performer.phone is not None:
            self.performer.phone.end(self.record.sid, status)
        duration = str(self.record.duration)
        self._event(
            "completed",
            status,
            CallDuration=duration,
            Duration=str(math.ceil(int(duration) / 60)),
        )
        self.network.close_leg(self.record.sid)

    def _crash(self, error: Exception) -> None:
        self._error(None, f"emulator error: {type(error).__name__}: {error}", self.document_url)
        self._finish(End("failed" if not self._answered else "completed", by="error"))

    # -- bookkeeping -------------------------------------------------------

    def _move(self, status: str) -> None:
        with self.network.lock:
            self.record.move_to(status)
        self.network.notify()

    def set_activity(self, activity: str) -> None:
        self._activity(activity)

    def note_error(self, code: int | None, message: str) -> None:
        self._error(code, message, self.document_url)

    def fetch(self, source: Goto) -> ET.Element | End:
        """One TwiML document (fetched, or inline), or how the leg ends."""
        return self._document(source)

    def _activity(self, activity: str) -> None:
        with self.network.lock:
            self.record.activity = activity
        self.network.notify()

    def _fetched(self, fetch: Fetch) -> None:
        with self.network.lock:
            self.record.fetches.append(fetch)
        self.network.notify()

    def _error(self, code: int | None, message: str, url: str) -> None:
        with self.network.lock:
            self.record.errors.append({"code": code, "message": message, "url": url})
        self.network.notify()

    def _event(self, event: str, call_status: str, **extra: str) -> None:
        record = self.record
        if not record.status_callback or event not in record.status_callback_events:
            return
        self._sequence += 1
        fields = self.params(
            CallStatus=call_status,
            CallbackSource="call-progress-events",
            SequenceNumber=str(self._sequence - 1),
            Timestamp=rfc2822(now()) or "",
            **extra,
        )
        self.send(record.status_callback, fields, record.status_callback_method)
