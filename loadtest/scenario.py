"""Who calls and texts during a load run, and what each of them should get.

Everything is made from a seed, so a run can be repeated. Numbers are
fictional (555-01xx in twenty US area codes). Think time at a menu is real
(a `wait` step: the caller stays silent 2–7 s, the menu asks again, then they
choose; at most one silence per menu, so no caller runs out of tries), so
callers overlap as they would on a busy night instead of racing through the
menu in virtual time.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ivr.content.model import Content
from ivr.sms.reading import Intent, read_text
from ivr.sms.twilio_layer import twilio_answered
from loadtest.stack import BACKUP_NUMBER, LINE_NUMBER
from twilio_emulator.phones import Answer, Script, Step, give_up, hangup, press, say, script, talk
from twilio_emulator.phones import wait as pause_for

AREA_CODES: tuple[int, ...] = (202, 212, 213, 303, 305, 310, 312, 404, 415, 503)
AREA_CODES += (512, 602, 617, 646, 702, 713, 718, 801, 808, 917)
MESSAGE = "Hi, this is a load test caller. Please call me back when you can."


def numbers() -> Iterator[str]:
    """Fictional numbers, never the line's own nor its backup."""
    for line in range(100, 200):
        for area in AREA_CODES:
            number = f"+1{area}5550{line}"
            if number not in (LINE_NUMBER, BACKUP_NUMBER):
                yield number


# -- counselors ------------------------------------------------------------------


@dataclass(frozen=True)
class Counselor:
    id: str
    number: str
    languages: tuple[str, ...]
    script: Script
    accepts: bool


def counselors(pool: Iterator[str]) -> list[Counselor]:
    """Four who answer after a ring and press 1, one whose phone rings out, one
    whose voicemail answers (and so never accepts): in roster order. Each a
    person's phone, one call at a time: ringing it while it is on another
    call meets busy."""

    def accepting(ring: float, seconds: float) -> Script:
        return script(steps=[press("1"), talk(seconds)], ring_seconds=ring, single_line=True)

    return [
        Counselor("alex", next(pool), ("en",), accepting(1.0, 3), True),
        Counselor("blanca", next(pool), ("en", "es"), accepting(1.5, 4), True),
        Counselor("chen", next(pool), ("en",), accepting(2.0, 3), True),
        Counselor("dana", next(pool), ("en", "es"), accepting(1.0, 5), True),
        # Rings past the line's ring timeout: no-answer.
        Counselor(
            "eli",
            next(pool),
            ("en",),
            script(Answer.NO_ANSWER, ring_seconds=60, single_line=True),
            False,
        ),
        Counselor(
            "fran",
            next(pool),
            ("es", "en"),
            script(Answer.VOICEMAIL, ring_seconds=2, single_line=True),
            False,
        ),
    ]


def roster_data(people: list[Counselor]) -> dict[str, Any]:
    """Everyone on call all week, in this order (the line's ring order)."""
    return {
        "timezone": "America/New_York",
        "counselors": [
            {
                "id": c.id,
                "name": c.id.title(),
                "phone": c.number,
                "languages": list(c.languages),
                "priority": n,
            }
            for n, c in enumerate(people, start=1)
        ],
        "shifts": [
            {
                "counselor": c.id,
                "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "start": "00:00",
                "end": "24:00",
            }
            for c in people
        ],
    }


# -- callers -----------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    number: str
    kind: str  # "menu:<walk>" or "wait:<plan>"
    steps: tuple[Step, ...]
    start_at: float  # seconds after the run starts
    texts: tuple[str, ...] = ()  # the text ids this caller asks for ("text me this")
    # The menu the caller hears last (the action of the last document's Gather),
    # for callers who hang up at a menu: proof the line took them where they asked.
    last_menu: str | None = None

    @property
    def waits_for_counselor(self) -> bool:
        return self.kind.startswith("wait:")


@dataclass(frozen=True)
class Walk:
    """One way through the menu; `None` in the steps is a pause to think."""

    name: str
    steps: tuple[Step | None, ...]
    texts: tuple[str, ...] = ()
    last_menu: str | None = None


WALKS = (
    Walk(
        "learn, text it",
        (None, press("2"), None, press("1"), None, press("2"), None, hangup()),
        ("about_klonopin",),
        "after_text",
    ),
    Walk(
        "two texts",
        (None, press("4"), None, press("2"), None, press("2"), None, press("4"), hangup()),
        ("stopping_safely", "find_treatment"),
        "after_text",
    ),
    Walk(
        "insurance by text",
        (None, press("3"), None, press("2"), None, hangup()),
        ("insurance_cost",),
        "after_text",
    ),
    Walk(
        "in Spanish, text it",
        # Learn, emergencies and safety, mixing, text it.
        (
            press("9"),
            None,
            press("2"),
            None,
            press("3"),
            None,
            press("3"),
            None,
            press("2"),
            hangup(),
        ),
        ("staying_safe",),
        "after_text",
    ),
    Walk(
        "by voice",
        (
            None,
            say("learn"),
            None,
            say("stopping"),
            None,
            say("stopping"),
            None,
            say("again"),
            hangup(),
        ),
        (),
        "stopping_safely",
    ),
    Walk(
        "browse, star, insurance",
        (
            None,
            press("2"),
            None,
            press("4"),
            None,
            press("*"),
            press("3"),
            None,
            press("3"),
            hangup(),
        ),
        (),
        "insurance",
    ),
    # A wrong key first: one try of three used up at the main menu, then on.
    Walk(
        "wrong key first",
        (press("7"), press("2"), None, press("3"), None, press("3"), None, hangup()),
        (),
        "mixing_overdose",
    ),
    Walk("listens, hangs up", (None, hangup()), (), "main"),
)
# Insurance, 1 for a callback, 1 to be called back at the number calling; the message.
CALLBACK_WALK = Walk(
    "asks for a callback", (None, press("3"), None, press("1"), press("1"), say(MESSAGE))
)


def _walk_steps(walk: Walk, rng: random.Random) -> tuple[Step, ...]:
    return tuple(
        step if step is not None else pause_for(round(rng.uniform(2.0, 7.0), 1))
        for step in walk.steps
    )


def menu_callers(
    pool: Iterator[str], count: int, spread: float, rng: random.Random
) -> list[Caller]:
    callers = []
    for index in range(count):
        # One in twenty asks for a callback (a voicemail); the rest walk a menu path.
        walk = CALLBACK_WALK if index % 20 == 19 else WALKS[index % len(WALKS)]
        callers.append(
            Caller(
                next(pool),
                f"menu:{walk.name}",
                _walk_steps(walk, rng),
                rng.uniform(0, spread),
                walk.texts,
                walk.last_menu,
            )
        )
    return callers


def waiting_callers(
    pool: Iterator[str], count: int, spread: float, rng: random.Random
) -> list[Caller]:
    """Callers who press 1 for a counselor. If none takes them, most leave a
    message (1 at the hold prompt or at the menu that follows), some ask for
    the partner line (2; a 2 pressed on hold just keeps them waiting), a few
    give up waiting and hang up."""
    callers = []
    steps: tuple[Step, ...]
    for index in range(count):
        if index % 10 == 9:
            plan, steps = "gives up", (press("1"), give_up(round(rng.uniform(3, 8), 1)))
        elif index % 10 in (3, 6):
            plan, steps = "partner line if need be", (press("1"), *[press("2")] * 4)
        else:
            plan, steps = "message if need be", (press("1"), press("1"), say(MESSAGE))
        callers.append(Caller(next(pool), f"wait:{plan}", steps, rng.uniform(0, spread)))
    return callers


# -- texters -------------------------------------------------------------------------

KEYWORD_TEXTS = (
    "KLONOPIN",
    "klonopin",
    "Taper",
    "taper schedule?",
    "SAFETY",
    "is it ok to mix with alcohol",
    "TREATMENT",
    "rehab",
    "FIND",
    "cost",
    "how much does treatment cost",
    "benzo",
    "withdrawal",
    "AYUDA",
    "Español",
    "english",
    "tratamiento",
    "dejar",
    "seguro",
)
PLAIN_TEXTS = ("hi", "hello", "thanks", "?", "ok", "who is this", "🙏", "good morning", "hey there")
HELP_TEXTS = ("HELP", "info")
CALLBACK_TEXTS = ("CALL", "call me back")
CRISIS_TEXTS = (
    "I took too many pills",
    "i want to die",
    "I think I am going to kill myself",
    "my friend is having a seizure",
    "tome demasiadas pastillas",
    "quiero morir",
)
STOP_TEXTS = ("STOP", "stop", "Unsubscribe", "CANCEL", "quit", "END")
START_TEXTS = ("START", "yes", "UNSTOP")


@dataclass(frozen=True)
class Texter:
    number: str
    bodies: tuple[str, ...]  # sent one after another, each once the line has answered
    start_at: float
    pause: float = 0.0  # seconds between one text and the next (people type)


def texters(pool: Iterator[str], total: int, spread: float, rng: random.Random) -> list[Texter]:
    """`total` texts: 2 % crisis, 2 % callback requests, 16 % in STOP → (a
    keyword, unanswered) → START → keyword conversations, 30 % in two-text
    conversations, the rest single keywords, plain words and HELP."""
    crisis = max(1, total // 50)
    callback = max(1, total // 50)
    stop_start = max(1, total * 16 // 100 // 4)
    pairs = total * 30 // 100 // 2
    singles = total - crisis - callback - stop_start * 4 - pairs * 2
    ordinary = KEYWORD_TEXTS * 3 + PLAIN_TEXTS * 2 + HELP_TEXTS

    def at() -> float:
        return rng.uniform(0, spread)

    def typing() -> float:
        return round(rng.uniform(1.0, 3.0), 1)

    people = [Texter(next(pool), (rng.choice(CRISIS_TEXTS),), at()) for _ in range(crisis)]
    people += [Texter(next(pool), (rng.choice(CALLBACK_TEXTS),), at()) for _ in range(callback)]
    people += [
        Texter(
            next(pool),
            (
                rng.choice(STOP_TEXTS),
                rng.choice(KEYWORD_TEXTS),  # opted out: no answer
                rng.choice(START_TEXTS),
                rng.choice(KEYWORD_TEXTS),
            ),
            at(),
            typing(),
        )
        for _ in range(stop_start)
    ]
    people += [
        Texter(next(pool), (rng.choice(PLAIN_TEXTS), rng.choice(KEYWORD_TEXTS)), at(), typing())
        for _ in range(pairs)
    ]
    people += [Texter(next(pool), (rng.choice(ordinary),), at()) for _ in range(singles)]
    return people


@dataclass
class TextExpectation:
    """What the line should send, by number, for the texts it was sent."""

    per_number: dict[str, int] = field(default_factory=dict)
    crisis_alerts: int = 0  # crisis texts that alert the counselors on call
    callback_alerts: int = 0  # callback requests by text (each alerts them)
    inbound: int = 0


def expect_texts(content: Content, people: list[Texter]) -> TextExpectation:
    """Replies as the line promises them (README, "Texting the line"): a crisis
    text its crisis reply inline (and one alert per person per quarter hour);
    STOP one text, Twilio's (the line's own confirmation is refused, 21610)
    and nothing after it until START; START/YES/UNSTOP Twilio's one answer
    and none from the line (ivr/sms/twilio_layer.py); HELP/INFO Twilio's and
    then the line's (Twilio's names no 988); AYUDA, a keyword or anything else
    the line's reply. How a text
    is read is the line's own reader — this run counts texts lost or doubled
    under load, the test suite covers what each text means."""
    expected = TextExpectation()
    replies = content.sms.replies

    def parts(text_id: str) -> int:
        return len(content.texts[text_id])

    for person in people:
        opted_out, alerted, count = False, False, 0
        for body in person.bodies:
            expected.inbound += 1
            reading = read_text(body, content)
            # Twilio's layer answers these itself (no Advanced Opt-Out in the run).
            twilios = twilio_answered(body, "", advanced_opt_out=False)
            if reading.intent is Intent.CRISIS:
                # Inline, in the webhook's answer: Twilio blocks it to an opted-out number.
                count += 0 if opted_out else parts(replies["crisis"])
                if not alerted:
                    expected.crisis_alerts += 1
                    alerted = True
            elif reading.intent is Intent.OPT_OUT:
                opted_out = True
                count += 1 if twilios else 0
            elif reading.intent is Intent.OPT_IN:
                opted_out = False
                count += 1 if twilios else parts(replies["opted_in"])
            elif opted_out:
                pass
            elif reading.intent is Intent.HELP:
                # Twilio's help text names no 988: the line's follows it.
                count += (1 if twilios else 0) + parts(replies["help"])
            elif reading.keyword is not None:
                count += parts(reading.keyword.reply)
                if reading.keyword.action == "callback":
                    expected.callback_alerts += 1
            else:
                count += parts(replies["menu"])
        expected.per_number[person.number] = count
    return expected


# -- the whole scenario --------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    counselors: list[Counselor]
    callers: list[Caller]
    texters: list[Texter]
    backup_script: Script


def build(
    *,
    menu: int,
    waiting: int,
    texts: int,
    call_spread: float,
    text_spread: float,
    seed: int,
) -> Scenario:
    rng = random.Random(seed)
    pool = numbers()
    people = counselors(pool)
    callers = menu_callers(pool, menu, call_spread, rng)
    # Waiting callers arrive over twice the time: a steady stream, not one instant.
    callers += waiting_callers(pool, waiting, call_spread * 2, rng)
    callers.sort(key=lambda c: c.start_at)
    return Scenario(
        counselors=people,
        callers=callers,
        texters=texters(pool, texts, text_spread, rng),
        # The partner line always answers, and talks a while (virtual time).
        backup_script=script(talk_seconds=60),
    )
