"""What the line says, as typed objects parsed from `flows/`.

The phone menu is a graph of nodes; each node kind is one small dataclass, and
the voice engine turns each into TwiML. Every prompt carries its text in each
language, and every object remembers its place in the files for `flows check`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ivr.content.yamlsrc import Where
from ivr.crisis.reader import CrisisReader


@dataclass(frozen=True)
class Prompt:
    """One thing said (or texted), in every language, with {placeholders}."""

    by_language: Mapping[str, str]
    where: Where

    def text(self, language: str) -> str:
        return self.by_language[language]


CLOCK_FIELDS = frozenset({"h", "H", "mm", "zone", "day"})


@dataclass(frozen=True)
class Clock:
    """A language's way of writing a time of day (a locale's `clock`): a
    24-hour clock unless content says otherwise."""

    am: str = "{H}:{mm} {zone}"
    pm: str = "{H}:{mm} {zone}"
    # {day}: which day the time falls on, as the language says it. A time
    # named up to a day ahead ("6:00 PM", asked at 7 PM) is tomorrow's, and
    # a texter must not read it as one already past.
    today: str = ""
    tomorrow: str = ""


@dataclass(frozen=True)
class Locale:
    code: str
    label: str
    say_voice: str  # Twilio <Say voice=…>
    say_language: str  # Twilio <Say language=…>
    speech_language: str  # Twilio <Gather language=…> for speech recognition
    # This language's name in each language ("Spanish", "español"): the whisper
    # names the caller's language in the counselor's, not in the caller's.
    names: Mapping[str, str] = field(default_factory=dict)
    # How a time of day is written in this language, before noon and from noon
    # ("tomorrow at 7:00 PM EST", "mañana, 7:00 p.m. (EST)"): {h} 1-12, {H}
    # 00-23, {mm}, {zone}, {day} (its `today` or `tomorrow`).
    clock: Clock = field(default_factory=Clock)

    def name_in(self, language: str) -> str:
        return self.names.get(language, self.label)


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
    # A choice that switches language, offered in the language it switches to
    # (one entry): said by that language's voice, which reads it as written.
    offer: Prompt | None = None

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
    """Hand the caller to a counselor on call: hold, while counselors are rung
    and one accepts. `next` is where the caller goes when nobody is on call,
    nobody accepts, or the longest wait runs out."""

    say: Prompt
    next: str
    voicemail: str  # where a caller goes who chooses, while waiting, to leave a message


@dataclass(frozen=True)
class BackupNode(Node):
    """Dial the always-staffed backup line; `next` if it does not answer."""

    say: Prompt
    next: str
    ring_seconds: int = 30


@dataclass(frozen=True)
class VoicemailNode(Node):
    say: Prompt
    next: str
    max_seconds: int = 120


CONSENTS = ("this_number", "other_number", "none")


@dataclass(frozen=True)
class CallbackNode(Node):
    """Before a message: whether, and where, the caller may be called back.
    Phones are shared, and a call back can out a person, so a message is a
    callback only when the caller says so (issue 18, item 10).

    `this_number`: the number they call from (a withheld caller ID goes to
    `withheld` instead). `other_number`: `say` asks for a number, keyed or
    spoken; `confirm` reads it back ({number}); `choices` take it or ask
    again. `none`: no call back. `next` is the message; a caller who cannot
    give a number goes there too, with no call back."""

    consent: str
    next: str
    say: Prompt | None = None
    withheld: str = ""
    confirm: Prompt | None = None
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class HangupNode(Node):
    say: Prompt


@dataclass(frozen=True)
class VoiceFlow:
    start: str
    nodes: Mapping[str, Node]
    where: Where


@dataclass(frozen=True)
class Keyword:
    """A word (or phrase) a texter sends, and what the line does about it."""

    id: str
    words: Mapping[str, tuple[str, ...]]  # per language; the match sets the language
    reply: str  # a text id
    action: str  # "reply", "callback", "language" or "person" (text with a counselor)
    where: Where
    language: str | None = None  # with action "language": the language to switch to


# One word of an opt-out sentence: any of its alternatives (each one or more
# words), or nothing when optional.
Token = tuple[tuple[tuple[str, ...], ...], bool]


@dataclass(frozen=True)
class OptOutPattern:
    """A way of saying "send me nothing more" (`stop {texting} me`), parsed."""

    source: str
    tokens: tuple[Token, ...]
    where: Where


@dataclass(frozen=True)
class OptOutExample:
    """A text `flows check` reads: it must opt out (`opt_out`), or must not."""

    text: str
    opts_out: bool
    where: Where


@dataclass(frozen=True)
class OptOutSentences:
    """One language's sentences that ask for no more messages (47 CFR
    64.1200(a)(10): an opt-out "in any reasonable manner"), matched anywhere
    in a clause, and the words around a match that make it mean something else."""

    language: str
    patterns: tuple[OptOutPattern, ...]
    # Right before a match, these undo it ("please don't | stop texting me")...
    negated_by: tuple[tuple[str, ...], ...]
    # ...unless one of these ends there ("por qué no | dejan de escribirme").
    except_after: tuple[tuple[str, ...], ...]
    # Within the three words before a match: it is about someone else
    # ("my ex won't | stop texting me").
    about_others: tuple[tuple[str, ...], ...]
    examples: tuple[OptOutExample, ...]
    where: Where


@dataclass(frozen=True)
class SmsFlow:
    keywords: tuple[Keyword, ...]
    opt_out: tuple[str, ...]  # Twilio's opt-out keywords: the whole message, any case
    opt_in: tuple[str, ...]
    help: tuple[str, ...]
    replies: Mapping[str, str]  # role (see SMS_REPLY_ROLES) -> text id
    where: Where
    places: Mapping[str, Where] = field(default_factory=dict)  # "replies.menu" -> its line
    # One language's own whole-message words, by list ("opt_out", "opt_in",
    # "help", and "courtesy": words that may stand around an opt-out word).
    by_language: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    sentences: Mapping[str, OptOutSentences] = field(default_factory=dict)

    def at(self, name: str) -> Where:
        return self.places.get(name, self.where)


# What the SMS side needs content to say; each names a text in texts.yaml.
SMS_REPLY_ROLES = (
    "menu",  # anything that is not a keyword: the keywords and how to reach a person
    "help",  # HELP/INFO: the compliance reply
    "opted_out",  # the one confirmation after STOP
    "opted_in",  # after START
    "crisis",  # inline, at once: 911/988 guidance, and that a counselor will call back
    "crisis_no_counselor",  # the same when no counselor is on call: promises no counselor
    "crisis_alert",  # to the on-call counselor: a reference, never the number or text
    "callback_confirmed",  # to the texter after CALL
    "callback_alert",  # to the on-call counselor: a callback is waiting
    "message_alert",  # to the on-call counselor: a message nobody may call back, to hear
    "message_urgent",  # the ladder's text for such a message nobody has heard yet
    "message_taken",  # to a counselor who replied to a message's alert: it is theirs to hear
    "talk_nobody",  # TALK with nobody on call: no false promise; 988 and how to be called
    "talk_alert",  # to the counselors on call: a texter waits for a person (a reference only)
    "talk_urgent",  # the ladder's text for a conversation nobody has taken yet
    "talk_handed",  # to a counselor another handed a conversation to: it is theirs now
    "thread_closed",  # to a texter whose conversation closed: how to reach someone again
    "urgent_alert",  # the escalation ladder's text: urgent work nobody has taken yet
    "urgent_taken",  # to a counselor who replied to an alert with its reference: it is theirs
    "urgent_not_taken",  # the same when someone took it first (or it is no urgent work)
    "unavailable",  # the line cannot read texts right now (Redis down): where to turn
    "rate_limited",  # over the per-number cap: replies paused for the hour; how to get a person
    "blocked_crisis",  # crisis words from a blocked number: 911/988, promising no contact
    "near_crisis",  # one line about 988, after the answer to a text close to a crisis
)
# Roles content may leave out: the line then sends the role named beside it.
SMS_OPTIONAL_ROLES = {
    # TALK with nobody on call, naming when the next counselor's shift starts
    # ({next_start}); without it, or with no shift in sight, talk_nobody.
    "talk_nobody_until": "talk_nobody",
}
# Values the SMS handler fills in texts of the texting side (ivr/sms/wait.py),
# each with the longest it is likely to be, for the length check.
# A person keyword's reply (TALK): who is on call now in the texter's
# language, and how many texters were waiting before them.
WAIT_VALUES = {"on_call": "12", "ahead": "12"}
# talk_nobody_until: the next shift's start, written by the locale's clock.
NEXT_SHIFT_VALUE = "next_start"
# Sent to people who did not ask for information (or who just left): no STOP line needed.
SMS_ROLES_WITHOUT_OPT_OUT = (
    "opted_out",
    "crisis",
    "crisis_no_counselor",
    "crisis_alert",
    "urgent_alert",
    "urgent_taken",
    "urgent_not_taken",
    "callback_alert",
    "message_alert",
    "message_urgent",
    "message_taken",
    "talk_alert",
    "talk_urgent",
    "talk_handed",
    "thread_closed",
    "unavailable",
    "blocked_crisis",
    "near_crisis",
)


@dataclass(frozen=True)
class WrapUpContent:
    """flows/wrapup.yaml: the codes a wrap-up may use, each with its labels."""

    dispositions: Mapping[str, Prompt]
    risks: tuple[tuple[str, Prompt], ...]  # lowest first
    referrals: Mapping[str, Prompt]


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
    sms: SmsFlow
    crisis: CrisisReader  # flows/crisis/: what reads as a crisis, in a text or in speech
    wrapup: WrapUpContent  # flows/wrapup.yaml: what a counselor records after a contact
    files: tuple[str, ...] = field(default=())

    @property
    def default_language(self) -> str:
        return self.languages[0]


def successors(node: Node, content: Content) -> list[tuple[str, Where]]:
    """Where a caller can go from this node, each with the place it is written."""
    nav = content.navigation
    if isinstance(node, MenuNode):
        found = [(c.next, c.where) for c in node.choices]
        found.append((node.on_fail or nav.on_fail, node.where))
        found += [(nav.main_menu.next, nav.where), (nav.person.next, nav.where)]
        return found
    if isinstance(node, CounselorNode):
        return [(node.next, node.where), (node.voicemail, node.where)]
    if isinstance(node, SayNode | LanguageNode | TextMeNode | BackupNode | VoicemailNode):
        return [(node.next, node.where)] if node.next else []
    if isinstance(node, CallbackNode):
        found = [(node.next, node.where)] + [(c.next, c.where) for c in node.choices]
        return found + ([(node.withheld, node.where)] if node.withheld else [])
    return []


# The engine's own prompts; content must define each in every language.
SYSTEM_PROMPTS = (
    "not_understood",  # a wrong key or unrecognised words, before re-prompting
    "no_input",  # silence at a menu, before re-prompting
    "too_many_tries",  # said before taking the caller somewhere safe
    "crisis_heard",  # words at a menu or on hold read as a crisis: 911/988, a person now
    "text_unavailable",  # "text me this" from a hidden or non-mobile number
    "text_limited",  # "text me this" to a number over the hourly cap of texts
    "fallback",  # anything failed: crisis numbers, then the backup number
    "backup_unreachable",  # the backup number did not answer either: offer a message
    "fallback_message",  # before a message on the fallback path: say a number to call, if any
    "goodbye",  # after a message is left on the fallback path
    "hold",  # said every so often while a caller waits for a counselor
    "whisper",  # to a counselor before accepting: {language}, {waited}
    "whisper_connecting",  # the counselor accepted
    "whisper_taken",  # another counselor accepted first
    "whisper_caller_left",  # the caller hung up meanwhile
    "callback_whisper",  # to a counselor about to return a call: {ref}
    "callback_connecting",  # the counselor pressed 1: dialing the person
    "callback_outcome",  # after the call: did you reach them? (a voicemail answers too)
    "message_offer",  # to a counselor called to hear a message nobody may call back: {ref}
    "message_again",  # after it played: press 1 to hear it again
    "message_gone",  # someone else heard it first, or it is no longer kept
    "callback_withheld",  # "call me back here" from a withheld caller ID
    "callback_unclear",  # a callback number that is not a number we can call
    "callback_none",  # too many unclear numbers: a message with no call back
)
# Prompts the engine fills with values known only during a call.
PROMPT_VALUES = {
    "whisper": ("language", "waited"),
    "callback_whisper": ("ref",),
    "message_offer": ("ref",),
}
# Texts that are not replies of the running line and are filled with settings:
# `fallback` is the static SMS answer `helpline fallback export` writes, for
# when the service is down (it names HELPLINE_BACKUP_NUMBER; no STOP line: it
# answers whatever was sent, STOP included).
TEXT_VALUES = {"fallback": ("backup_number",)}
