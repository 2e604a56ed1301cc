"""Webhooks of a caller on hold and of the counselors being rung for them.

Registered on the voice blueprint, so the signature check and the safe
fallback cover them too. The caller's own hold loop (Twilio requests the
waitUrl again and again) also keeps the time: past the longest hold it takes
the caller out of the queue itself, whatever became of the workers.
"""

from __future__ import annotations

import logging
import time

from flask import Response
from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.crisis.decisions import Decisions
from ivr.line import Line
from ivr.routing.dispatches import Dispatch, Dispatches, counselor_of
from ivr.routing.ending import WaitEnding
from ivr.routing.figures import Figures
from ivr.routing.hold_queues import is_queue_sid
from ivr.routing.holding import RING_GRACE_SECONDS, Holding, nudge_key, queue_name
from ivr.web.current import helpline
from ivr.web.voice.common import absolute, field, say, this_call, twiml, voice, voice_engine

log = logging.getLogger("helpline.routing")
# Ring and cancel jobs are queued at the front (at_front=True): a caller on hold,
# or a counselor's phone to stop, must not wait behind a burst of texts' replies
# in the one queue (the load test saw rings start a minute late).
FIRST_QUIET_SECONDS = 20  # the caller just heard "we are finding a counselor"
HOLD_PAUSE_SECONDS = 10  # one hold document: short, so a decision reaches the caller soon
# From a counselor's press to their <Dial><Queue> reaching the caller is one
# webhook answer and Twilio's dequeue (the emulator: about 20 ms, in the logs
# of tests/faults/test_replays.py); 20 s of 1 s pauses is the most a caller is
# kept for a bridge that never comes.
BRIDGE_GRACE_SECONDS = 20
# The queue results of a caller taken by a counselor but never reached: they
# hung up, were let go, or Twilio could not keep them. "redirected-from-
# bridged" and "bridging-in-process" are not: a bridge was made or is being made.
NEVER_BRIDGED = ("hangup", "leave", "error", "queue-full", "system-shutdown")


def _dispatches(line: Line) -> Dispatches:
    return Dispatches(line.redis, line.settings.retention_seconds)


def _url(route: str, dispatch_id: str, leg_id: str | None = None) -> str:
    if leg_id is None:
        return absolute(f"voice.{route}", dispatch_id=dispatch_id)
    return absolute(f"voice.{route}", dispatch_id=dispatch_id, leg_id=leg_id)


def _ending(line: Line) -> WaitEnding:
    settings = line.settings
    return WaitEnding(line.redis, line.jobs, settings.retention_seconds, settings.timezone)


def _end_wait(line: Line, dispatch: Dispatch, outcome: str, why: str = "") -> bool:
    return _ending(line).end(dispatch, outcome, why)


def _keep_waiting(dispatch_id: str) -> Response:
    """A counselor took the call just now: stay in the queue for the bridge."""
    response = VoiceResponse()
    response.pause(length=1)
    return twiml(response)


def _talked(line: Line, dispatch: Dispatch | None) -> bool:
    """Whether the counselor's <Dial><Queue> reached the caller. Twilio says
    so in DialBridged; without it, a completed dial counts, unless the call
    was already recorded as never bridged (the caller hung up while being
    connected: a dial can end "completed" without a bridge)."""
    bridged = field("DialBridged")
    if bridged:
        return bridged == "true"
    if field("DialCallStatus") not in ("completed", "answered"):
        return False
    if dispatch is None:
        return False
    contacts = line.contacts
    recorded = contacts.of_source(f"call:{dispatch.call_sid}")
    earlier = contacts.get(recorded) if recorded else None
    return earlier is None or earlier.detail != dispatch.id or earlier.outcome == "answered"


def _record_answered(line: Line, dispatch: Dispatch) -> None:
    """A contact a counselor handled, once: theirs to wrap up at the desk."""
    contacts = line.contacts
    source = f"call:{dispatch.call_sid}"
    counselor = counselor_of(dispatch.winner)
    _, new = contacts.record(
        source,
        channel="call",
        language=dispatch.language,
        started=dispatch.created,
        answered=dispatch.answered_at,
        ended=time.time(),
        outcome="answered",
        counselor=counselor,
        detail=dispatch.id,
    )
    if not new:  # unanswered first (the caller tried again): answered after all
        contacts.settle(source, "answered", counselor=counselor, answered=dispatch.answered_at)


def _being_bridged(dispatch: Dispatch) -> bool:
    """Taken by a counselor whose call has not reached the caller yet: within
    BRIDGE_GRACE_SECONDS of the press. Past it, the bridge failed (their phone
    hung up on the way): the caller leaves the queue and goes on, never held
    for a counselor who is not coming."""
    answered = dispatch.answered_at
    return (
        dispatch.state == "bridged"
        and dispatch.ended_at is None  # the counselor's <Dial> has not ended yet
        and answered is not None
        and time.time() - answered < BRIDGE_GRACE_SECONDS
    )


@voice.post("/hold/<dispatch_id>")
def hold(dispatch_id: str) -> Response:
    """The waitUrl: what a waiting caller hears, one short document at a time."""
    line = helpline()
    dispatches = _dispatches(line)
    dispatch = dispatches.load(dispatch_id)
    response = VoiceResponse()
    if dispatch is not None and _being_bridged(dispatch):
        # A counselor pressed 1 a moment ago and their <Dial><Queue> is on its
        # way to this caller: a hold round that ends now must not <Leave/>, or
        # the caller goes to "nobody could answer" just as someone did (seen
        # in about 1 test run in 3 under load: the waitUrl fetched between the
        # whisper's answer and the bridge).
        return _keep_waiting(dispatch_id)
    if dispatch is None or not dispatch.is_open:
        response.leave()
        return twiml(response)
    if dispatch.waited() >= line.settings.max_hold_seconds:
        if not _end_wait(line, dispatch, "gave_up", "the longest hold ran out"):
            return _keep_waiting(dispatch_id)
        response.leave()
        return twiml(response)
    _nudge(line, dispatches, dispatch)
    waited = field("QueueTime")
    # isdecimal, not isdigit: "²" is a digit that int() refuses, and the
    # ValueError would take the waiting caller off hold into the fallback.
    if waited.isdecimal() and int(waited) >= FIRST_QUIET_SECONDS:
        # Keys or words: 1 for a message, and words that read as a crisis put
        # the caller ahead of everyone waiting (hold_choice).
        locale = line.content.locales.get(dispatch.language) or next(
            iter(line.content.locales.values())
        )
        gather = Gather(
            input="dtmf speech",
            num_digits=1,
            timeout=1,
            speech_timeout="auto",
            language=locale.speech_language,
            action=_url("hold_choice", dispatch_id),
        )
        say(gather, line, dispatch.language, "hold")
        response.append(gather)
    if line.settings.hold_music_url:
        response.play(line.settings.hold_music_url)
    else:
        response.pause(length=HOLD_PAUSE_SECONDS)
    return twiml(response)


def _nudge(line: Line, dispatches: Dispatches, dispatch: Dispatch) -> None:
    """No phone ringing and the ring overdue (its worker died?): ring again.
    Enqueuing is all a webhook does; at most once every few seconds."""
    if dispatches.live_legs(dispatch.id) > 0:
        return
    if line.redis.set(nudge_key(dispatch.id), 1, nx=True, ex=RING_GRACE_SECONDS):
        line.jobs.ring(dispatch.id)


@voice.post("/hold-choice/<dispatch_id>")
def hold_choice(dispatch_id: str) -> Response:
    """A key pressed or words said while waiting: 1 leaves a message instead;
    words that read as a crisis bring 911/988 at once, and the caller is rung
    for ahead of everyone else waiting."""
    line = helpline()
    dispatch = _dispatches(line).load(dispatch_id)
    response = VoiceResponse()
    speech = field("SpeechResult")
    decisions = Decisions(line.redis, line.settings.retention_seconds)
    if (
        dispatch is not None
        and dispatch.is_open
        and speech.strip()
        and decisions.read(line.content.crisis, speech, dispatch.language, "voice").crisis
    ):
        Holding(line.redis, line.queue, line.settings, line.roster).hurry(dispatch_id)
        say(response, line, dispatch.language, "crisis_heard")
        response.redirect(_url("hold", dispatch_id))
        return twiml(response)
    if dispatch is not None and field("Digits")[:1] == "1":
        if not _end_wait(line, dispatch, "left"):
            return _keep_waiting(dispatch_id)
        response.leave()
    else:
        response.redirect(_url("hold", dispatch_id))
    return twiml(response)


@voice.post("/queue-done/<dispatch_id>")
def queue_done(dispatch_id: str) -> Response:
    """The caller left the queue: after talking, by hanging up, or to go on."""
    line = helpline()
    call = this_call()
    dispatch = _dispatches(line).load(dispatch_id)
    result = field("QueueResult")
    response = VoiceResponse()
    queue_sid = field("QueueSid")
    if is_queue_sid(queue_sid):
        # The caller is out of their queue for good, and Twilio keeps a queue
        # until it is deleted (ivr/routing/hold_queues.py): a job deletes it.
        line.jobs.delete_queue(queue_sid)
    if dispatch is None:
        return twiml(voice_engine().incoming(call))
    if result == "bridged":
        # They talked, and the talk is over: the contact, whether or not the
        # counselor's own <Dial> action (which records it too) ever arrives.
        if dispatch.winner:
            _record_answered(line, dispatch)
        response.hangup()
        return twiml(response)
    if dispatch.state == "bridged" and result in NEVER_BRIDGED:
        # Taken, but the counselor's call never reached them: hung up while
        # being connected, or let go after BRIDGE_GRACE_SECONDS.
        _ending(line).bridge_missed(dispatch, hung_up=result == "hangup")
    if result == "hangup":
        _end_wait(line, dispatch, "abandoned")
        response.hangup()
        return twiml(response)
    if result == "redirected":
        # A worker moved the caller on with a REST update to /after-hold (its only
        # redirect). Twilio plays that URL; its docs do not say this answer is
        # ignored, so it is the same safe document, never an empty <Response/>
        # that would hang up a caller about to be offered voicemail or the
        # backup line (issue 18, item 2).
        left = dispatch.state == "left"
        return twiml(voice_engine().after_hold(call, dispatch.node, left, urgent=dispatch.urgent))
    # leave, queue-full, error: the caller is still here; go on.
    _end_wait(line, dispatch, "gave_up", f"left the queue: {result}")
    current = _dispatches(line).load(dispatch_id)
    chose_voicemail = current is not None and current.state == "left"
    return twiml(voice_engine().after_hold(call, dispatch.node, chose_voicemail))


@voice.post("/after-hold/<dispatch_id>")
def after_hold(dispatch_id: str) -> Response:
    """Where a worker sends a waiting caller when no counselor will come."""
    line = helpline()
    dispatch = _dispatches(line).load(dispatch_id)
    call = this_call()
    if dispatch is None:
        return twiml(voice_engine().incoming(call))
    left = dispatch.state == "left"
    return twiml(voice_engine().after_hold(call, dispatch.node, left, urgent=dispatch.urgent))


# -- the counselor's leg -------------------------------------------------------


def _counselor_language(line: Line, dispatch: Dispatch, leg_id: str) -> str:
    counselor_id = counselor_of(leg_id)
    roster = line.roster.load()
    counselor = roster.by_id.get(counselor_id) if roster is not None else None
    if counselor is None or counselor.speaks(dispatch.language):
        return dispatch.language
    spoken = [x for x in counselor.languages if x in line.content.languages]
    return spoken[0] if spoken else line.content.default_language


def _whisper_refusal(line: Line, state: str, language: str) -> Response:
    response = VoiceResponse()
    # Bridged, or still open (another leg is being handled): taken. Otherwise: gone.
    taken = state in ("bridged", "waiting", "ringing")
    say(response, line, language, "whisper_taken" if taken else "whisper_caller_left")
    response.hangup()
    return twiml(response)


@voice.post("/whisper/<dispatch_id>/<leg_id>")
def whisper(dispatch_id: str, leg_id: str) -> Response:
    """A counselor answered: who is waiting, and press 1 to take the call."""
    line = helpline()
    dispatches = _dispatches(line)
    dispatch = dispatches.load(dispatch_id)
    if dispatch is None:
        return _whisper_refusal(line, "gone", line.content.default_language)
    language = _counselor_language(line, dispatch, leg_id)
    verdict = dispatches.whisper(dispatch_id, leg_id)
    if verdict != "whisper":
        current = dispatches.load(dispatch_id)
        return _whisper_refusal(line, current.state if current else "gone", language)
    # The caller's language, named in the language the counselor hears ("in Spanish").
    caller_language = line.content.locales[dispatch.language].name_in(language)
    response = VoiceResponse()
    gather = Gather(num_digits=1, timeout=8, action=_url("whisper_answer", dispatch_id, leg_id))
    for _ in range(2):
        say(
            gather,
            line,
            language,
            "whisper",
            language=caller_language,
            waited=str(dispatch.waited()),
        )
    response.append(gather)
    # No key at all (a voicemail box, or nobody there): the same URL hears the silence.
    response.redirect(_url("whisper_answer", dispatch_id, leg_id))
    return twiml(response)


@voice.post("/whisper-over/<dispatch_id>/<leg_id>")
def whisper_over(dispatch_id: str, leg_id: str) -> Response:
    """A counselor still hearing the whisper when the call was taken or the
    caller left: say which, then release them."""
    line = helpline()
    dispatch = _dispatches(line).load(dispatch_id)
    if dispatch is None:
        return _whisper_refusal(line, "gone", line.content.default_language)
    return _whisper_refusal(line, dispatch.state, _counselor_language(line, dispatch, leg_id))


@voice.post("/whisper-answer/<dispatch_id>/<leg_id>")
def whisper_answer(dispatch_id: str, leg_id: str) -> Response:
    line = helpline()
    dispatches = _dispatches(line)
    dispatch = dispatches.load(dispatch_id)
    if dispatch is None:
        return _whisper_refusal(line, "gone", line.content.default_language)
    language = _counselor_language(line, dispatch, leg_id)
    response = VoiceResponse()
    if field("Digits")[:1] == "1":
        verdict = dispatches.claim(dispatch_id, leg_id)
        if verdict == "won":
            Figures(line.redis, line.settings.timezone).answered(
                time.time() - dispatch.created, counselor_of(leg_id)
            )
            line.jobs.cancel_legs(dispatch_id, leg_id)
            say(response, line, language, "whisper_connecting")
            dial = response.dial(action=_url("counselor_done", dispatch_id, leg_id))
            dial.queue(queue_name(dispatch_id))
            log.info("dispatch %s: bridged after %d s", dispatch_id, dispatch.waited())
            return twiml(response)
        current = dispatches.load(dispatch_id)
        if current is not None and current.winner == leg_id:
            # This counselor's own press, delivered again (Twilio retries a webhook
            # whose answer it never got): the same bridge, counted once — not
            # "another counselor took this call", which would strand the caller.
            say(response, line, language, "whisper_connecting")
            dial = response.dial(action=_url("counselor_done", dispatch_id, leg_id))
            dial.queue(queue_name(dispatch_id))
            return twiml(response)
        return _whisper_refusal(line, current.state if current else "gone", language)
    # 2, any other key, or silence: this counselor passes; ring the next.
    if dispatches.end_leg(dispatch_id, leg_id, "declined") == 0 and dispatch.is_open:
        line.jobs.ring(dispatch_id)
    response.hangup()
    return twiml(response)


@voice.post("/leg-status/<dispatch_id>/<leg_id>")
def leg_status(dispatch_id: str, leg_id: str) -> Response:
    """A counselor leg's status callback. Late or repeated ones change nothing."""
    line = helpline()
    dispatches = _dispatches(line)
    status = field("CallStatus")
    if status not in ("completed", "busy", "no-answer", "failed", "canceled"):
        return Response(status=204)
    dispatch = dispatches.load(dispatch_id)
    if dispatch is None:
        return Response(status=204)
    if dispatch.winner == leg_id:
        dispatches.conversation_over(dispatch_id, counselor_of(leg_id))
        return Response(status=204)
    live = dispatches.end_leg(dispatch_id, leg_id, status)
    if live == 0 and dispatch.is_open:
        line.jobs.ring(dispatch_id)
    return Response(status=204)


@voice.post("/counselor-done/<dispatch_id>/<leg_id>")
def counselor_done(dispatch_id: str, leg_id: str) -> Response:
    """The counselor's <Dial><Queue> ended: the conversation is over, or the
    caller had gone before the bridge."""
    line = helpline()
    # Their phone hangs up after this answer: free once its status says so.
    dispatches = _dispatches(line)
    dispatches.conversation_over(dispatch_id, counselor_of(leg_id), phone_hung_up=False)
    response = VoiceResponse()
    dispatch = dispatches.load(dispatch_id)
    talked = _talked(line, dispatch)
    if talked and dispatch is not None and dispatch.winner == leg_id:
        _record_answered(line, dispatch)
    if not talked:
        say(response, line, line.content.default_language, "whisper_caller_left")
    response.hangup()
    return twiml(response)
