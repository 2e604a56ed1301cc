"""A queue's life, as Twilio documents it: made by the first `<Enqueue>`, it
stays after its last caller has gone ("Queues persist. ... inactive Queues
should be deleted"), until a REST DELETE removes it, which Twilio refuses
while callers wait in it ("Only empty queues are deletable")."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.emulator.conftest import CALLER, FakeLine
from tests.emulator.test_queues import setup
from tests.live import eventually
from twilio_emulator import Network, give_up


def test_a_queue_stays_after_its_last_caller_until_deleted(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    setup(fake_line)
    network.phone(CALLER, give_up(0.3))
    network.wait_for_call(network.call_line(CALLER).sid)
    queue_sid = eventually(lambda: fake_line.at("/twiml/after"))[0].form["QueueSid"]
    [queue] = rest.queues.list()
    assert (queue.sid, queue.friendly_name, queue.current_size) == (queue_sid, "help", 0)
    assert rest.queues(queue_sid).fetch().current_size == 0
    assert rest.queues(queue_sid).delete() is True
    assert rest.queues.list() == []
    with pytest.raises(TwilioRestException) as gone:
        rest.queues(queue_sid).fetch()
    assert gone.value.status == 404


def test_a_queue_with_a_caller_in_it_is_not_deleted(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    setup(fake_line)
    caller = network.call_line(CALLER).sid
    queue_sid = eventually(lambda: fake_line.at("/twiml/wait"))[0].form["QueueSid"]
    with pytest.raises(TwilioRestException) as refused:
        rest.queues(queue_sid).delete()
    assert (refused.value.status, refused.value.code) == (409, 20409)
    # The caller waits on, unharmed, in the same queue.
    assert [m.call_sid for m in rest.queues(queue_sid).members.list()] == [caller]
    rest.calls(caller).update(status="completed")
    network.wait_for_call(caller)
    assert rest.queues(queue_sid).delete() is True


def test_a_deleted_queue_is_made_again_by_the_next_enqueue(
    rest: Client, network: Network, fake_line: FakeLine
) -> None:
    setup(fake_line)
    network.phone(CALLER, give_up(0.2))
    network.wait_for_call(network.call_line(CALLER).sid)
    first = eventually(lambda: fake_line.at("/twiml/after"))[0].form["QueueSid"]
    rest.queues(first).delete()
    # "Deleting a queue will not prevent another queue with the same friendly
    # name from being dynamically created."
    network.wait_for_call(network.call_line(CALLER).sid)
    second = eventually(
        lambda: len(fake_line.at("/twiml/after")) == 2 and fake_line.at("/twiml/after")
    )[1].form["QueueSid"]
    assert second != first
    assert [q.sid for q in rest.queues.list()] == [second]
