"""What the line says, as typed objects parsed from `flows/`.

The phone menu is a graph of nodes; each node kind is one small dataclass, and
the voice engine turns each into TwiML. Every prompt carries its text in each
language, and every object remembers its place in the files for `flows check`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ivr.content.yamlsrc import Where


@dataclass(frozen=True)
class Prompt:
    """One thing said (or texted), in every language, with {placeholders}."""

    by_language: Mapping[str, str]
    where: Where

    def text(self, language: str) -> str:
        return self.by_language[language]


@dataclass(frozen=True)
class Locale:
    code: str
    label: str
    say_voice: str  # Twilio <Say voice=…>
    say_language: str  # Twilio <Say language=…>
    speech_language: str  # Twilio <Gather language=…> for speech recognition


@dataclass(frozen=True)
class Resource:
    """A public number or address cited by content (911, 988, …): the written
    form for texts and a spoken form per language for the phone."""

    name: str
    text: str
    spoken: Mapping[str, str]


@dataclass(frozen=True)
class Choice:
    keys: tuple[str, ...]
    words: Mapping[str, tuple[str, ...]]  # spoken phrases per language
    next: str
    where: Where
    languages: tuple[str, ...] = ()  # offered only in these languages; empty: in all

    def offered_in(self, language: str) -> bool:
        return not self.languages or language in self.languages


@dataclass(frozen=True)
class Navigation:
    """Choices that work in every menu: back to the main menu, and a person."""

    main_menu: Choice
    person: Choice
    main: str  # node id of the main menu
    tries: int  # attempts at a menu before the caller is taken somewhere safe
    on_fail: str
    gather_timeout_seconds: int
    where: Where


@dataclass(frozen=True)
class Node:
    id: str
    where: Where


@dataclass(frozen=True)
class SayNode(Node):
    say: Prompt
    next: str


@dataclass(frozen=True)
class MenuNode(Node):
    say: Prompt
    choices: tuple[Choice, ...]
    intro: Prompt | None = None
    tries: int | None = None
    on_fail: str | None = None


@dataclass(frozen=True)
class LanguageNode(Node):
    language: str
    next: str
    say: Prompt | None = None


@dataclass(frozen=True)
class TextMeNode(Node):
    """Send the named text to the caller's own number, then go on."""

    text: str
    say: Prompt
    next: str


@dataclass(frozen=True)
class CounselorNode(Node):
    """Hand the caller to a person. Until rostered routing exists this dials
    the always-staffed backup number; `next` is where a caller goes when that
    does not connect."""

    say: Prompt
    next: str
    ring_seconds: int = 30


@dataclass(frozen=True)
class VoicemailNode(Node):
    say: Prompt
    next: str
    max_seconds: int = 120


@dataclass(frozen=True)
class HangupNode(Node):
    say: Prompt


@dataclass(frozen=True)
class VoiceFlow:
    start: str
    nodes: Mapping[str, Node]
    where: Where


@dataclass(frozen=True)
class Content:
    languages: tuple[str, ...]  # the first is the default
    locales: Mapping[str, Locale]
    line_name: Mapping[str, str]
    resources: Mapping[str, Resource]
    navigation: Navigation
    prompts: Mapping[str, Prompt]  # system prompts the engine itself needs
    voice: VoiceFlow
    texts: Mapping[str, tuple[Prompt, ...]]  # SMS texts by id: the parts, sent in order
    files: tuple[str, ...] = field(default=())

    @property
    def default_language(self) -> str:
        return self.languages[0]


# The engine's own prompts; content must define each in every language.
SYSTEM_PROMPTS = (
    "not_understood",  # a wrong key or unrecognised words, before re-prompting
    "no_input",  # silence at a menu, before re-prompting
    "too_many_tries",  # said before taking the caller somewhere safe
    "text_unavailable",  # "text me this" from a hidden or non-mobile number
    "fallback",  # anything failed: crisis numbers, then the backup number
    "backup_unreachable",  # the backup number did not answer either: offer a message
    "goodbye",  # after a message is left on the fallback path
)
