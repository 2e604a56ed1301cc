"""Fill {placeholders} in content: the line's name and the public resources.

Content never types a number twice: `{crisis}` becomes "988" in a text and a
spoken form ("9 8 8") on the phone, both defined once in `line.yaml`.

A text that starts with a placeholder starts with a capital letter, whatever
the value: `{line_name}: …` is "The Benzo Support Line: …", though the name
reads "the Benzo Support Line" inside a sentence.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from ivr.content.model import Content

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
CLOCK_PLACEHOLDER = re.compile(r"\{([A-Za-z]+)\}")  # {H} is not {h}
Channel = Literal["voice", "sms"]


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def known_placeholders(content: Content) -> set[str]:
    return {"line_name", *content.resources}


# Filled in when a text is sent, not from content: the reference of an alert.
RUNTIME_PLACEHOLDERS = frozenset({"ref", "language", "waited"})


def fill(
    content: Content,
    text: str,
    language: str,
    channel: Channel,
    values: dict[str, str] | None = None,
) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if values is not None and name in values:
            return values[name]
        if name == "line_name":
            return content.line_name.get(language, "")
        resource = content.resources.get(name)
        if resource is None:
            return match.group(0)  # `flows check` reports it; never crash a call
        if channel == "voice":
            return resource.spoken.get(language, resource.text)
        return resource.text

    filled = PLACEHOLDER.sub(value, text)
    if filled and PLACEHOLDER.match(text):
        return filled[0].upper() + filled[1:]
    return filled


def reply_texts(
    content: Content, role: str, language: str, values: dict[str, str] | None = None
) -> list[str]:
    """The SMS texts content gives ROLE (flows/sms.yaml `replies`), filled, in
    LANGUAGE: one per part, sent in order."""
    return [
        fill(content, part.text(language), language, "sms", values)
        for part in content.texts[content.sms.replies[role]]
    ]


def clock_fields(pattern: str) -> list[str]:
    """The {fields} a locale's clock pattern names."""
    return CLOCK_PLACEHOLDER.findall(pattern)


def clock_time(content: Content, language: str, moment: datetime, *, tomorrow: bool) -> str:
    """MOMENT (aware, in the zone it is to be read in) as LANGUAGE writes a
    time of day: its locale's clock, with the zone's abbreviation ("EST"),
    on the day TOMORROW says (the clock's words for today or tomorrow)."""
    clock = content.locales[language].clock
    values = {
        "day": clock.tomorrow if tomorrow else clock.today,
        "h": str(moment.hour % 12 or 12),
        "H": f"{moment.hour:02d}",
        "mm": f"{moment.minute:02d}",
        "zone": moment.tzname() or "",
    }
    pattern = clock.pm if moment.hour >= 12 else clock.am
    return CLOCK_PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), pattern)
