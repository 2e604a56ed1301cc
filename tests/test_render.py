"""Filling {placeholders}: a text that starts with one starts with a capital
letter, in texts and speech alike, though the value reads lower-case inside
a sentence ("From the Benzo Support Line")."""

from __future__ import annotations

import pytest

from ivr.content.model import Content
from ivr.content.render import RUNTIME_PLACEHOLDERS, Channel, fill, placeholders


@pytest.mark.parametrize("channel", ["sms", "voice"])
@pytest.mark.parametrize(
    ("language", "starts"),
    [("en", "The Benzo Support Line: "), ("es", "La Línea de Apoyo Benzo: ")],
)
def test_a_text_that_starts_with_the_line_name_starts_with_a_capital(
    content: Content, channel: Channel, language: str, starts: str
) -> None:
    filled = fill(content, "{line_name}: free, confidential.", language, channel)
    assert filled == starts + "free, confidential."


@pytest.mark.parametrize("channel", ["sms", "voice"])
def test_inside_a_sentence_the_name_keeps_its_case(content: Content, channel: Channel) -> None:
    filled = fill(content, "Thank you for calling {line_name}.", "en", channel)
    assert filled == "Thank you for calling the Benzo Support Line."


def test_a_value_given_at_the_start_is_capitalised_too(content: Content) -> None:
    assert fill(content, "{ref} is yours", "en", "sms", {"ref": "ab-12"}) == "Ab-12 is yours"


def test_a_text_without_placeholders_is_left_as_written(content: Content) -> None:
    assert fill(content, "reply STOP", "en", "sms") == "reply STOP"


def test_every_reply_and_prompt_of_the_line_starts_with_a_capital(content: Content) -> None:
    """What the line texts and says, as filled: no reply starts "the Benzo…"."""
    values = {name: "x" for name in RUNTIME_PLACEHOLDERS} | {"minutes": "5"}
    prompts = [*content.prompts.values(), *(p for parts in content.texts.values() for p in parts)]
    starts_with_placeholder = 0
    for prompt in prompts:
        for language in content.languages:
            text = prompt.text(language)
            if not text.startswith("{") or not placeholders(text):
                continue
            starts_with_placeholder += 1
            channels: tuple[Channel, ...] = ("sms", "voice")
            for channel in channels:
                filled = fill(content, text, language, channel, values)
                assert not filled[0].islower(), (prompt.where, language, filled)
    assert starts_with_placeholder > 10  # the line's texts do start with its name
