"""Texting with a person, end to end through the emulator (issue 19): TALK
offers a conversation to the counselors on call by reference, what the texter
writes then goes to it and not to the keyword replies, a counselor's words
reach the texter once, a crisis is flagged and answered even if the
counselor is slow, STOP ends everything, and a silent texter is told how to
come back."""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Callable

import pytest

from ivr.app import create_app
from ivr.callbacks.requests import Callbacks
from ivr.callbacks.urgent import UrgentItems
from ivr.contacts.records import Contacts
from ivr.line import Line
from ivr.operators.accounts import Accounts
from ivr.operators.audit import AuditLog
from ivr.operators.counselor_desk import CounselorDesk
from ivr.roster.store import ROSTER_KEY
from ivr.sms.outbox import batch_id_for, batch_key
from ivr.sms.person import deliver, delivery_status
from ivr.threads.store import Threads
from tests.admin.login import log_in
from tests.live import LiveLine, WorkerProcess, eventually
from tests.rosters import COUNSELOR_A, COUNSELOR_B, SUPERVISOR, store_always_on_call
from tests.test_sms import texts_of
from twilio_emulator.console import ControlClient
from twilio_emulator.inbox import chat
from workers.context import install
from workers.escalate import escalate
from workers.threads import (
    answer_unanswered_crisis,
    close_quiet_conversation,
    send_conversation_message,
)

TEXTER = "+12025550166"
CRISIS = "i took all my pills and i want to die"


def threads(line: LiveLine) -> Threads:
    return Line(line.settings, line.content, line.redis).threads


def texted(line: LiveLine, body: str) -> list[str]:
    """Text the line as the texter; every text they got for it."""
    before = len(line.network.sent_messages(to=TEXTER))
    line.network.text_line(TEXTER, body)
    line.run_jobs()
    return [m.body for m in line.network.sent_messages(to=TEXTER)[before:]]


def to(line: LiveLine, number: str) -> list[str]:
    return [m.body for m in line.network.sent_messages(to=number)]


def the_thread(line: LiveLine) -> str:
    found = threads(line).open_thread_of(TEXTER)
    assert found is not None
    return found


def as_worker(line: LiveLine, job: object, *args: object) -> object:
    install(Line(line.settings, line.content, line.redis))
    try:
        return job(*args)  # type: ignore[operator]
    finally:
        install(None)


def held_by_alex(line: LiveLine) -> tuple[str, Threads]:
    """Counselors on call, a texter's TALK, and alex holding the conversation."""
    store_always_on_call(line.redis)
    texted(line, "TALK")
    thread_id = the_thread(line)
    store = threads(line)
    assert store.claim(thread_id, "alex") == "won"
    return thread_id, store


def say(line: LiveLine, thread_id: str, counselor: str, body: str) -> int:
    """A counselor's message, as the desk sends it."""
    store = threads(line)
    seq = store.say(thread_id, counselor, body)
    assert seq is not None
    assert (
        deliver(store, Line(line.settings, line.content, line.redis).outbox, thread_id, seq)
        == "sent"
    )
    line.run_jobs()
    return seq


def test_talk_offers_a_conversation_to_the_counselors_on_call_by_reference(
    live_line: LiveLine,
) -> None:
    store_always_on_call(live_line.redis)
    got = texted(live_line, "TALK")
    assert got[0] == texts_of(live_line.content, "talk_waiting", "en")[0]
    assert "on call now: 2" in got[1]  # alex and blanca (tests/test_conversation_wait.py)
    thread_id = the_thread(live_line)
    assert thread_id.startswith("TX-")
    for counselor in (COUNSELOR_A, COUNSELOR_B):
        (alert,) = to(live_line, counselor)
        assert thread_id in alert
        assert "0166" not in alert
    item = UrgentItems(live_line.redis, 3600).get(thread_id)
    assert item is not None
    assert item.kind == "conversation"
    assert texted(live_line, "TALK") == []  # the same conversation, no second alert
    assert len(to(live_line, COUNSELOR_A)) == 1


def test_with_nobody_on_call_talk_promises_no_one_and_says_where_to_turn(
    live_line: LiveLine,
) -> None:
    live_line.redis.delete(ROSTER_KEY)
    got = texted(live_line, "HABLAR")
    assert got == texts_of(live_line.content, "talk_nobody", "es")
    assert any("988" in part for part in got)


def test_in_a_conversation_texts_go_to_it_and_keywords_stop_but_help(
    live_line: LiveLine,
) -> None:
    store_always_on_call(live_line.redis)
    texted(live_line, "TALK")
    thread_id = the_thread(live_line)
    assert texted(live_line, "klonopin") == []  # no automatic answer: a person will
    assert texted(live_line, "my taper is going slower than i hoped") == []
    help_reply = texted(live_line, "HELP")  # the carriers require it, always
    assert any("988" in part for part in help_reply)
    said = [m.body for m in threads(live_line).messages(thread_id) if m.sender == "texter"]
    assert said == ["klonopin", "my taper is going slower than i hoped", "HELP"]


def test_a_counselors_words_reach_the_texter_once(live_line: LiveLine) -> None:
    store_always_on_call(live_line.redis)
    texted(live_line, "TALK")
    thread_id = the_thread(live_line)
    assert threads(live_line).claim(thread_id, "alex") == "won"
    before = len(to(live_line, TEXTER))
    seq = say(live_line, thread_id, "alex", "Hi, I'm Alex. I'm here. What's going on?")
    # A worker that finds it again (the desk died after the outbox took it) sends nothing more.
    assert as_worker(live_line, send_conversation_message, thread_id, seq) == "sent"
    live_line.run_jobs()
    assert to(live_line, TEXTER)[before:] == ["Hi, I'm Alex. I'm here. What's going on?"]
    # Taken: the ladder stops.
    assert as_worker(live_line, escalate, thread_id) in ("nothing to do", "already done")


def test_a_message_the_desk_never_handed_over_is_sent_by_a_worker(live_line: LiveLine) -> None:
    thread_id, store = held_by_alex(live_line)
    seq = store.say(thread_id, "alex", "Are you safe right now?")  # the process dies here
    assert seq is not None
    assert store.unsent_due(time.time() + 31) == [(thread_id, seq)]
    assert as_worker(live_line, send_conversation_message, thread_id, seq) == "sent"
    live_line.run_jobs()
    assert to(live_line, TEXTER)[-1] == "Are you safe right now?"
    assert store.unsent_due(time.time() + 31) == []


def test_a_crisis_in_a_held_conversation_is_flagged_and_answered_if_the_counselor_is_slow(
    live_line: LiveLine,
) -> None:
    thread_id, store = held_by_alex(live_line)
    assert texted(live_line, CRISIS) == []  # the counselor answers, not a robot at once
    (flagged,) = [m for m in store.messages(thread_id) if m.crisis]
    assert flagged.body == CRISIS
    assert store.crisis_due(time.time() + 121) == [thread_id]
    as_worker(live_line, answer_unanswered_crisis, thread_id)
    live_line.run_jobs()
    got = to(live_line, TEXTER)
    assert got[-len(texts_of(live_line.content, "crisis", "en")) :] == texts_of(
        live_line.content, "crisis", "en"
    )
    assert store.crisis_due(time.time() + 999) == []
    # The counselor sees that the line answered, and whether each text went.
    answered = store.messages(thread_id)[-2:]
    assert [m.sender for m in answered] == ["line", "line"]
    outbox = Line(live_line.settings, live_line.content, live_line.redis).outbox
    # Twilio's "delivered" comes after the text reaches the phone (the emulator's too).
    eventually(lambda: {delivery_status(outbox, thread_id, m) for m in answered} == {"delivered"})


def test_a_crisis_the_counselor_answers_in_time_gets_no_robot_reply(live_line: LiveLine) -> None:
    store_always_on_call(live_line.redis)
    texted(live_line, "TALK")
    thread_id = the_thread(live_line)
    threads(live_line).claim(thread_id, "alex")
    texted(live_line, CRISIS)
    say(live_line, thread_id, "alex", "I'm calling 911 for you now. Stay with me.")
    assert threads(live_line).crisis_due(time.time() + 999) == []
    assert as_worker(live_line, answer_unanswered_crisis, thread_id) == "answered, or closed"


def test_a_crisis_while_nobody_has_taken_it_gets_the_crisis_reply_at_once(
    live_line: LiveLine,
) -> None:
    store_always_on_call(live_line.redis)
    texted(live_line, "TALK")
    thread_id = the_thread(live_line)
    got = texted(live_line, CRISIS)
    assert any("988" in part for part in got)
    said = [m for m in threads(live_line).messages(thread_id) if m.sender == "texter"]
    assert [m.crisis for m in said] == [True]


def test_stop_mid_conversation_ends_it_and_nothing_more_is_sent(live_line: LiveLine) -> None:
    thread_id, store = held_by_alex(live_line)
    texted(live_line, "STOP")
    thread = store.get(thread_id)
    assert thread is not None
    assert (thread.state, thread.closed_by) == ("closed", "texter")
    before = len(to(live_line, TEXTER))
    assert store.say(thread_id, "alex", "wait, are you ok?") is None
    live_line.run_jobs()
    assert len(to(live_line, TEXTER)) == before


@pytest.mark.line_settings(HELPLINE_THREAD_SILENCE_SECONDS="60")
def test_a_silent_texter_is_told_how_to_come_back_and_the_conversation_closes(
    live_line: LiveLine,
) -> None:
    store_always_on_call(live_line.redis)
    texted(live_line, "TALK")
    thread_id = the_thread(live_line)
    store = threads(live_line)
    live_line.redis.zadd("threads:quiet_due", {thread_id: time.time() - 1})  # time passes
    # Nobody took it yet, and they were told a counselor would write: kept.
    assert as_worker(live_line, close_quiet_conversation, thread_id) == (
        "still waiting for a counselor"
    )
    store.claim(thread_id, "alex")
    assert as_worker(live_line, close_quiet_conversation, thread_id) == "the texter wrote meanwhile"
    live_line.redis.zadd("threads:quiet_due", {thread_id: time.time() - 1})  # time passes
    assert as_worker(live_line, close_quiet_conversation, thread_id) == "closed"
    live_line.run_jobs()
    assert to(live_line, TEXTER)[-2:] == texts_of(live_line.content, "thread_closed", "en")
    assert store.open_thread_of(TEXTER) is None
    outbox = Line(live_line.settings, live_line.content, live_line.redis).outbox
    closing = store.messages(thread_id)[-2:]
    # Twilio's "delivered" comes after the text reaches the phone (the emulator's too).
    eventually(lambda: {delivery_status(outbox, thread_id, m) for m in closing} == {"delivered"})


def test_a_conversation_nobody_takes_climbs_by_texts_only(live_line: LiveLine) -> None:
    store_always_on_call(live_line.redis)
    for person in (COUNSELOR_A, COUNSELOR_B, SUPERVISOR):
        live_line.network.phone(person, answer="no-answer")
    texted(live_line, "TALK")
    thread_id = the_thread(live_line)
    UrgentItems(live_line.redis, 3600).hurry(thread_id)
    assert as_worker(live_line, escalate, thread_id) == "on_call_again: 2 counselors"
    live_line.run_jobs()
    assert any("URGENT" in body and thread_id in body for body in to(live_line, COUNSELOR_A))
    assert not live_line.network.calls
    assert threads(live_line).claim(thread_id, "blanca") == "won"
    UrgentItems(live_line.redis, 3600).hurry(thread_id)
    assert as_worker(live_line, escalate, thread_id) == "already done"


def test_simulate_sms_chat_holds_a_conversation_with_the_desk(
    live_line: LiveLine, start_worker: Callable[..., object]
) -> None:
    """`helpline simulate sms --chat`: a person plays the texter in a terminal
    while another plays the counselor; the counselor's words show as they come."""
    store_always_on_call(live_line.redis)
    start_worker()
    typed: queue.Queue[str | None] = queue.Queue()
    shown: list[str] = []
    client = ControlClient(live_line.emulator_url)
    texter = threading.Thread(target=chat, args=(client, TEXTER, typed, shown.append))
    texter.start()
    typed.put("TALK")
    store = threads(live_line)
    thread_id = eventually(lambda: store.open_thread_of(TEXTER))
    eventually(lambda: any("We told the on-call team" in line for line in shown))
    store.claim(thread_id, "alex")
    seq = store.say(thread_id, "alex", "Hi, this is Alex. How can I help tonight?")
    assert seq is not None
    deliver(
        store, Line(live_line.settings, live_line.content, live_line.redis).outbox, thread_id, seq
    )
    typed.put("i can't stop shaking")
    eventually(lambda: [m.body for m in store.messages(thread_id)][-1] == "i can't stop shaking")
    typed.put(None)
    texter.join(timeout=30)
    assert not texter.is_alive()
    assert any("line → you: Hi, this is Alex. How can I help tonight?" in line for line in shown)
    assert any("you → line: i can't stop shaking" in line for line in shown)


def test_a_worker_killed_mid_send_of_a_counselors_words_neither_loses_nor_doubles_them(
    live_line: LiveLine, start_worker: Callable[..., WorkerProcess]
) -> None:
    thread_id, store = held_by_alex(live_line)
    live_line.network.fail_next("messages", count=1, delay=3.0)  # Twilio is slow to answer
    seq = store.say(thread_id, "alex", "I'm here. Are you somewhere safe?")
    assert seq is not None
    outbox = Line(live_line.settings, live_line.content, live_line.redis).outbox
    deliver(store, outbox, thread_id, seq)
    batch = batch_id_for(f"thread:{thread_id}:{seq}")
    first = start_worker(HELPLINE_JOB_LEASE_SECONDS="10")
    eventually(lambda: live_line.redis.hget(batch_key(batch), "sending0"))  # mid-send now
    first.kill()
    start_worker(HELPLINE_JOB_LEASE_SECONDS="10")
    eventually(lambda: outbox.batch(batch).get("status") == "sent", timeout=30)
    assert to(live_line, TEXTER).count("I'm here. Are you somewhere safe?") == 1
    assert store.unsent_due(time.time() + 60) == []


def test_every_crisis_message_in_a_held_conversation_gets_a_reply_if_the_counselor_is_slow(
    live_line: LiveLine,
) -> None:
    """Also one that came while it waited (replied at once), then another once
    it was taken, and another after the automatic reply went."""
    store_always_on_call(live_line.redis)
    texted(live_line, "TALK")
    thread_id = the_thread(live_line)
    store = threads(live_line)
    texted(live_line, CRISIS)  # waiting: the ordinary crisis reply at once
    store.claim(thread_id, "alex")
    assert texted(live_line, "i have the pills in my hand") == []
    assert store.crisis_due(time.time() + 121) == [thread_id]
    crisis = texts_of(live_line.content, "crisis", "en")
    before = len(to(live_line, TEXTER))
    as_worker(live_line, answer_unanswered_crisis, thread_id)
    live_line.run_jobs()
    assert to(live_line, TEXTER)[before:] == crisis
    texted(live_line, "please i am going to do it")
    assert store.crisis_due(time.time() + 121) == [thread_id]  # due again, not forgotten
    as_worker(live_line, answer_unanswered_crisis, thread_id)
    live_line.run_jobs()
    assert to(live_line, TEXTER)[before + len(crisis) :] == crisis  # a reply of its own


def test_call_inside_a_conversation_keeps_its_promise(live_line: LiveLine) -> None:
    """talk_nobody says 'Reply CALL to be called instead': it must work."""
    live_line.redis.delete(ROSTER_KEY)
    texted(live_line, "TALK")
    got = texted(live_line, "CALL")
    assert got == texts_of(live_line.content, "callback_confirmed", "en")
    assert Callbacks(live_line.redis, live_line.settings.secret_key, 60).open_references()
    said = threads(live_line).messages(the_thread(live_line))
    assert [m.body for m in said if m.sender == "texter"] == ["CALL"]


def test_handed_back_it_is_offered_and_on_the_ladder_again(live_line: LiveLine) -> None:
    store_always_on_call(live_line.redis)
    texted(live_line, "TALK")
    thread_id = the_thread(live_line)
    line = Line(live_line.settings, live_line.content, live_line.redis)
    desk = CounselorDesk(
        line.threads, UrgentItems(line.redis, 3600), line.outbox,
        Contacts(line.redis, 3600), AuditLog(line.redis), line.content, line.jobs, line.settings,
    )  # fmt: skip
    desk.take(thread_id, "alex")
    item = UrgentItems(live_line.redis, 3600).get(thread_id)
    assert item is not None
    assert item.claimed_by == "alex"
    alerts_before = len(to(live_line, COUNSELOR_B))
    desk.hand(thread_id, "alex", "")
    live_line.run_jobs()
    item = UrgentItems(live_line.redis, 3600).get(thread_id)
    assert item is not None
    assert (item.claimed_by, item.step) == ("", 0)
    assert live_line.redis.zscore("urgent:deadlines", thread_id) is not None
    assert len(to(live_line, COUNSELOR_B)) == alerts_before + 1  # told again


def test_the_sweeper_takes_a_deadline_once_per_lease(live_line: LiveLine) -> None:
    thread_id, store = held_by_alex(live_line)
    texted(live_line, CRISIS)
    live_line.redis.zadd("threads:crisis_due", {thread_id: time.time() - 1})
    assert store.take_crisis_due() == [thread_id]
    assert store.take_crisis_due() == []  # leased: not queued again every sweep


def test_the_reports_count_texts_by_keyword_and_crisis_category(
    live_line: LiveLine, people: Accounts
) -> None:
    texted(live_line, "KLONOPIN")
    texted(live_line, "TAPER")
    texted(live_line, "klonopin?")
    texted(live_line, CRISIS)
    client = create_app(live_line.settings, live_line.content).test_client()
    assert log_in(client, "val") == 302
    page = client.get("/admin/reports").get_data(as_text=True)
    assert "about: 2" in page
    assert "stopping: 1" in page
    assert re.search(r"<li>[a-z_]+: 1</li>", page.split('id="crisis-categories"')[1])
    assert "pills" not in page  # counts, never words
