"""What the line says in an emergency (issue 15, part 5): naloxone, overdose
first aid, running out of a prescription, withdrawal warning signs, and help
for family and friends. Each is reached by key, by speech and by keyword in
English and Spanish, and says what ../shared/CONTENT.md requires of it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest
import redis

from ivr.content.model import Content, MenuNode, TextMeNode
from ivr.content.normalize import normalize
from ivr.content.render import fill
from ivr.crisis.corpus import CRISIS_DIR, HELDOUT_FILE, TRAIN_FILE, load_corpus
from ivr.menu.matching import choose_by_words
from ivr.platform.config import PROJECT_ROOT
from tests.test_sms import Phone, inline, texts_of
from tests.twilio_signing import CallFixture, TwilioSigner, gather_action, spoken


@dataclass(frozen=True)
class Topic:
    node: str  # the phone menu's topic
    text: str  # what is texted: by keyword, or "text me this" from the topic
    keys: str  # from the main menu, in either language
    said: dict[str, tuple[str, str, str]]  # at the main menu, "learn", then its submenu
    keyword: dict[str, str]  # a texted keyword, per language


# "Learn" (2) opens two menus: stopping safely and withdrawal (2), and
# emergencies and safety (3).
TOPICS = [
    Topic(
        "overdose_first_aid",
        "overdose_first_aid",
        "231",
        {
            "en": ("learn about klonopin", "emergencies and safety", "first aid"),
            "es": ("quiero informarme", "emergencias", "qué hago mientras llega la ayuda"),
        },
        {"en": "FIRSTAID", "es": "primerosauxilios"},
    ),
    Topic(
        "naloxone",
        "naloxone",
        "232",
        {
            "en": ("learn", "naloxone", "tell me about naloxone"),
            "es": ("informarme", "naloxona", "la naloxona"),
        },
        {"en": "Naloxone", "es": "NALOXONA"},
    ),
    Topic(
        "warning_signs",
        "warning_signs",
        "234",
        {
            "en": ("learn", "emergencies", "withdrawal warning signs"),
            "es": ("informarme", "emergencias", "señales de alerta"),
        },
        {"en": "warning", "es": "Alerta"},
    ),
    Topic(
        "running_out",
        "running_out",
        "222",
        {
            "en": ("learn", "stopping", "I'm running out of my prescription"),
            "es": ("informarme", "dejarlo", "se me está acabando el medicamento"),
        },
        {"en": "REFILL", "es": "receta"},
    ),
    Topic(
        "family_friends",
        "family_friends",
        "224",
        {
            "en": ("learn", "stopping", "for family and friends"),
            "es": ("informarme", "dejarlo", "para familiares y amigos"),
        },
        {"en": "family", "es": "FAMILIA"},
    ),
]
IDS = [t.node for t in TOPICS]
LANGUAGES = ["en", "es"]


@pytest.fixture
def phone(twilio: TwilioSigner, redis_client: redis.Redis) -> Phone:
    return Phone(twilio, redis_client)


def intro(content: Content, node_id: str, language: str) -> str:
    node = content.voice.nodes[node_id]
    assert isinstance(node, MenuNode)
    assert node.intro is not None
    return fill(content, node.intro.text(language), language, "voice")


def texted(content: Content, text_id: str, language: str) -> str:
    return " ".join(texts_of(content, text_id, language))


def start(call: CallFixture, language: str) -> ET.Element:
    """The main menu, in the language: 9 switches to Spanish."""
    twiml = call.start()
    return call.press(twiml, "9") if language == "es" else twiml


def at_topic(twiml: ET.Element, content: Content, topic: Topic, language: str) -> None:
    assert intro(content, topic.node, language) in spoken(twiml)
    assert gather_action(twiml).endswith(f"/voice/menu/{topic.node}")


# -- reached by key, by speech and by keyword, in both languages -----------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("topic", TOPICS, ids=IDS)
def test_each_topic_is_reached_by_keys(
    twilio: TwilioSigner, content: Content, topic: Topic, language: str
) -> None:
    call = CallFixture(twilio)
    twiml = start(call, language)
    for key in topic.keys:
        twiml = call.press(twiml, key)
    at_topic(twiml, content, topic, language)
    assert {s.attrib["language"] for s in twiml.iter("Say")} == {f"{language}-US"}


def test_warning_signs_are_also_under_stopping_safely(
    twilio: TwilioSigner, content: Content
) -> None:
    call = CallFixture(twilio)
    twiml = call.start()
    for key in "223":
        twiml = call.press(twiml, key)
    at_topic(twiml, content, TOPICS[2], "en")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("topic", TOPICS, ids=IDS)
def test_each_topic_is_reached_by_speech(
    twilio: TwilioSigner, content: Content, topic: Topic, language: str
) -> None:
    call = CallFixture(twilio)
    twiml = start(call, language)
    for words in topic.said[language]:
        twiml = call.say(twiml, words)
    at_topic(twiml, content, topic, language)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("topic", TOPICS, ids=IDS)
def test_each_topic_is_reached_by_keyword_in_the_senders_language(
    phone: Phone, content: Content, topic: Topic, language: str
) -> None:
    reply = phone.send(topic.keyword[language])
    assert inline(reply) == []  # not read as a crisis
    assert phone.queued_bodies() == [texts_of(content, topic.text, language)]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("topic", TOPICS, ids=IDS)
def test_each_topic_can_be_texted_from_the_call(
    twilio: TwilioSigner, phone: Phone, content: Content, topic: Topic, language: str
) -> None:
    call = CallFixture(twilio, caller=phone.number)
    twiml = start(call, language)
    for key in topic.keys:
        twiml = call.press(twiml, key)
    after = call.press(twiml, "2")  # "to get this by text message"
    assert gather_action(after).endswith("/voice/menu/after_text")
    assert phone.queued_bodies() == [texts_of(content, topic.text, language)]


def test_other_topics_go_back_to_the_menu_that_lists_them(twilio: TwilioSigner) -> None:
    call = CallFixture(twilio)
    for keys, menu in (("2323", "emergencies"), ("2223", "stopping_menu"), ("2343", "learn")):
        twiml = call.start()
        for key in keys:
            twiml = call.press(twiml, key)
        assert gather_action(twiml).endswith(f"/voice/menu/{menu}"), keys


def test_the_emergencies_menu_names_911_and_988_before_its_choices(
    twilio: TwilioSigner, content: Content
) -> None:
    menu = content.voice.nodes["emergencies"]
    assert isinstance(menu, MenuNode)
    for language in LANGUAGES:
        call = CallFixture(twilio)
        twiml = call.press(call.press(start(call, language), "2"), "3")
        words = spoken(twiml)
        choices = fill(content, menu.say.text(language), language, "voice")
        assert words.index("9 1 1") < words.index("9 8 8") < words.index(choices)
    assert "oprima 2 para español" in intro(content, "emergencies", "es")


# -- what each says ----------------------------------------------------------------


def said_and_texted(content: Content, topic: str, language: str) -> list[str]:
    """The topic as heard on the phone and as texted (numbers as digits)."""
    heard = intro(content, topic, language).replace("9 1 1", "911")
    return [heard, texted(content, topic, language)]


SAFETY_FACTS = {
    # Naloxone: give it if opioids may be involved; it does not reverse a
    # benzodiazepine, so call 911 anyway.
    "naloxone": {
        "en": [r"opioids may be involved", r"does not reverse", r"benzodiazepine", r"911"],
        "es": [r"pudo haber usado opioides", r"no revierte", r"benzodiacepina", r"911"],
    },
    # Until help comes: stay, keep them awake, on their side if breathing,
    # never let them sleep it off.
    "overdose_first_aid": {
        "en": [
            r"911",
            r"stay with them",
            r"awake",
            r"on their side",
            r"breathing",
            r"sleep it off",
        ],
        "es": [r"911", r"quédese con la persona", r"despierta", r"de lado", r"respira", r"dormir"],
    },
    # Going without is a withdrawal risk: call the prescriber or pharmacist today.
    "running_out": {
        "en": [r"withdrawal", r"prescriber or (your )?pharmacist today", r"911"],
        "es": [r"abstinencia", r"hoy", r"médico o (a su )?farmacéutico", r"911"],
    },
    # Seizures, hallucinations, confusion, severe agitation: emergency care.
    "warning_signs": {
        "en": [r"911", r"seizure", r"hallucinations", r"confusion", r"severe agitation"],
        "es": [r"911", r"convulsi", r"alucinaciones", r"confusión", r"agitación intensa"],
    },
    # How to help someone taper safely, and how to look after themselves.
    "family_friends": {
        "en": [r"slow taper", r"(stop|stopping) (all at once|suddenly)", r"yourself too", r"911"],
        "es": [r"poco a poco", r"de golpe", r"cuídese|olvide de usted", r"911"],
    },
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("topic", sorted(SAFETY_FACTS))
def test_each_topic_says_its_safety_facts_on_the_phone_and_by_text(
    content: Content, topic: str, language: str
) -> None:
    for words in said_and_texted(content, topic, language):
        for fact in SAFETY_FACTS[topic][language]:
            assert re.search(fact, words, re.IGNORECASE), (topic, language, fact, words)


@pytest.mark.parametrize("language", LANGUAGES)
def test_mixing_with_opioids_or_alcohol_is_named_where_overdose_comes_up(
    content: Content, language: str
) -> None:
    """CONTENT.md, rule 2."""
    mixing = {"en": r"opioids or alcohol", "es": r"opioides o alcohol"}[language]
    for topic in ("naloxone", "overdose_first_aid"):
        assert re.search(mixing, texted(content, topic, language)), topic
    assert re.search(mixing, intro(content, "overdose_first_aid", language))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_crisis_replies_give_988_in_the_texters_language(
    content: Content, language: str
) -> None:
    """In Spanish: "suicidio" where English says "suicide", and 988's Spanish
    routes: press 2 when calling, or text AYUDA."""
    roles = [
        r for r in ("crisis", "crisis_no_counselor", "blocked_crisis") if r in content.sms.replies
    ]
    assert "crisis" in roles
    for role in roles:
        words = texted(content, content.sms.replies[role], language)
        assert "911" in words
        assert "988" in words
        if language == "en":
            assert "suicide" in words
        else:
            assert "suicidio" in words
            assert "oprima 2" in words
            assert re.search(r"AYUDA[^.]* 988", words)


def test_a_spanish_crisis_text_is_answered_with_988_in_spanish(phone: Phone) -> None:
    words = " ".join(inline(phone.send("quiero matarme")))
    for part in ("911", "suicidio", "oprima 2"):
        assert part in words
    assert re.search(r"AYUDA[^.]* 988", words)


# -- every series ends with 911/988; Spanish names only Spanish keywords ---------


def informational(content: Content) -> list[str]:
    """Texts sent on request: by "text me this", by a keyword, and the menu."""
    found = {n.text for n in content.voice.nodes.values() if isinstance(n, TextMeNode)}
    found |= {k.reply for k in content.sms.keywords}
    found.add(content.sms.replies["menu"])
    return sorted(found)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_series_ends_with_911_and_988(content: Content, language: str) -> None:
    for text_id in informational(content):
        last = texts_of(content, text_id, language)[-1]
        assert "911" in last, (text_id, language, last)
        assert "988" in last, (text_id, language, last)


def keyword_words(content: Content) -> dict[str, set[str]]:
    """Per language, every keyword a texter can answer with (language
    switches aside: ENGLISH in a Spanish text is meant to switch)."""
    words: dict[str, set[str]] = {"en": set(), "es": set()}
    for keyword in content.sms.keywords:
        if keyword.action == "language":
            continue
        for language, phrases in keyword.words.items():
            words[language] |= {normalize(p) for p in phrases}
    return words


def test_no_spanish_text_asks_for_an_english_only_keyword(content: Content) -> None:
    words = keyword_words(content)
    english_only = words["en"] - words["es"]
    for text_id, parts in content.texts.items():
        for part in parts:
            spanish = fill(content, part.text("es"), "es", "sms")
            # Keywords are written in capitals ("Responda LLAMAR").
            named = {
                normalize(w)
                for w in re.findall(r"\b[A-ZÁÉÍÓÚÑ]{2,}(?: [A-ZÁÉÍÓÚÑ]{2,})*\b", spanish)
            }
            assert not named & english_only, (text_id, spanish)


def test_every_keyword_a_spanish_text_names_is_accepted_in_spanish(
    phone: Phone, content: Content
) -> None:
    named = ("LLAMAR", "ALERTA", "PRIMEROSAUXILIOS", "NALOXONA", "RECETA", "FAMILIA")
    spanish = " ".join(
        fill(content, part.text("es"), "es", "sms")
        for parts in content.texts.values()
        for part in parts
    )
    for word in named:
        assert word in spanish
        assert normalize(word) in keyword_words(content)["es"]
    phone.send("LLAMAR")
    assert phone.queued_bodies() == [texts_of(content, "callback_confirmed", "es")]


def test_the_insurance_text_in_spanish_asks_for_llamar(content: Content) -> None:
    last = texts_of(content, "insurance_cost", "es")[-1]
    assert "LLAMAR" in last
    assert "CALL" not in last


# -- the words that lead to these topics hide no crisis ----------------------------


def test_no_phrase_that_leads_to_an_emergency_topic_hides_a_crisis(content: Content) -> None:
    """Words that answer a menu are read by the crisis rules alone (the learned
    score is not asked). So no phrase that leads to one of these topics may
    appear in a crisis of the corpus that only the score finds ("ran out of
    klonopin and im seeing bugs" must reach a person, not the refill topic)."""
    flows = PROJECT_ROOT / "flows" / CRISIS_DIR
    crises = [
        e for e in load_corpus(flows, TRAIN_FILE) + load_corpus(flows, HELDOUT_FILE) if e.crisis
    ]
    topics = {t.node for t in TOPICS}
    leading = [
        choice
        for node in content.voice.nodes.values()
        if isinstance(node, MenuNode)
        for choice in node.choices
        if choice.next in topics and choice.next != node.id  # "again" is every menu's
    ]
    hidden = [
        (e.language, e.text)
        for e in crises
        if choose_by_words(e.text, e.language, leading) is not None
        and not content.crisis.read(e.text, e.language, learned=False).crisis
    ]
    assert hidden == []


def test_the_new_keywords_do_not_collide(content: Content) -> None:
    owner: dict[tuple[str, str], str] = {}
    for keyword in content.sms.keywords:
        for language, phrases in keyword.words.items():
            for phrase in phrases:
                assert owner.setdefault((language, normalize(phrase)), keyword.id) == keyword.id
