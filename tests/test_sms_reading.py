"""Reading a text: crisis words exact and with a slip, compliance words whole,
keywords anywhere. Pinned at the level of `read_text`, so the indexes that make
it fast (ivr/sms/reading.py) cannot change what a text is read as."""

from __future__ import annotations

import dataclasses

import pytest

from ivr.content.model import Content
from ivr.sms.reading import Intent, read_text

READINGS = [
    ("I want to kill myself", Intent.CRISIS, "en"),
    ("i wnat to kill myslef", Intent.CRISIS, "en"),  # slips in the long word only
    ("sucidal", Intent.CRISIS, "en"),
    ("pienso en el suicido", Intent.CRISIS, "es"),
    ("QUIERO MATARME!!", Intent.CRISIS, "es"),
    ("I did it", Intent.MENU, None),  # "did" is not "die": short words never slip
    ("STOP", Intent.OPT_OUT, None),
    ("stop.", Intent.OPT_OUT, None),
    ("please stop", Intent.MENU, None),  # compliance words count only as the whole text
    ("START", Intent.OPT_IN, None),
    ("HELP", Intent.HELP, None),
    ("hello there", Intent.MENU, None),
]


@pytest.mark.parametrize(("body", "intent", "language"), READINGS)
def test_a_text_is_read_as_people_mean_it(
    content: Content, body: str, intent: Intent, language: str | None
) -> None:
    reading = read_text(body, content.sms)
    assert reading.intent is intent
    if intent is Intent.CRISIS:
        assert reading.language == language


def test_a_keyword_is_found_inside_a_sentence(content: Content) -> None:
    keyword = content.sms.keywords[0]
    word = next(iter(keyword.words.values()))[0]
    reading = read_text(f"hi, can you send {word} please", content.sms)
    assert reading.intent is Intent.KEYWORD
    assert reading.keyword is not None
    assert reading.keyword.id == keyword.id


def test_other_content_is_read_by_its_own_words(content: Content) -> None:
    """The per-content index is per content: a flow with other crisis words
    reads texts by those, not by the first flow's."""
    assert read_text("zebra", content.sms).intent is not Intent.CRISIS
    other = dataclasses.replace(content.sms, crisis_words={"en": ("zebra crossing",)})
    assert read_text("a zebra crossing", other).intent is Intent.CRISIS
    assert read_text("I want to kill myself", other).intent is not Intent.CRISIS
    assert read_text("I want to kill myself", content.sms).intent is Intent.CRISIS
