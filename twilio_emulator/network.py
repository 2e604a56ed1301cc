"""The emulated phone network: every message and call leg, the virtual phones,
faults waiting, the log of REST requests — and the Python API tests drive it
with (`call_line`, `text_line`, `phone`, `fail_next`, `wait_until`, …).

Call legs run each on a thread of their own (up to `max_calls` at once: a leg
spends its life waiting — for the line, for its phone, on hold — so a small
shared pool would make the 65th caller wait for a line instead of ringing);
the rest of the background work (message delivery reports) runs on a bounded
pool. Every request it makes has Twilio's timeouts, so nothing waits forever.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec

from twilio_emulator.config import EmulatorConfig
from twilio_emulator.faults import Fault, FaultPlan, Resource
from twilio_emulator.ids import now, rfc2822
from twilio_emulator.interactive import InteractivePhone
from twilio_emulator.legs import CallLeg
from twilio_emulator.messaging import InboundText, deliver, text_line
from twilio_emulator.numbers import IncomingNumber, NumberBook
from twilio_emulator.phonebook import PhoneBook
from twilio_emulator.phones import Script, Step, script
from twilio_emulator.queues import QueueBook
from twilio_emulator.recordings import RecordingRecord
from twilio_emulator.records import CallRecord, MessageRecord
from twilio_emulator.registry import default_interpreter
from twilio_emulator.twiml import End, Goto, Interpreter
from twilio_emulator.webhooks import Webhooks

P = ParamSpec("P")


class Network:
    def __init__(self, config: EmulatorConfig, interpreter: Interpreter | None = None) -> None:
        self.config = config
        self.interpreter = interpreter or default_interpreter()
        self.lock = threading.RLock()
        self._changed = threading.Condition(self.lock)
        self.webhooks = Webhooks(
            config.auth_token,
            config.base_url,
            config.line_url,
            read_timeout=config.webhook_timeout,
            log_limit=config.log_limit,
            # One kept-alive connection per leg that may be asking at once.
            pool_size=min(config.max_calls, 256),
        )
        self.phones = PhoneBook()
        self.faults = FaultPlan()
        self.queues = QueueBook(config.account_sid)
        self.numbers = NumberBook()
        self._own_numbers()
        self.messages: dict[str, MessageRecord] = {}
        self.calls: dict[str, CallRecord] = {}
        self.recordings: dict[str, RecordingRecord] = {}
        self.requests: deque[dict[str, Any]] = deque(maxlen=config.log_limit)
        self.notes: deque[str] = deque(maxlen=config.log_limit)
        self._legs: dict[str, CallLeg] = {}
        self._opted_out: set[str] = set()
        self._executor = ThreadPoolExecutor(config.max_workers, thread_name_prefix="emulator")
        self._call_threads = ThreadPoolExecutor(
            config.max_calls, thread_name_prefix="emulator-call"
        )
        self._futures: set[Future[None]] = set()

    # -- the line's numbers and URLs ----------------------------------------

    @property
    def owned_numbers(self) -> frozenset[str]:
        return frozenset((self.config.line_number, *self.config.other_numbers))

    def _url(self, path: str | None) -> str:
        return self.config.base_url + path if path else ""

    def _own_numbers(self) -> None:
        """The account's IncomingPhoneNumbers as configured: the line's number
        points at the line (until a REST update says otherwise), the others
        at nothing."""
        config = self.config
        self.numbers.add(
            IncomingNumber(
                config.account_sid,
                config.line_number,
                voice_url=self._url(config.voice_path),
                voice_fallback_url=self._url(config.voice_fallback_path),
                status_callback=self._url(config.voice_status_path),
                sms_url=self._url(config.sms_path),
            )
        )
        for other in config.other_numbers:
            self.numbers.add(IncomingNumber(config.account_sid, other))

    def number(self, phone_number: str | None = None) -> IncomingNumber:
        """The IncomingPhoneNumber a call or text to `phone_number` (default: the
        line's) follows; a number the account does not own follows the line's."""
        found = self.numbers.find(phone_number or self.config.line_number)
        return found or self.numbers.find(self.config.line_number) or IncomingNumber("", "")

    @property
    def voice_url(self) -> str:
        return self.number().voice_url

    @property
    def sms_url(self) -> str:
        return self.number().sms_url

    # -- records -------------------------------------------------------------

    def notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def add_message(self, record: MessageRecord) -> None:
        with self.lock:
            self.messages[record.sid] = record
        self.notify()

    def add_call(self, record: CallRecord) -> None:
        with self.lock:
            self.calls[record.sid] = record
        self.notify()

    def add_recording(self, record: RecordingRecord) -> None:
        with self.lock:
            self.recordings[record.sid] = record
        self.notify()

    def recording(self, sid: str) -> RecordingRecord | None:
        with self.lock:
            return self.recordings.get(sid)

    def open_leg(self, record: CallRecord, interpreter: Interpreter | None = None) -> CallLeg:
        leg = CallLeg(
            self, record, self.phones.performer(record.to), interpreter or self.interpreter
        )
        with self.lock:
            self.calls[record.sid] = record
            self._legs[record.sid] = leg
        self.notify()
        return leg

    def close_leg(self, sid: str) -> None:
        with self.lock:
            self._legs.pop(sid, None)
        self.notify()

    def live_leg(self, sid: str) -> CallLeg | None:
        with self.lock:
            return self._legs.get(sid)

    def log_request(self, entry: dict[str, Any]) -> None:
        with self.lock:
            # "received": a precise clock for tests of pacing; "at" as Twilio writes dates.
            self.requests.append({"at": rfc2822(now()), "received": time.time(), **entry})
        self.notify()

    def note(self, text: str) -> None:
        with self.lock:
            self.notes.append(text)

    @property
    def warnings(self) -> list[dict[str, Any]]:
        """Twilio's debugger warnings on every call leg so far (twiml_values),
        each with the leg's `call_sid`: the call went on, as Twilio's does."""
        with self.lock:
            return [
                {**warning, "call_sid": sid}
                for sid, record in self.calls.items()
                for warning in record.warnings
            ]

    @property
    def value_problems(self) -> list[dict[str, Any]]:
        """Every attribute value Twilio would have flagged so far: the
        warnings, and the errors that ended a call over a value (those name
        the attribute; a webhook that failed names none)."""
        with self.lock:
            errors = [
                {**error, "call_sid": sid}
                for sid, record in self.calls.items()
                for error in record.errors
                if "attribute" in error
            ]
        return self.warnings + errors

    # -- opt-out, as Twilio keeps it per number ------------------------------

    def opt_out(self, number: str) -> None:
        with self.lock:
            self._opted_out.add(number)

    def opt_in(self, number: str) -> None:
        with self.lock:
            self._opted_out.discard(number)

    def is_opted_out(self, number: str) -> bool:
        with self.lock:
            return number in self._opted_out

    # -- background work -----------------------------------------------------

    def submit(self, work: Callable[P, None], *args: P.args, **kwargs: P.kwargs) -> None:
        self._submit(self._executor, work, *args, **kwargs)

    def submit_call(self, work: Callable[P, None], *args: P.args, **kwargs: P.kwargs) -> None:
        """Run a call leg on a thread of its own (see the module's docstring)."""
        self._submit(self._call_threads, work, *args, **kwargs)

    def _submit(
        self,
        executor: ThreadPoolExecutor,
        work: Callable[P, None],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> None:
        try:
            future = executor.submit(work, *args, **kwargs)
        except RuntimeError:  # closed: a request that outlived the emulator (a slow fault)
            self.note("work submitted after close was dropped")
            return
        with self.lock:
            self._futures.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        with self.lock:
            self._futures.discard(future)
        error = future.exception()
        if error is not None:
            self.note(f"background work failed: {type(error).__name__}: {error}")
        self.notify()

    def idle(self) -> bool:
        with self.lock:
            return not self._futures

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Block until `predicate()` holds (checked on every change), at most `timeout` s."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, 0.25))
        return True

    def close(self) -> None:
        with self.lock:
            legs = list(self._legs.values())
        for leg in legs:
            leg.deliver(End("completed", by="api"))
        self._call_threads.shutdown(wait=True, cancel_futures=True)
        self._executor.shutdown(wait=True, cancel_futures=True)

    def reset(self) -> None:
        """Forget everything: records, logs, scripts, faults, opt-outs. Calls still
        running are hung up."""
        with self.lock:
            legs = list(self._legs.values())
        for leg in legs:
            leg.deliver(End("completed", by="api"))
        with self.lock:
            self.messages.clear()
            self.calls.clear()
            self.recordings.clear()
            self.requests.clear()
            self.notes.clear()
            self._opted_out.clear()
        self.phones.clear()
        self.queues.clear()
        self.numbers.clear()
        self._own_numbers()
        self.faults.clear()
        self.webhooks.clear()
        self.notify()

    # -- the Python API for tests and the simulator -------------------------

    def phone(self, number: str, *steps: Step, **options: Any) -> Script:
        """Give a virtual phone its script: `phone("+1…", press("1"), answer="voicemail")`."""
        made = script(steps=steps, **options)
        self.phones.set(number, made)
        return made

    def interactive(self, number: str) -> InteractivePhone:
        """Let a person play this phone (see interactive.py); returns it."""
        with self.lock:  # two people taking it up at once get the same phone
            phone = self.phones.interactive(number)
            if phone is None:
                phone = InteractivePhone(number)
                self.phones.set_interactive(number, phone)
            return phone

    def call_line(
        self, from_: str, *steps: Step, script_: Script | None = None, to: str | None = None
    ) -> CallRecord:
        """A virtual phone calls the line; returns at once, the call plays in the
        background (see `wait_for_call`)."""
        if steps or script_ is not None:
            self.phones.set(from_, script_ or script(steps=steps))
        number = self.number(to)
        with self.numbers.lock:  # one consistent configuration, even mid-update
            voice = (number.voice_url, number.voice_method)
            record = CallRecord(
                account_sid=self.config.account_sid,
                to=to or self.config.line_number,
                from_=from_,
                direction="inbound",
                status="ringing",
                fallback_url=number.voice_fallback_url or None,
                fallback_method=number.voice_fallback_method,
                status_callback=number.status_callback or None,
                status_callback_method=number.status_callback_method,
            )
        leg = CallLeg(self, record, self.phones.performer(from_), self.interpreter)
        with self.lock:
            self.calls[record.sid] = record
            self._legs[record.sid] = leg
        self.submit_call(leg.run_inbound, *voice)
        return record

    def text_line(self, from_: str, body: str, to: str | None = None) -> InboundText:
        """A virtual phone texts the line; returns once the line has answered."""
        return text_line(self, from_, body, to)

    def place_call(self, record: CallRecord) -> CallRecord:
        """A call the line asked for (REST create): the phone at `To` rings."""
        leg = self.open_leg(record)
        self.submit_call(leg.run_outbound)
        return record

    def send_message(self, record: MessageRecord, failure: int | None = None) -> MessageRecord:
        self.add_message(record)
        self.submit(deliver, self, record, failure)
        return record

    def update_call(self, sid: str, update: Goto | End) -> bool:
        """Move a live call; False when it is no longer in progress."""
        leg = self.live_leg(sid)
        if leg is None:
            return False
        leg.deliver(update)
        return True

    def fail_next(self, resource: Resource, count: int = 1, **fault: Any) -> None:
        """`fail_next("messages", code=20429)`; see faults.Fault for the options."""
        self.faults.add(resource, Fault(count=count, **fault))

    def wait_for_call(self, sid: str, timeout: float = 10.0) -> CallRecord:
        if not self.wait_until(
            lambda: self.calls[sid].finished and self.live_leg(sid) is None, timeout
        ):
            raise TimeoutError(f"call {sid} still {self.calls[sid].status} after {timeout} s")
        return self.calls[sid]

    def sent_messages(self, to: str | None = None) -> list[MessageRecord]:
        with self.lock:
            return [
                m
                for m in self.messages.values()
                if m.direction != "inbound" and (to is None or m.to == to)
            ]

    def snapshot_calls(self, sids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        with self.lock:
            chosen = self.calls.values() if sids is None else (self.calls[s] for s in sids)
            return [call.inspect() for call in chosen]

    def snapshot_messages(self) -> list[dict[str, Any]]:
        with self.lock:
            return [message.inspect() for message in self.messages.values()]
