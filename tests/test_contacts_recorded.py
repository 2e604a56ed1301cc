"""Every contact is recorded as it ends (issue 19), played end to end: a call a
counselor answered (their wrap-up due), a caller who hung up on hold, a
message, a conversation the texter ended with STOP, and a call returned."""

from __future__ import annotations

from collections.abc import Callable

from ivr.callbacks.requests import Callbacks
from ivr.contacts.records import Contact, Contacts
from ivr.line import Line
from ivr.roster.store import ROSTER_KEY
from tests.live import MESSAGE_TO_CALL_BACK, LiveLine, WorkerProcess, eventually
from tests.rosters import store_always_on_call
from tests.test_routing_calls import return_the_call
from twilio_emulator import give_up, hangup, press, say, talk

CALLER = "+12025550123"
TEXTER = "+12025550166"
StartWorker = Callable[..., WorkerProcess]


def contacts(line: LiveLine) -> list[Contact]:
    return Contacts(line.redis, 3600).between(0, 2**40)


def test_a_call_a_counselor_answered_is_theirs_to_wrap_up(
    live_line: LiveLine, start_worker: StartWorker
) -> None:
    store_always_on_call(live_line.redis)
    start_worker()
    live_line.network.phone("+12025550111", press("1"), talk(0.5))
    call = live_line.network.call_line(CALLER, press("1"))
    live_line.network.wait_for_call(call.sid, timeout=30)
    (contact,) = eventually(lambda: contacts(live_line))
    assert (contact.channel, contact.outcome, contact.counselor) == ("call", "answered", "alex")
    assert contact.source == f"call:{call.sid}"
    assert contact.waited_seconds is not None
    assert contact.talked_seconds is not None
    assert [c.id for c in Contacts(live_line.redis, 3600).wrapups_due("alex")] == [contact.id]


def test_a_caller_who_hangs_up_on_hold_is_an_abandoned_call(
    live_line: LiveLine, start_worker: StartWorker
) -> None:
    store_always_on_call(live_line.redis)
    start_worker()
    live_line.network.phone("+12025550111", answer="no-answer", ring_seconds=5)
    live_line.network.phone("+12025550112", answer="no-answer", ring_seconds=5)
    call = live_line.network.call_line(CALLER, press("1"), give_up(0.5))
    live_line.network.wait_for_call(call.sid, timeout=30)
    (contact,) = eventually(lambda: contacts(live_line))
    assert (contact.channel, contact.outcome, contact.counselor) == ("call", "abandoned", "")
    assert not contact.wrapup_due


def test_a_message_left_is_a_call_ending_in_voicemail(live_line: LiveLine) -> None:
    live_line.redis.delete(ROSTER_KEY)  # nobody on call: 1 for a person, 1 for a message
    call = live_line.network.call_line(
        CALLER, press("1"), press("1"), press("3"), say("it's me"), hangup()
    )
    live_line.network.wait_for_call(call.sid, timeout=30)
    (contact,) = eventually(lambda: contacts(live_line))
    assert (contact.channel, contact.outcome) == ("call", "voicemail")


def test_stop_in_a_held_conversation_ends_it_with_the_holders_wrap_up_due(
    live_line: LiveLine,
) -> None:
    store_always_on_call(live_line.redis)
    live_line.network.text_line(TEXTER, "TALK")
    live_line.run_jobs()
    threads = Line(live_line.settings, live_line.content, live_line.redis).threads
    thread_id = threads.open_thread_of(TEXTER)
    assert thread_id is not None
    threads.claim(thread_id, "alex")
    live_line.network.text_line(TEXTER, "STOP")
    live_line.run_jobs()
    (contact,) = contacts(live_line)
    assert (contact.channel, contact.outcome, contact.counselor) == ("text", "opted_out", "alex")
    assert contact.wrapup_due


def test_a_returned_call_is_a_callback_contact_with_its_counselor(
    live_line: LiveLine, start_worker: StartWorker
) -> None:
    start_worker()
    call = live_line.network.call_line(CALLER, *MESSAGE_TO_CALL_BACK, say("call me"), hangup())
    live_line.network.wait_for_call(call.sid, timeout=30)
    (reference,) = Callbacks(live_line.redis, live_line.settings.secret_key, 60).open_references()
    return_the_call(live_line, reference, CALLER)
    found = {c.source: c for c in contacts(live_line)}
    returned = found[f"callback:{reference}"]
    assert (returned.channel, returned.outcome, returned.counselor) == (
        "callback",
        "answered",
        "alex",
    )
    assert found[f"call:{call.sid}"].outcome == "voicemail"
