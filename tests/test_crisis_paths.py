"""A person in crisis, in any words, by text and by voice (issue 14): each
category sent as a signed text and said at a menu and on hold takes the crisis
path; look-alikes get the information they asked for; every decision is
recorded without its words."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import redis
from flask import Flask
from rq import Queue

from ivr.content.model import Content
from ivr.crisis.corpus import CRISIS_DIR, TRAIN_FILE, load_corpus
from ivr.crisis.decisions import DECISIONS_PREFIX, Decisions
from ivr.crisis.language import guess_language
from ivr.jobs import QUEUE_NAME
from ivr.jobs import RING as RING_JOB
from ivr.line import Line
from ivr.platform.config import PROJECT_ROOT
from ivr.routing.dispatches import Dispatches
from ivr.routing.holding import Holding
from tests.rosters import store_always_on_call
from tests.test_sms import Phone, inline, texts_of
from tests.twilio_signing import CallFixture, TwilioSigner, gather_action, spoken

# One text per category and language, none of them in the corpus: the words
# people use, with any pronoun, slang and verb forms.
CRISES = [
    ("suicidal", "en", "honestly i think im gonna off myself tonight"),
    ("suicidal", "es", "ya no aguanto, me voy a matar hoy"),
    ("self_harm", "en", "my daughter has been cutting herself again, fresh cuts"),
    ("self_harm", "es", "me estoy cortando los brazos otra vez"),
    ("overdose", "en", "my husband swallowed a bunch of his pills with vodka"),
    ("overdose", "es", "mi hija se tomó un frasco de pastillas"),
    ("medical_emergency", "en", "she is not breathing and her lips are blue"),
    ("medical_emergency", "es", "mi papá no respira y no despierta"),
    ("severe_withdrawal", "en", "quit cold turkey last week and now im seeing bugs on the walls"),
    ("severe_withdrawal", "es", "dejé el rivotril de golpe y estoy viendo cosas"),
    ("danger_now", "en", "he has a gun and he said he'd kill me"),
    ("danger_now", "es", "mi novio me está pegando, tengo miedo"),
]
LOOKALIKES = [
    ("en", "overdose statistics for a school report"),
    ("en", "this exam will be the death of me"),
    ("en", "my phone is dying"),
    ("es", "me mata el calor"),
    ("es", "voy a cortar el césped"),
]
ALERT_JOB = "workers.alerts.alert_on_call"


@pytest.fixture
def phone(twilio: TwilioSigner, redis_client: redis.Redis) -> Phone:
    return Phone(twilio, redis_client)


def alerts(client: redis.Redis) -> int:
    jobs = Queue(QUEUE_NAME, connection=client).get_jobs()
    return len([j for j in jobs if j.func_name == ALERT_JOB])


def decisions(client: redis.Redis) -> list[dict[str, str]]:
    """Every decision counted so far (the tests' Redis is emptied per test)."""
    found = Decisions(client, 3600).counts(hours=2)
    return [
        {
            "channel": d.channel,
            "outcome": d.outcome,
            "category": d.category,
            "stage": d.stage,
            "language": d.language,
            "score": d.score,
        }
        for d, count in found.items()
        for _ in range(count)
    ]


@pytest.mark.parametrize(("category", "language", "body"), CRISES)
def test_each_crisis_as_a_signed_text_gets_the_crisis_reply_in_its_language(
    phone: Phone,
    redis_client: redis.Redis,
    content: Content,
    category: str,
    language: str,
    body: str,
) -> None:
    reply = phone.send(body)
    assert inline(reply) == texts_of(content, "crisis_no_counselor", language)
    assert alerts(redis_client) == 1, "a counselor is alerted"
    (decision,) = decisions(redis_client)
    assert decision["outcome"] == "crisis"
    assert decision["category"] == category
    assert decision["stage"] in ("rule", "score")
    assert decision["language"] == language
    assert body not in str(decision)  # the figures, never the words


@pytest.mark.parametrize(("language", "body"), LOOKALIKES)
def test_a_lookalike_gets_its_answer_and_no_alert(
    phone: Phone, redis_client: redis.Redis, language: str, body: str
) -> None:
    reply = phone.send(body)
    assert inline(reply) == []
    assert alerts(redis_client) == 0
    assert len(phone.queued_bodies()) == 1, "the menu or the keyword's answer"
    assert decisions(redis_client)[0]["outcome"] in ("none", "near")


def test_a_crisis_that_also_asks_gets_the_crisis_reply_then_its_answer(
    phone: Phone, redis_client: redis.Redis, content: Content
) -> None:
    """So a false alarm still answers the person."""
    reply = phone.send("i took my whole bottle, how do i taper?")
    assert inline(reply) == texts_of(content, "crisis_no_counselor", "en")
    assert alerts(redis_client) == 1
    assert phone.queued_bodies() == [texts_of(content, "stopping_safely", "en")]


def test_a_text_near_a_crisis_gets_its_answer_and_a_line_about_988(
    app: Flask, phone: Phone, redis_client: redis.Redis, content: Content
) -> None:
    """Below the crisis threshold, at or above the near one: no alert."""
    model = content.crisis.model
    # A training text the fitted model puts in the near band (the band moves
    # with every retraining; some text of the corpus is always in it).
    examples = load_corpus(PROJECT_ROOT / "flows" / CRISIS_DIR, TRAIN_FILE)
    near = next(
        e.text
        for e in examples
        if e.lookalike
        and content.crisis.read(e.text).near
        and content.crisis.read(e.text).confidence >= model.near_threshold  # not by a guard
    )
    told = guess_language(content.crisis.rules.read_text(near)[0])
    crisis_threshold, near_threshold = model.thresholds_for(told)
    assert near_threshold <= content.crisis.read(near).confidence < crisis_threshold
    reply = phone.send(near)
    assert inline(reply) == []
    assert alerts(redis_client) == 0
    (queued,) = phone.queued_bodies()
    language = content.crisis.read(near).language or "en"
    assert queued[-1:] == texts_of(content, "near_crisis", language)


# -- by voice -----------------------------------------------------------------


@pytest.fixture
def on_call(redis_client: redis.Redis) -> None:
    store_always_on_call(redis_client)


def hears_911_and_988(twiml: ET.Element) -> None:
    words = spoken(twiml)
    assert "9 1 1" in words
    assert "9 8 8" in words
    assert words.index("9 1 1") < words.index("9 8 8")


@pytest.mark.usefixtures("on_call")
@pytest.mark.parametrize(("category", "language", "body"), CRISES)
def test_each_crisis_said_at_the_main_menu_gets_911_988_and_an_urgent_counselor(
    twilio: TwilioSigner,
    redis_client: redis.Redis,
    app: Flask,
    category: str,
    language: str,
    body: str,
) -> None:
    call = CallFixture(twilio)
    menu = call.start()
    if language == "es":
        menu = call.press(menu, "9")  # Spanish, then the main menu in Spanish
    answer = call.say(menu, body)
    hears_911_and_988(answer)
    enqueue = answer.find("Enqueue")
    assert enqueue is not None, ET.tostring(answer)
    dispatch_id = enqueue.attrib["waitUrl"].rsplit("/", 1)[1]
    dispatch = Dispatches(redis_client, 3600).load(dispatch_id)
    assert dispatch is not None
    assert dispatch.urgent
    crises = [d for d in decisions(redis_client) if d["outcome"] == "crisis"]
    assert [(d["channel"], d["category"]) for d in crises] == [("voice", category)]


@pytest.mark.usefixtures("on_call")
@pytest.mark.parametrize(
    "body",
    [
        # A menu phrase ("talk to someone", "someone") and more: read whole, by
        # the score too — the rules alone miss both.
        "talk to someone i just feel like there is no point in going on anymore",
        "someone help me i keep thinking everyone would be fine if i was gone",
    ],
)
def test_a_crisis_that_names_a_menu_choice_is_still_heard(
    twilio: TwilioSigner, content: Content, body: str
) -> None:
    assert not content.crisis.read(body, learned=False).crisis  # what the rules alone say
    call = CallFixture(twilio)
    answer = call.say(call.start(), body)
    hears_911_and_988(answer)
    assert answer.find("Enqueue") is not None


def test_words_besides_a_menu_phrase_are_counted(content: Content) -> None:
    """A menu phrase and up to two words more is a menu answer (rules only);
    more than that is read whole (ivr/menu/engine.py, MENU_ANSWER_SLACK)."""
    from ivr.menu.matching import words_beyond_choice

    phrase = "talk to someone"
    assert words_beyond_choice(f"uh {phrase} please", "en", [content.navigation.person]) == 2
    assert words_beyond_choice("someone took all her pills", "en", [content.navigation.person]) == 4


def test_a_crisis_said_with_nobody_on_call_goes_to_the_backup_line(
    twilio: TwilioSigner, app: Flask
) -> None:
    call = CallFixture(twilio)
    answer = call.say(call.start(), "i want to kill myself")
    hears_911_and_988(answer)
    numbers = [(n.text or "").strip() for n in answer.iter("Number")]
    assert numbers == [app.extensions["helpline"].settings.backup_number]


@pytest.mark.usefixtures("on_call")
def test_a_crisis_said_during_the_greeting_is_heard_too(twilio: TwilioSigner) -> None:
    """The greeting is inside the menu's Gather: words during it are its answer."""
    call = CallFixture(twilio)
    greeting = call.start()
    assert "9 1 1" in spoken(greeting.find("Gather"))  # type: ignore[arg-type]
    answer = call.post(gather_action(greeting), SpeechResult="me quiero matar", Confidence="0.8")
    hears_911_and_988(answer)
    assert answer.find("Enqueue") is not None


@pytest.mark.usefixtures("on_call")
@pytest.mark.parametrize("words", ["my phone is dying", "again", "money", "otra vez"])
def test_a_lookalike_or_a_menu_word_said_is_a_menu_answer(twilio: TwilioSigner, words: str) -> None:
    """A look-alike, or a word that answers the menu (read by the rules alone)."""
    call = CallFixture(twilio)
    answer = call.say(call.start(), words)
    assert answer.find("Enqueue") is None
    assert answer.find("Gather") is not None


@pytest.mark.usefixtures("on_call")
def test_a_crisis_said_on_hold_puts_the_caller_first(
    twilio: TwilioSigner, redis_client: redis.Redis, app: Flask
) -> None:
    call = CallFixture(twilio)
    held = call.press(call.start(), "1")
    enqueue = held.find("Enqueue")
    assert enqueue is not None
    dispatch_id = enqueue.attrib["waitUrl"].rsplit("/", 1)[1]
    dispatches = Dispatches(redis_client, 3600)
    dispatch = dispatches.load(dispatch_id)
    assert dispatch is not None
    assert not dispatch.urgent
    hold = call.post(f"/voice/hold/{dispatch_id}", QueueTime="40")
    gather = hold.find("Gather")
    assert gather is not None
    assert "speech" in gather.attrib["input"]
    queued_before = len(Queue(QUEUE_NAME, connection=redis_client).get_jobs())
    answer = call.post(gather.attrib["action"], SpeechResult="i just took all my pills")
    hears_911_and_988(answer)
    assert answer.find("Redirect") is not None  # back to the hold, now first in line
    dispatch = dispatches.load(dispatch_id)
    assert dispatch is not None
    assert dispatch.urgent
    assert [u.id for u in dispatches.urgent_waiting()] == [dispatch_id]
    jobs = Queue(QUEUE_NAME, connection=redis_client).get_jobs()
    assert len(jobs) == queued_before + 1
    assert jobs[0].func_name == RING_JOB  # at the front: rung for now


def test_an_urgent_caller_is_rung_for_ahead_of_others(
    app: Flask, redis_client: redis.Redis
) -> None:
    """The worker's rule: while an urgent caller waits with no phone ringing
    for them, nobody else takes the next free counselor."""
    from workers.dispatch import _urgent_caller_first

    store_always_on_call(redis_client)
    line: Line = app.extensions["helpline"]
    holding = Holding(redis_client, line.queue, line.settings, line.roster)
    first = holding.hold("CA" + "1" * 32, "+12025550101", "en", "counselor")
    urgent = holding.hold("CA" + "2" * 32, "+12025550102", "en", "counselor", urgent=True)
    assert first is not None
    assert urgent is not None
    dispatches = holding.dispatches
    waiting, crisis = dispatches.load(first), dispatches.load(urgent)
    assert waiting is not None
    assert crisis is not None
    free = {"ana", "ben"}
    assert _urgent_caller_first(dispatches, waiting, free, line.settings)
    assert not _urgent_caller_first(dispatches, crisis, free, line.settings)
    # Nobody free left to ring for the urgent caller: the others are not held back.
    assert not _urgent_caller_first(dispatches, waiting, set(), line.settings)
    dispatches.finish(urgent, "bridged")
    assert not _urgent_caller_first(dispatches, waiting, free, line.settings)


def test_decisions_are_counts_by_the_hour_with_no_words(
    app: Flask, redis_client: redis.Redis
) -> None:
    line: Line = app.extensions["helpline"]
    reading = line.content.crisis.read("i want to kill myself")
    store = Decisions(redis_client, 3600)
    store.record(reading, "sms")
    store.record(reading, "sms")
    ((decision, count),) = store.counts(hours=1).items()
    assert count == 2
    assert (decision.outcome, decision.category, decision.stage) == ("crisis", "suicidal", "rule")
    (key,) = redis_client.keys(DECISIONS_PREFIX + "*")
    assert len(key) == len(DECISIONS_PREFIX) + len("2026120619")  # the hour, no finer
    assert 0 < redis_client.ttl(key) <= 3600


# -- what the fresh-eyes review found --------------------------------------------


def test_no_menu_word_or_keyword_reads_as_a_crisis(content: Content) -> None:
    """Words that answer a menu or name a keyword ("again", "money", "AYUDA")
    are read by the rules alone, and none of them is a crisis — but for the
    crisis words content lists on purpose: a caller who says "overdose" at the
    menu that offers facts about overdoses hears 911 and 988 and is put through
    to a person (a miss costs more than the detour)."""
    nav = content.navigation
    words = [
        (language, word)
        for node in content.voice.nodes.values()
        for choice in (*getattr(node, "choices", ()), nav.person, nav.main_menu)
        for language, phrases in choice.words.items()
        for word in phrases
    ]
    words += [
        (language, word)
        for keyword in content.sms.keywords
        for language, phrases in keyword.words.items()
        for word in phrases
    ]
    crises = [
        (language, word)
        for language, word in words
        if content.crisis.read(word, language, learned=False).crisis
    ]
    on_purpose = {" ".join(short.words) for short in content.crisis.rules.short}
    assert [word for _, word in crises if word.lower() not in on_purpose] == []


@pytest.mark.parametrize("body", ["no", "nothing", "goodbye", "adios", "again", "im tired", "😭"])
def test_a_word_or_two_is_never_a_crisis_by_score(
    phone: Phone, redis_client: redis.Redis, body: str
) -> None:
    phone.send(body)
    assert alerts(redis_client) == 0


@pytest.mark.parametrize(
    ("body", "language"),
    [("sucidal", "en"), ("sobredosis", "es"), ("muchas pastillas", "es"), ("seizures", "en")],
)
def test_a_crisis_in_a_word_or_two_is_still_one_in_its_language(
    phone: Phone, redis_client: redis.Redis, content: Content, body: str, language: str
) -> None:
    """The old word list's short crises, slips included, are content's short words."""
    assert inline(phone.send(body)) == texts_of(content, "crisis_no_counselor", language)
    assert alerts(redis_client) == 1


@pytest.mark.usefixtures("on_call")
def test_a_hello_that_cut_the_greeting_short_hears_911_and_988_again(
    twilio: TwilioSigner,
) -> None:
    call = CallFixture(twilio)
    again = call.say(call.start(), "hello?")
    hears_911_and_988(again)


def test_an_example_added_without_retraining_keeps_the_line_up(tmp_path: Path) -> None:
    """flows check refuses it; a running line warns and reads with the old model."""
    from ivr.content.check import check_directory, load_content

    flows = tmp_path / "flows"
    shutil.copytree(PROJECT_ROOT / "flows", flows)
    with (flows / CRISIS_DIR / TRAIN_FILE).open("a") as corpus:
        corpus.write('  - {text: "a new example", lang: en, label: none, lookalike: false}\n')
    assert load_content(flows).crisis.read("i want to kill myself").crisis
    assert any("run `helpline crisis train`" in str(p) for p in check_directory(flows))


@pytest.mark.usefixtures("on_call")
def test_an_urgent_caller_nobody_took_goes_to_the_backup_line(
    twilio: TwilioSigner, redis_client: redis.Redis, app: Flask
) -> None:
    """Not the no-counselor menu: a caller in crisis whose wait ran out is put
    through to the always-staffed line."""
    call = CallFixture(twilio)
    answer = call.say(call.start(), "i want to kill myself")
    enqueue = answer.find("Enqueue")
    assert enqueue is not None
    dispatch_id = enqueue.attrib["waitUrl"].rsplit("/", 1)[1]
    Dispatches(redis_client, 3600).finish(dispatch_id, "gave_up")
    after = call.post(f"/voice/after-hold/{dispatch_id}")
    numbers = [(n.text or "").strip() for n in after.iter("Number")]
    assert numbers == [app.extensions["helpline"].settings.backup_number]


def test_a_repeated_crisis_webhook_answers_in_the_conversations_language(
    phone: Phone, content: Content
) -> None:
    """Twilio's retry of a crisis text whose words tell no language gets the
    same answer as the first delivery: the conversation's language."""
    phone.send("AYUDA")  # a Spanish conversation
    body = "💊💊💊💊💊 bye"
    assert content.crisis.read(body).crisis
    assert content.crisis.read(body).language is None
    sid = "SM" + "c" * 32
    first = inline(phone.send(body, sid=sid))
    again = inline(phone.send(body, sid=sid))
    assert first == again == texts_of(content, "crisis_no_counselor", "es")
