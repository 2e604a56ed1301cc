"""Queues as Twilio runs them: a caller `<Enqueue>`s and hears the waitUrl
round after round; a counselor's leg, created through the REST API, takes it
with `<Dial><Queue>`; the Enqueue action learns how the wait ended."""

from __future__ import annotations

from twilio.rest import Client

from tests.emulator.conftest import CALLER, COUNSELOR, LINE_NUMBER, FakeLine
from tests.live import eventually
from twilio_emulator import Network, give_up, hangup, press, talk, wait

SECOND_COUNSELOR = "+12025550112"
ENQUEUE = """<Response>
  <Enqueue waitUrl="/twiml/wait" action="/twiml/after">help</Enqueue>
  <Say>Fell through.</Say>
</Response>"""
HOLD = "<Response><Say>Please hold.</Say></Response>"
AFTER = "<Response><Say>After the queue.</Say></Response>"
DEQUEUE = """<Response>
  <Dial action="/twiml/dialed"><Queue url="/twiml/connecting">help</Queue></Dial>
</Response>"""
CONNECTING = "<Response><Say>Connecting you now.</Say></Response>"
DIALED = "<Response><Say>Dial over.</Say></Response>"


def setup(fake_line: FakeLine, **documents: str) -> None:
    fake_line.documents.update(
        voice=ENQUEUE,
        wait=HOLD,
        after=AFTER,
        counselor=DEQUEUE,
        connecting=CONNECTING,
        dialed=DIALED,
    )
    fake_line.documents.update(documents)


def results(fake_line: FakeLine) -> list[str]:
    return [hook.form["QueueResult"] for hook in fake_line.at("/twiml/after")]


def ring(
    rest: Client, fake_line: FakeLine, to: str = COUNSELOR, document: str = "counselor"
) -> str:
    created = rest.calls.create(to=to, from_=LINE_NUMBER, url=f"{fake_line.url}/twiml/{document}")
    return str(created.sid)


def spoken(network: Network, sid: str) -> list[str]:
    return [h["text"] for h in network.calls[sid].heard if h["kind"] == "say"]


def test_a_caller_holds_until_a_counselor_dequeues_it(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    setup(fake_line)
    caller = network.call_line(CALLER).sid
    rounds = eventually(
        lambda: len(fake_line.at("/twiml/wait")) >= 2 and fake_line.at("/twiml/wait")
    )
    form = rounds[0].form
    assert rounds[0].signed
    assert form["CallSid"] == caller
    assert form["QueueSid"].startswith("QU")
    assert (form["QueuePosition"], form["CurrentQueueSize"], form["MaxQueueSize"]) == (
        "1",
        "1",
        "1000",
    )
    assert int(form["QueueTime"]) >= 0
    assert int(form["AvgQueueTime"]) >= 0
    [queue] = rest.queues.list()
    assert (queue.sid, queue.friendly_name, queue.current_size) == (form["QueueSid"], "help", 1)
    assert [m.call_sid for m in rest.queues(queue.sid).members.list()] == [caller]
    assert rest.queues(queue.sid).members(caller).fetch().position == 1

    counselor = ring(rest, fake_line)
    network.wait_for_call(caller)
    network.wait_for_call(counselor)
    after = fake_line.at("/twiml/after")[0]
    assert after.signed
    assert (after.form["QueueResult"], after.form["QueueSid"]) == ("bridged", queue.sid)
    whisper = fake_line.at("/twiml/connecting")[0].form
    assert (whisper["CallSid"], whisper["DequeingCallSid"]) == (caller, counselor)
    dialed = eventually(lambda: fake_line.at("/twiml/dialed"))[0].form
    assert dialed["DialCallStatus"] == "completed"
    assert (dialed["CallSid"], dialed["DialCallSid"]) == (counselor, caller)
    # Neither phone has a talk step: the dequeuer hangs up (its talk_seconds,
    # virtual time); the caller's call goes on with the Enqueue action.
    assert dialed["CallStatus"] == "completed"
    assert spoken(network, caller)[-2:] == ["Connecting you now.", "After the queue."]
    assert spoken(network, counselor) == []
    assert rest.queues(queue.sid).fetch().current_size == 0


def test_a_caller_who_gives_up_on_hold_ends_with_hangup(
    network: Network, fake_line: FakeLine
) -> None:
    setup(fake_line)
    network.phone(CALLER, give_up(0.3))
    call = network.wait_for_call(network.call_line(CALLER).sid)
    assert call.status == "completed"
    after = eventually(lambda: fake_line.at("/twiml/after"))[0]
    assert (after.form["QueueResult"], after.form["CallStatus"]) == ("hangup", "completed")
    assert "After the queue." not in spoken(network, call.sid)  # its answer is not played
    status = eventually(lambda: fake_line.at("/status"))[-1]
    assert status.form["CallStatus"] == "completed"


def test_leave_in_the_wait_document_goes_to_the_action_at_once(
    network: Network, fake_line: FakeLine
) -> None:
    setup(fake_line, wait="<Response><Say>Closing.</Say><Leave/></Response>")
    call = network.wait_for_call(network.call_line(CALLER).sid)
    assert results(fake_line) == ["leave"]
    assert spoken(network, call.sid)[-2:] == ["Closing.", "After the queue."]


def test_without_an_action_the_next_verb_follows_the_enqueue(
    network: Network, fake_line: FakeLine
) -> None:
    setup(
        fake_line,
        voice=ENQUEUE.replace(' action="/twiml/after"', ""),
        wait="<Response><Leave/></Response>",
    )
    call = network.wait_for_call(network.call_line(CALLER).sid)
    assert spoken(network, call.sid)[-1] == "Fell through."


def test_a_hangup_or_a_key_in_the_wait_document(network: Network, fake_line: FakeLine) -> None:
    gather = (
        '<Response><Gather numDigits="1" action="/twiml/pressed"><Say>Press 1.</Say></Gather>'
        "</Response>"
    )
    setup(fake_line, wait=gather, pressed="<Response><Hangup/></Response>")
    network.phone(CALLER, press("1"))
    network.wait_for_call(network.call_line(CALLER).sid)
    assert fake_line.at("/twiml/pressed")[0].form["Digits"] == "1"
    assert results(fake_line) == ["hangup"]


def test_the_line_can_redirect_a_queued_call(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    setup(fake_line)
    sid = network.call_line(CALLER).sid
    eventually(lambda: fake_line.at("/twiml/wait"))
    rest.calls(sid).update(twiml="<Response><Say>Moved.</Say></Response>")
    network.wait_for_call(sid)
    assert results(fake_line) == ["redirected"]
    assert spoken(network, sid)[-1] == "Moved."


def test_a_member_dequeued_through_rest_is_redirected(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    setup(fake_line, moved="<Response><Say>Dequeued by REST.</Say></Response>")
    sid = network.call_line(CALLER).sid
    queue_sid = eventually(lambda: fake_line.at("/twiml/wait"))[0].form["QueueSid"]
    rest.queues(queue_sid).members("Front").update(url=f"{fake_line.url}/twiml/moved")
    network.wait_for_call(sid)
    assert results(fake_line) == ["redirected"]
    assert spoken(network, sid)[-1] == "Dequeued by REST."


def test_a_full_queue_turns_the_next_caller_away(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    setup(fake_line)
    rest.queues.create(friendly_name="help", max_size=1)
    first = network.call_line(CALLER).sid
    eventually(lambda: fake_line.at("/twiml/wait"))
    second = network.wait_for_call(network.call_line("+12025550124").sid)
    assert spoken(network, second.sid)[-1] == "After the queue."
    assert results(fake_line) == ["queue-full"]
    assert "QueueSid" not in fake_line.at("/twiml/after")[0].form
    rest.calls(first).update(status="completed")
    network.wait_for_call(first)
    assert results(fake_line) == ["queue-full", "hangup"]


def test_dialing_an_empty_or_unknown_queue(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    setup(fake_line)
    network.wait_for_call(ring(rest, fake_line))  # no queue named "help" yet
    rest.queues.create(friendly_name="help")
    network.wait_for_call(ring(rest, fake_line))  # the queue is empty
    dialed = [hook.form for hook in fake_line.at("/twiml/dialed")]
    assert [(f["DialCallStatus"], f["DialBridged"]) for f in dialed] == [
        ("failed", "false"),
        ("no-answer", "false"),
    ]


def test_either_side_may_hang_up_first(rest: Client, network: Network, fake_line: FakeLine) -> None:
    setup(fake_line)
    network.phone(CALLER, talk(0.2))  # the caller hangs up after talking
    network.phone(COUNSELOR, talk(30))
    caller = network.call_line(CALLER).sid
    eventually(lambda: fake_line.at("/twiml/wait"))
    counselor = ring(rest, fake_line)
    network.wait_for_call(caller)
    network.wait_for_call(counselor)
    after = fake_line.at("/twiml/after")[0].form
    assert (after["QueueResult"], after["CallStatus"]) == ("bridged", "completed")
    assert "After the queue." not in spoken(network, caller)
    assert spoken(network, counselor) == ["Dial over."]  # the counselor's call goes on
    dialed = fake_line.at("/twiml/dialed")[0].form
    assert (dialed["DialCallStatus"], dialed["DialBridged"]) == ("completed", "true")


ACCEPT = """<Response>
  <Gather numDigits="1" action="/twiml/accept"><Say>Press 1 to accept.</Say></Gather>
  <Hangup/>
</Response>"""


def test_two_counselors_accept_together_and_only_one_is_bridged(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    # The line's part: both get <Dial><Queue>; the queue holds one caller, so
    # one Dial bridges and the other finds the queue empty.
    setup(fake_line, accept=DEQUEUE, whisper=ACCEPT)
    network.phone(CALLER, talk(0.5))
    for number in (COUNSELOR, SECOND_COUNSELOR):
        network.phone(number, press("1"), ring_seconds=0.3)
    caller = network.call_line(CALLER).sid
    eventually(lambda: fake_line.at("/twiml/wait"))
    legs = [ring(rest, fake_line, number, "whisper") for number in (COUNSELOR, SECOND_COUNSELOR)]
    # Each REST call rings on its own: both phones ring at the same time.
    assert network.wait_until(lambda: all(network.calls[s].activity == "ringing" for s in legs))
    for sid in [*legs, caller]:
        network.wait_for_call(sid)
    statuses = sorted(hook.form["DialCallStatus"] for hook in fake_line.at("/twiml/dialed"))
    assert statuses == ["completed", "no-answer"]
    assert len(fake_line.at("/twiml/accept")) == 2
    assert results(fake_line) == ["bridged"]
    assert len(fake_line.at("/twiml/connecting")) == 1


def test_a_scripted_wait_on_hold_is_interrupted_by_the_dequeuer(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    gather = '<Response><Gather action="/twiml/pressed"><Say>Hold on.</Say></Gather></Response>'
    setup(fake_line, wait=gather)
    network.phone(CALLER, wait(30), hangup())
    caller = network.call_line(CALLER).sid
    eventually(lambda: network.calls[caller].activity == "waiting")
    counselor = ring(rest, fake_line)
    network.wait_for_call(caller)
    network.wait_for_call(counselor)
    assert results(fake_line) == ["bridged"]
