"""What a texter who asks for a person is told about the wait (issue 19): only
what the roster and the queue say now — how many counselors who speak their
language are on call and how many texters wait ahead, or, with none on call,
when the next shift starts in the line's time zone — and every text the line
itself sends inside a conversation is kept in it, for the counselor who takes
it to see what the texter was already told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis

from ivr.app import create_app
from ivr.content.model import Content
from ivr.content.render import fill
from ivr.line import Line
from ivr.operators.accounts import Accounts
from ivr.platform import clock
from ivr.roster.oncall import next_on_call
from ivr.roster.parse import parse_roster
from ivr.roster.store import RosterStore
from ivr.sms.person import delivery_status
from tests.admin.login import PASSWORD, log_in
from tests.live import LiveLine, eventually
from tests.rosters import COUNSELOR_A, COUNSELOR_B, SUPERVISOR, store_always_on_call
from tests.test_sms import texts_of
from tests.test_text_conversations import CRISIS, texted, the_thread, threads, to

OTHER = "+12025550167"
ANOTHER = "+12025550168"
# A Wednesday, 11:30 AM in New York (the line's time zone, HELPLINE_TIMEZONE).
WEDNESDAY_MORNING = datetime(2025, 1, 15, 16, 30, tzinfo=UTC)
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def filled(content: Content, text_id: str, language: str, **values: str) -> list[str]:
    return [
        fill(content, part.text(language), language, "sms", values)
        for part in content.texts[text_id]
    ]


def store_shifts(
    client: redis.Redis, *shifts: tuple[str, str, list[str], str, str, list[str]]
) -> None:
    """Each (id, phone, languages, start, end, days) a counselor with that one
    shift in New York; and a supervisor, "sol", on call all the time (never
    counted: a supervisor is not offered conversations)."""
    data = {
        "timezone": "America/New_York",
        "counselors": [
            {"id": cid, "name": cid.title(), "phone": phone, "languages": languages}
            for cid, phone, languages, *_ in shifts
        ]
        + [
            {
                "id": "sol",
                "name": "Sol",
                "phone": SUPERVISOR,
                "languages": ["en", "es"],
                "role": "supervisor",
            }
        ],
        "shifts": [
            {"counselor": cid, "days": days, "start": start, "end": end}
            for cid, _, _, start, end, days in shifts
        ]
        + [{"counselor": "sol", "days": EVERY_DAY, "start": "00:00", "end": "24:00"}],
    }
    RosterStore(client).save(parse_roster(data, "test roster"))


@pytest.fixture
def wednesday_morning(monkeypatch: pytest.MonkeyPatch) -> None:
    """The line asks the roster who is on call at this instant."""
    monkeypatch.setattr(clock, "now", lambda: WEDNESDAY_MORNING)


def test_the_wait_names_who_is_on_call_in_the_texters_language_and_who_waits_ahead(
    live_line: LiveLine,
) -> None:
    store_always_on_call(live_line.redis)  # alex (English), blanca (English and Spanish)
    live_line.network.text_line(OTHER, "TALK")  # someone asked first
    live_line.run_jobs()
    got = texted(live_line, "TALK")
    assert got == filled(live_line.content, "talk_waiting", "en", on_call="2", ahead="1")
    assert "Counselors on call now: 2. People waiting ahead of you: 1." in got[1]
    assert "988" in got[1]
    # In Spanish: only blanca speaks it; two texters wait ahead now.
    live_line.network.text_line(ANOTHER, "HABLAR")
    live_line.run_jobs()
    (spanish,) = [m.body for m in live_line.network.sent_messages(to=ANOTHER)][1:]
    assert "que hablan español: 1. Personas esperando delante de usted: 2." in spanish
    # Taken: no longer waiting ahead of anyone.
    assert threads(live_line).claim(the_thread(live_line), "alex") == "won"
    live_line.network.text_line("+12025550169", "TALK")
    live_line.run_jobs()
    (counts,) = [m.body for m in live_line.network.sent_messages(to="+12025550169")][1:]
    assert "People waiting ahead of you: 2." in counts  # OTHER and ANOTHER


@pytest.mark.usefixtures("wednesday_morning")
@pytest.mark.parametrize(
    ("word", "language", "starts", "next_start"),
    [
        ("TALK", "en", "14:00", "today at 2:00 PM EST"),
        ("HABLAR", "es", "18:00", "hoy, 6:00 p.m. (EST)"),
        # 11:30 in New York: a shift at 7:00 is tomorrow's, and says so.
        ("TALK", "en", "07:00", "tomorrow at 7:00 AM EST"),
        ("HABLAR", "es", "07:00", "mañana, 7:00 a.m. (EST)"),
    ],
)
def test_with_nobody_on_call_the_reply_names_when_the_next_shift_starts_in_local_time(
    live_line: LiveLine, word: str, language: str, starts: str, next_start: str
) -> None:
    store_shifts(
        live_line.redis,
        ("alex", COUNSELOR_A, ["en"], starts, "11:00" if starts < "11:00" else "22:00", EVERY_DAY),
        ("blanca", COUNSELOR_B, ["en", "es"], starts, "11:00" if starts < "11:00" else "23:00",
         EVERY_DAY),
    )  # fmt: skip
    got = texted(live_line, word)
    assert got == filled(live_line.content, "talk_nobody_until", language, next_start=next_start)
    assert "STOP" in got[0]  # the first text of a conversation says how to opt out
    assert "988" in got[1]  # where to turn now comes before the next shift
    assert next_start in got[2]
    # Offered all the same: whoever comes on, or the ladder, finds it waiting.
    assert threads(live_line).waiting() == [the_thread(live_line)]


@pytest.mark.usefixtures("wednesday_morning")
def test_a_shift_more_than_a_day_away_is_not_named(live_line: LiveLine) -> None:
    """A time of day names one instant only within a day: Saturday's is not given."""
    store_shifts(live_line.redis, ("alex", COUNSELOR_A, ["en"], "09:00", "17:00", ["sat"]))
    assert texted(live_line, "TALK") == texts_of(live_line.content, "talk_nobody", "en")


def test_with_only_english_speakers_on_call_a_spanish_texter_is_not_told_one_is_on(
    live_line: LiveLine,
) -> None:
    store_always_on_call(live_line.redis, ("alex", COUNSELOR_A, ["en"]))
    got = texted(live_line, "HABLAR")
    assert got == texts_of(live_line.content, "talk_nobody", "es")
    assert "en español" in got[0]
    # Still offered to whoever is on call.
    assert any(the_thread(live_line) in body for body in to(live_line, COUNSELOR_A))


def test_the_lines_own_replies_are_kept_in_the_conversation_in_order(
    live_line: LiveLine,
) -> None:
    store_always_on_call(live_line.redis)
    content = live_line.content
    wait = texted(live_line, "TALK")
    texted(live_line, "my taper is going slower than i hoped")
    help_reply = texts_of(content, "help", "en")
    # After Twilio's own answer to HELP (the emulator gives it, as Twilio does).
    assert texted(live_line, "HELP")[-len(help_reply) :] == help_reply
    call_reply = texted(live_line, "CALL")
    crisis_reply = texted(live_line, CRISIS)  # nobody holds it yet: answered at once
    assert call_reply == texts_of(content, "callback_confirmed", "en")
    assert crisis_reply == texts_of(content, "crisis", "en")
    said = [(m.sender, m.body) for m in threads(live_line).messages(the_thread(live_line))]
    assert said == [
        *(("line", body) for body in wait),
        ("texter", "my taper is going slower than i hoped"),
        ("texter", "HELP"),
        *(("line", body) for body in help_reply),
        ("texter", "CALL"),
        *(("line", body) for body in call_reply),
        ("texter", CRISIS),
        *(("line", body) for body in crisis_reply),
    ]
    kept = threads(live_line).messages(the_thread(live_line))
    assert {m.status for m in kept if m.sender == "line"} == {"sent"}
    # Each of the line's texts knows the outbox part that carried it, so the
    # desk can say whether it went; the inline crisis reply went with the answer.
    outbox = Line(live_line.settings, live_line.content, live_line.redis).outbox
    through_outbox = [m for m in kept if m.sender == "line" and m.part]
    assert len(through_outbox) == len(wait) + len(help_reply) + len(call_reply)
    thread_id = the_thread(live_line)
    eventually(  # the emulator reports each delivered, after it reaches the phone
        lambda: {delivery_status(outbox, thread_id, m) for m in through_outbox} == {"delivered"}
    )
    assert [m.part for m in kept if m.sender == "line"][-len(crisis_reply) :] == [""] * len(
        crisis_reply
    )


def test_a_line_text_the_hourly_cap_held_back_shows_as_not_sent(live_line: LiveLine) -> None:
    """The counselor who takes it must not believe the texter has the crisis
    numbers and the wait when the cap sent the pause notice instead."""
    store_always_on_call(live_line.redis)
    texted(live_line, "TALK")
    thread_id = the_thread(live_line)
    outbox = Line(live_line.settings, live_line.content, live_line.redis).outbox
    first = next(m for m in threads(live_line).messages(thread_id) if m.sender == "line")
    batch_id, _, _ = first.part.partition(":")
    live_line.redis.hset(f"outbox:{batch_id}", "replaced", "rate_limited")
    assert delivery_status(outbox, thread_id, first) == "capped"


def test_the_counselor_who_takes_it_sees_what_the_line_told_the_texter(
    live_line: LiveLine,
) -> None:
    store_always_on_call(live_line.redis)
    wait = texted(live_line, "TALK")
    thread_id = the_thread(live_line)
    Accounts(live_line.redis).set_password("alex.r", PASSWORD, "counselor", counselor="alex")
    assert threads(live_line).claim(thread_id, "alex") == "won"
    alex = create_app(live_line.settings, live_line.content).test_client()
    assert log_in(alex, "alex.r") == 302
    page = alex.get(f"/desk/threads/{thread_id}").get_data(as_text=True)
    assert page.count('class="from-line"') == len(wait)
    assert page.count("the line (automatic)") == len(wait)  # told apart from a person
    assert page.count('<span class="status">delivered</span>') == len(wait)  # and they went
    assert wait[1] in page
    update = alex.get(f"/desk/threads/{thread_id}/updates?after=-1").get_json()
    assert [(m["sender"], m["body"]) for m in update["messages"]] == [("line", b) for b in wait]
    # A page that drew them still on their way asks again, and is answered.
    last = len(wait) - 1
    pending = ",".join(str(seq) for seq in range(len(wait)))
    asked = alex.get(f"/desk/threads/{thread_id}/updates?after={last}&pending={pending}")
    delivered = [(d["seq"], d["status_text"]) for d in asked.get_json()["delivery"]]
    assert delivered == [(seq, "delivered") for seq in range(len(wait))]


def test_the_next_shift_is_one_coming_on_not_one_already_on() -> None:
    roster = parse_roster(
        {
            "timezone": "America/New_York",
            "counselors": [
                {"id": "alex", "name": "Alex", "phone": COUNSELOR_A, "languages": ["en"]},
                {"id": "blanca", "name": "Blanca", "phone": COUNSELOR_B, "languages": ["es"]},
            ],
            "shifts": [
                {"counselor": "alex", "days": EVERY_DAY, "start": "10:00", "end": "12:00"},
                {"counselor": "alex", "days": EVERY_DAY, "start": "13:00", "end": "15:00"},
                {"counselor": "blanca", "days": EVERY_DAY, "start": "20:00", "end": "22:00"},
            ],
        },
        "test roster",
    )
    day = timedelta(hours=23, minutes=59)
    # 11:30 in New York: alex is on until noon, and back at 13:00 (18:00 UTC).
    assert next_on_call(roster, WEDNESDAY_MORNING, "en", day) == datetime(
        2025, 1, 15, 18, 0, tzinfo=UTC
    )
    assert next_on_call(roster, WEDNESDAY_MORNING, "es", day) == datetime(
        2025, 1, 16, 1, 0, tzinfo=UTC
    )
    assert next_on_call(roster, WEDNESDAY_MORNING, "es", timedelta(hours=8)) is None
