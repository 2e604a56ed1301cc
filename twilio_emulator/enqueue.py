"""`<Enqueue>` and `<Leave>`: a caller waits in a named queue, hearing its
`waitUrl` round after round, until a `<Dial><Queue>` on another leg takes it,
it leaves, hangs up or is redirected — then the `action` gets `QueueResult`
(docs/voice/twiml/enqueue):

- `bridged`: after the bridge ends; the caller's call goes on with the action
  (or the next verb) if the other side hung up; if the caller hung up, the
  action is still requested, its answer ignored.
- `leave` (a `<Leave/>` in a waitUrl document): at once; the action's TwiML
  (or the next verb after `<Enqueue>`) goes on.
- `hangup`: the caller hung up on hold (or a `<Hangup/>` in the wait
  document, or the line ended the call); requested with CallStatus=completed.
- `redirected`: a REST update (Calls/{Sid}.json Url/Twiml, or
  Queues/{Sid}/Members/{CallSid}.json Url) moved it out; the action is
  requested, its answer ignored, and the new TwiML runs.
  `redirected-from-bridged`: the same, once bridged.
- `queue-full`: the queue already held `max_size` callers.
- `error`: a bad queue name (14204/14205) or a wait document that failed.

Each waitUrl request carries QueuePosition, QueueSid, QueueTime,
AvgQueueTime, CurrentQueueSize and MaxQueueSize (times in real seconds). A
round of the wait document lasts at least `MIN_ROUND` real seconds, longer
when the emulator paces holds (`EmulatorConfig.hold_pace`, and always for a
phone a person plays), so the line's worker can act while the caller waits;
a dequeuer, a REST update or a hang-up interrupts a round at once.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable

from twilio_emulator.legs import CallLeg
from twilio_emulator.queues import MAX_NAME, Member, talk
from twilio_emulator.twiml import End, Goto, Interpreter, Leg, Outcome, TwimlError, absolute

MIN_ROUND = 0.2  # real seconds a round of the wait document lasts at the least
DOCS_PER_ROUND = 20
DEFAULT_MUSIC_SECONDS = 30  # Twilio's default classical playlist, one track
WAIT_VERBS = ("Play", "Say", "Pause", "Gather", "Redirect", "Hangup", "Leave")
WHISPER_VERBS = ("Play", "Say", "Pause", "Redirect")

Exit = tuple[str, Outcome]  # QueueResult, and how the call goes on


def call_leg(leg: Leg) -> CallLeg:
    if not isinstance(leg, CallLeg):
        raise TwimlError(12200, "queues need a call leg of the emulator's network")
    return leg


def leave(leg: Leg, verb: ET.Element) -> Outcome:
    """Out of the queue; the `<Enqueue>`'s action (or next verb) goes on.
    Outside a wait document it does nothing."""
    if isinstance(leg, CallLeg) and leg.hold_check is not None:
        return End("in-progress", by="leave")
    return None


def enqueue(leg: Leg, verb: ET.Element) -> Outcome:
    call = call_leg(leg)
    name = " ".join((verb.text or "").split())
    action = absolute(call, verb.get("action", "")) if verb.get("action") else None
    method = verb.get("method", "POST").upper()
    if not name or len(name) > MAX_NAME:
        code = 14204 if not name else 14205
        call.note_error(code, f"Enqueue: Queue name too {'short' if not name else 'long'}")
        return _go_on(call, action, method, "error", {})
    queue, member = call.network.queues.join(name, call)
    if member is None:
        call.hear("queue-full", name)
        return _go_on(call, action, method, "queue-full", {})
    call.hear("enqueued", name)
    call.network.notify()
    wait_url = verb.get("waitUrl")
    if wait_url:
        wait_url = absolute(call, wait_url)
    document_url = call.document_url
    started = call.elapsed
    try:
        result, outcome = _hold(call, member, wait_url, verb.get("waitUrlMethod", "POST").upper())
    finally:
        call.document_url = document_url
        with call.network.lock:
            call.record.queue_time = member.wait_time()
    # On hold the phone's clock is real time.
    call.elapse(max(0.0, started + member.wait_time() - call.elapsed))
    extra = {"QueueSid": queue.sid, "QueueTime": str(member.wait_time())}
    if isinstance(outcome, Goto):  # redirected: the new TwiML runs, the action is told
        if action:
            call.send(action, call.params(QueueResult=result, **extra), method)
        return outcome
    if isinstance(outcome, End):  # the call is over; the action is still told
        if action:
            fields = call.params(CallStatus="completed", QueueResult=result, **extra)
            call.send(action, fields, method)
        return outcome
    return _go_on(call, action, method, result, extra)


def _go_on(
    call: CallLeg, action: str | None, method: str, result: str, extra: dict[str, str]
) -> Outcome:
    call.hear("queue-result", result)
    if not action:
        return None
    return Goto(action, call.params(QueueResult=result, **extra), method)


def _hold(call: CallLeg, member: Member, wait_url: str | None, wait_method: str) -> Exit:
    give_up = call.performer.take("give_up")
    give_up_at = time.monotonic() + give_up.seconds if give_up else None
    phone = call.performer.phone
    pace = 1.0 if phone is not None else call.network.config.hold_pace

    def gave_up() -> bool:
        return give_up_at is not None and time.monotonic() >= give_up_at

    def interrupted() -> bool:
        return (
            member.bridge is not None or gave_up() or (phone is not None and phone.wants_hangup())
        )

    call.hold_check = interrupted
    interpreter = Interpreter(
        {tag: handler for tag, handler in call.interpreter.verbs.items() if tag in WAIT_VERBS}
    )
    try:
        while True:
            call.set_activity("queued")
            ended = _why(call, member, gave_up)
            if ended is not None:
                return ended
            round_started, spoken = time.monotonic(), call.elapsed
            outcome = _round(call, member, interpreter, wait_url, wait_method)
            if isinstance(outcome, End) and outcome.by != "interrupted":
                result = {"leave": "leave", "error": "error"}.get(outcome.by, "hangup")
                if result != "hangup":
                    outcome = None
                return _out(call, member, result, outcome)
            length = max(MIN_ROUND, (call.elapsed - spoken) * pace)
            if give_up_at is not None:
                length = min(length, give_up_at - time.monotonic())
            call.wait_on(lambda: False, length - (time.monotonic() - round_started))
    finally:
        call.hold_check = None


def _why(call: CallLeg, member: Member, gave_up: Callable[[], bool]) -> Exit | None:
    """Why the caller leaves the queue now, if it does."""
    if member.bridge is not None:
        return _bridged(call, member)
    update = call.take_update()
    if isinstance(update, End):
        return _out(call, member, "hangup", End("completed", by="api"))
    if isinstance(update, Goto):
        return _out(call, member, "redirected", update)
    phone = call.performer.phone
    if phone is not None and phone.take("hangup") is not None:
        return _out(call, member, "hangup", End("completed", by="caller"))
    if gave_up():
        call.hear("hung-up", "gave up waiting")
        return _out(call, member, "hangup", End("completed", by="caller"))
    return None


def _out(call: CallLeg, member: Member, result: str, outcome: Outcome) -> Exit:
    """Take the caller out; if a dequeuer took it meanwhile, that bridge fails."""
    if not call.network.queues.leave(member) and member.bridge is not None:
        member.bridge.fail()
    call.network.notify()
    return result, outcome


def _round(
    call: CallLeg,
    member: Member,
    interpreter: Interpreter,
    wait_url: str | None,
    method: str,
) -> Outcome:
    """One pass of the wait document (and the documents it leads to)."""
    if wait_url is None:
        call.hear("play", "hold music (Twilio's default playlist)")
        call.elapse(DEFAULT_MUSIC_SECONDS)
        return None
    if wait_url == "":
        call.elapse(DEFAULT_MUSIC_SECONDS)  # silence
        return None
    current = Goto(wait_url, member.queue.wait_params(member), method)
    for _ in range(DOCS_PER_ROUND):
        root = call.fetch(current)
        if isinstance(root, End):
            return End("completed", by="error")
        try:
            outcome = interpreter.run(call, root)
        except TwimlError as error:
            call.note_error(error.code, error.message)
            return End("completed", by="error")
        if not isinstance(outcome, Goto):
            return None if isinstance(outcome, End) and outcome.by == "end" else outcome
        current = outcome
    return None


def _bridged(call: CallLeg, member: Member) -> Exit:
    bridge = member.bridge
    assert bridge is not None
    call.hold_check = None
    if bridge.whisper is not None:
        whisper = Goto(
            bridge.whisper.url,
            {
                "QueueSid": bridge.queue_sid,
                "QueueTime": str(bridge.queue_time),
                "DequeingCallSid": bridge.dequeuer.record.sid,
            },
            bridge.whisper.method,
        )
        verbs = {t: h for t, h in call.interpreter.verbs.items() if t in WHISPER_VERBS}
        outcome = _whisper(call, Interpreter(verbs), whisper)
        if isinstance(outcome, End):
            bridge.fail()
            return "hangup", outcome
    bridge.connect()
    call.set_activity("bridged")
    call.hear("bridged", bridge.dequeuer.record.to)
    mine, update = talk(call, bridge, "caller")
    if isinstance(update, Goto):
        return "redirected-from-bridged", update
    if mine or isinstance(update, End):
        return "bridged", End("completed", by="caller" if mine else "api")
    return "bridged", None


def _whisper(call: CallLeg, interpreter: Interpreter, first: Goto) -> Outcome:
    current = first
    for _ in range(DOCS_PER_ROUND):
        root = call.fetch(current)
        if isinstance(root, End):
            return None  # a broken whisper is skipped; the bridge goes ahead
        outcome = interpreter.run(call, root)
        if isinstance(outcome, End) and outcome.by in ("caller", "api"):
            return outcome
        if not isinstance(outcome, Goto):
            return None
        current = outcome
    return None
