"""Reading a text: compliance words whole, a crisis in any words (the crisis
reader of flows/crisis/), keywords anywhere. Pinned at the level of
`read_text`, so that how it is put together cannot change what a text is read
as. The reader's own figures are `make eval`'s (tests/test_crisis_eval.py)."""

from __future__ import annotations

import pytest

from ivr.content.model import Content
from ivr.sms.reading import Intent, read_text

READINGS = [
    ("I want to kill myself", Intent.CRISIS, "en"),
    ("i wnat to kill myslef", Intent.CRISIS, "en"),  # slips: the learned stage reads them
    ("sucidal", Intent.CRISIS, None),
    ("QUIERO MATARME!!", Intent.CRISIS, "es"),
    ("me voy a matar", Intent.CRISIS, "es"),
    ("a mi hija se le acabó el rivotril y convulsiona", Intent.CRISIS, "es"),  # "a" is not English
    # A false alarm until 2026-12-07 evening (0.111 against a crisis threshold of
    # 0.102); `make train` then chose 0.3 of the n-grams and a threshold of 0.180.
    ("im doing much better today, thank you", Intent.MENU, None),
    ("STOP", Intent.OPT_OUT, None),
    ("stop.", Intent.OPT_OUT, None),
    ("please stop", Intent.OPT_OUT, None),  # courtesy around an opt-out word: still one
    ("please stop the taper?", Intent.KEYWORD, None),  # a question, not an opt-out
    ("stop texting me", Intent.OPT_OUT, None),  # an opt-out in a sentence
    ("START", Intent.OPT_IN, None),
    ("HELP", Intent.HELP, None),
    ("hello there", Intent.MENU, None),
    ("me mata el calor", Intent.MENU, None),
    ("voy a cortar el césped", Intent.MENU, None),
]


@pytest.mark.parametrize(("body", "intent", "language"), READINGS)
def test_a_text_is_read_as_people_mean_it(
    content: Content, body: str, intent: Intent, language: str | None
) -> None:
    reading = read_text(body, content)
    assert reading.intent is intent
    if intent is Intent.CRISIS and language is not None:
        assert reading.language == language


def test_a_keyword_is_found_inside_a_sentence(content: Content) -> None:
    keyword = content.sms.keywords[0]
    word = next(iter(keyword.words.values()))[0]
    reading = read_text(f"hi, can you send {word} please", content)
    assert reading.intent is Intent.KEYWORD
    assert reading.keyword is not None
    assert reading.keyword.id == keyword.id


def test_a_crisis_keeps_the_keyword_it_also_names(content: Content) -> None:
    """So that the crisis reply can be followed by the answer asked for."""
    reading = read_text("i took my whole bottle of klonopin, what is detox like", content)
    assert reading.intent is Intent.CRISIS
    assert reading.keyword is not None


def test_stop_is_honoured_before_anything_else(content: Content) -> None:
    assert read_text("STOP", content).intent is Intent.OPT_OUT
    assert read_text("Unsubscribe", content).intent is Intent.OPT_OUT
