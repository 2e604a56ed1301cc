"""`<Dial><Queue>`: take the first caller waiting in a queue and talk to it
(docs/voice/twiml/queue).

The optional `url` is fetched for the dequeued caller (QueueSid, QueueTime,
DequeingCallSid) and played to it before the two are connected. When the
bridge ends, the dequeuer's call goes on: to the Dial `action` with
DialCallStatus=completed, DialCallSid (the caller's leg), DialCallDuration
and QueueSid — requested, its answer ignored, when the dequeuer is the one
who hung up.

An empty queue: Twilio's Dial waits for the next caller to join, up to the
Dial `timeout`; the emulator waits in real time, at most
`EmulatorConfig.dial_queue_wait` seconds when set, then DialCallStatus is
`no-answer` (Twilio's documentation does not name the status). A queue that
does not exist: `failed` ("Dial will post an error status to its action").
A caller that hangs up between being taken and being connected: `no-answer`.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

from twilio_emulator.enqueue import call_leg
from twilio_emulator.queues import MAX_NAME, make_bridge, talk
from twilio_emulator.twiml import End, Goto, Leg, Outcome, absolute

CONNECT_WAIT = 30.0  # real seconds the dequeuer waits for the caller's whisper to end


def dial_queue(leg: Leg, verb: ET.Element, target: ET.Element, timeout: int) -> Outcome:
    call = call_leg(leg)
    name = " ".join((target.text or "").split())
    action = absolute(call, verb.get("action", "")) if verb.get("action") else None
    method = verb.get("method", "POST").upper()
    queues = call.network.queues
    queue = queues.named(name) if name and len(name) <= MAX_NAME else None
    if queue is None:
        if not name or len(name) > MAX_NAME:
            call.note_error(
                14212 if not name else 14213,
                f"Dial->Queue: queue name too {'short' if not name else 'long'}",
            )
        return _done(call, action, method, "failed", {})
    url = target.get("url")
    whisper = Goto(absolute(call, url), {}, target.get("method", "POST").upper()) if url else None
    cap = call.network.config.dial_queue_wait
    deadline = time.monotonic() + (timeout if cap is None else min(float(timeout), cap))
    call.set_activity("dialing")

    member = None
    while True:
        member = queues.take_first(queue, lambda m: make_bridge(m.leg, call, queue, whisper))
        remaining = deadline - time.monotonic()
        if member is not None or remaining <= 0 or call.interrupted():
            break
        call.wait_on(lambda: bool(queue.members), min(0.1, remaining))
    if member is None or member.bridge is None:
        update = call.take_update()
        if update is not None:
            return update
        return _done(call, action, method, "no-answer", {"QueueSid": queue.sid})
    bridge = member.bridge
    bridge.queue_time = member.wait_time()
    member.leg.wake()
    call.network.notify()
    waited = time.monotonic() + CONNECT_WAIT
    while not (bridge.connected.is_set() or bridge.failed.is_set()):
        if time.monotonic() > waited:
            bridge.fail()
            break
        call.wait_on(lambda: bridge.connected.is_set() or bridge.failed.is_set(), 0.25)
    if not bridge.connected.is_set():
        return _done(call, action, method, "no-answer", {"QueueSid": queue.sid})
    call.set_activity("bridged")
    call.hear("bridged", member.leg.record.from_)
    mine, update = talk(call, bridge, "dequeuer")
    fields = {
        "DialCallSid": member.call_sid,
        "DialCallDuration": str(bridge.talked()),
        "QueueSid": queue.sid,
        "DialBridged": "true",  # as <Dial><Number> (dial.py): they were connected
    }
    if update is not None:
        return update if isinstance(update, Goto) else End("completed", by="api")
    if mine:
        if action:
            call.send(
                action,
                call.params(CallStatus="completed", DialCallStatus="completed", **fields),
                method,
            )
        return End("completed", by="caller")
    return _done(call, action, method, "completed", fields)


def _done(
    call: Leg, action: str | None, method: str, status: str, fields: dict[str, str]
) -> Outcome:
    call.hear("dial-result", status)
    if not action:
        return None
    fields = {"DialBridged": "false", **fields}  # not connected, unless FIELDS say so
    return Goto(action, call.params(DialCallStatus=status, **fields), method)
