"""The values a verb's attributes may take, as Twilio documents them, and what
Twilio answers for one out of range: most are a debugger *warning* (the verb
runs with its default), a few an *error*.

Sources (quoted in docs/emulator.md, "Attribute values"): the TwiML references
(docs/voice/twiml/<verb>), the Text-to-Speech page (its "Available voices and
languages" table and "<Say> limitations"), and Twilio's Error and Warning
Dictionary (docs/api/errors/<code>) for each code and whether it is a WARNING
or an ERROR. A bound Twilio states without naming a code is kept with
`code=None`, and says so in its reason.

`check_verb` is pure, so a test can run every document the line can emit
through it; `refused` is the interpreter's hook: it keeps warnings on the call
record and errors among the call's errors, and says whether the call must end.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from twilio_emulator.records import CallRecord

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    code: int | None  # Twilio's debugger code; None where Twilio documents none
    level: Level
    verb: str
    attribute: str
    value: str
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "level": self.level,
            "verb": self.verb,
            "attribute": self.attribute,
            "value": self.value,
            "message": self.reason,
        }


# -- <Say>: the Text-to-Speech page's table ("Available voices and languages") --

# Polly voices by language code, every row of the table (Standard, Neural and
# Generative). The bilingual ones (marked * there) appear under both languages.
_POLLY_BY_LANGUAGE: dict[str, tuple[str, ...]] = {
    "ar-AE": ("Hala-Neural", "Zayd-Neural"),
    "arb": ("Zeina",),
    "ca-ES": ("Arlet-Neural",),
    "yue-CN": ("Hiujin-Neural",),
    "cmn-CN": ("Zhiyu", "Zhiyu-Neural"),
    "da-DK": ("Mads", "Naja", "Sofie-Neural"),
    "nl-BE": ("Lisa-Neural",),
    "nl-NL": ("Laura-Neural", "Lotte", "Ruben"),
    "en-AU": ("Nicole", "Olivia-Generative", "Olivia-Neural", "Russell"),
    "en-IN": ("Aditi", "Kajal-Generative", "Kajal-Neural", "Raveena"),
    "en-IE": ("Niamh-Neural",),
    "en-NZ": ("Aria-Neural",),
    "en-ZA": ("Ayanda-Generative", "Ayanda-Neural"),
    "en-GB": (
        "Amy",
        "Amy-Generative",
        "Amy-Neural",
        "Arthur-Neural",
        "Brian",
        "Brian-Neural",
        "Emma",
        "Emma-Neural",
    ),
    "en-US": (
        "Danielle-Generative",
        "Danielle-Neural",
        "Gregory-Neural",
        "Ivy",
        "Ivy-Neural",
        "Joanna",
        "Joanna-Generative",
        "Joanna-Neural",
        "Joey",
        "Joey-Neural",
        "Justin",
        "Justin-Neural",
        "Kendra",
        "Kendra-Neural",
        "Kevin",
        "Kevin-Neural",
        "Kimberly",
        "Kimberly-Neural",
        "Matthew",
        "Matthew-Generative",
        "Matthew-Neural",
        "Ruth-Generative",
        "Ruth-Neural",
        "Salli",
        "Salli-Neural",
        "Stephen-Generative",
        "Stephen-Neural",
    ),
    "en-GB-WLS": ("Geraint",),
    "fi-FI": ("Suvi-Neural",),
    "fr-BE": ("Isabelle-Neural",),
    "fr-CA": ("Chantal", "Gabrielle-Neural", "Liam-Neural"),
    "fr-FR": (
        "Celine",
        "Céline",
        "Lea",
        "Léa",
        "Lea-Generative",
        "Lea-Neural",
        "Mathieu",
        "Rémi-Generative",
        "Remi-Neural",
    ),
    "de-AT": ("Hannah-Neural",),
    "de-DE": (
        "Daniel-Generative",
        "Daniel-Neural",
        "Hans",
        "Marlene",
        "Vicki",
        "Vicki-Generative",
        "Vicki-Neural",
    ),
    "hi-IN": ("Aditi", "Kajal-Neural"),
    "is-IS": ("Dora", "Dóra", "Karl"),
    "it-IT": (
        "Adriano-Neural",
        "Bianca",
        "Bianca-Generative",
        "Bianca-Neural",
        "Carla",
        "Giorgio",
    ),
    "ja-JP": ("Kazuha-Neural", "Mizuki", "Takumi", "Takumi-Neural", "Tomoko-Neural"),
    "ko-KR": ("Seoyeon", "Seoyeon-Neural"),
    "nb-NO": ("Ida-Neural", "Liv"),
    "pl-PL": ("Ewa", "Jacek", "Jan", "Maja", "Ola-Neural"),
    "pt-BR": (
        "Camila",
        "Camila-Neural",
        "Ricardo",
        "Thiago-Neural",
        "Vitoria",
        "Vitória",
        "Vitoria-Neural",
        "Vitória-Neural",
    ),
    "pt-PT": ("Cristiano", "Ines", "Inês", "Ines-Neural", "Inês-Neural"),
    "ro-RO": ("Carmen",),
    "ru-RU": ("Maxim", "Tatyana"),
    "es-MX": ("Andres-Generative", "Andres-Neural", "Mia", "Mía-Generative", "Mia-Neural"),
    "es-ES": (
        "Conchita",
        "Enrique",
        "Lucia",
        "Lucia-Generative",
        "Lucia-Neural",
        "Sergio-Generative",
        "Sergio-Neural",
    ),
    "es-US": (
        "Lupe",
        "Lupe-Generative",
        "Lupe-Neural",
        "Miguel",
        "Pedro-Generative",
        "Pedro-Neural",
        "Penelope",
        "Penélope",
    ),
    "sv-SE": ("Astrid", "Elin-Neural"),
    "tr-TR": ("Burcu-Neural", "Filiz"),
    "cy-GB": ("Gwyneth",),
}


def _by_voice(table: dict[str, tuple[str, ...]]) -> dict[str, frozenset[str]]:
    voices: dict[str, set[str]] = {}
    for language, names in table.items():
        for name in names:
            voices.setdefault(name, set()).add(language)
    return {name: frozenset(languages) for name, languages in voices.items()}


POLLY_VOICES = _by_voice(_POLLY_BY_LANGUAGE)
# The Basic voices (man, woman) and the languages the table lists them for.
BASIC_LANGUAGES = frozenset(
    {"en-GB", "en-US", "fr-FR", "de-DE", "it-IT", "es-MX", "es-ES", "es-US"}
)
# Google voices carry their language in the name: Google.en-US-Neural2-A.
_GOOGLE = re.compile(r"^Google\.([a-z]{2,3}-[A-Z]{2})-(?:Standard|Wavenet|Neural2|Chirp3-HD)-\w+$")
# "<Say> limitations": characters a <Say> can process, by kind of voice.
SAY_LIMITS = {"basic": 4000, "polly": 3000, "google": 5000}


def say_languages(voice: str) -> tuple[str, frozenset[str]] | None:
    """The kind of a voice and the languages Twilio lists for it; None for a
    voice the table does not have."""
    if voice.lower() in ("man", "woman"):
        return "basic", BASIC_LANGUAGES
    if voice.startswith("Polly."):
        languages = POLLY_VOICES.get(voice.removeprefix("Polly."))
        return None if languages is None else ("polly", languages)
    google = _GOOGLE.match(voice)
    return ("google", frozenset({google.group(1)})) if google else None


# -- <Gather>: its reference page ---------------------------------------------


def _tags(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The "Language appendix" of the <Gather> page (the accepted values list error
# 13512 points to), with the languages its generic models add.
GATHER_LANGUAGES = _tags(
    """af-ZA sq-AL am-ET ar-DZ ar-BH ar-EG ar-IQ ar-IL ar-JO ar-KW ar-LB ar-MR ar-MA ar-OM
    ar-QA ar-SA ar-PS ar-TN ar-AE ar-YE hy-AM az-AZ eu-ES bn-BD bn-IN bs-BA bg-BG my-MM
    ca-ES yue-Hant-HK cmn-Hans-CN cmn-Hans-HK cmn-Hant-TW hr-HR cs-CZ da-DK nl-NL nl-BE
    en-AU en-CA en-GH en-HK en-IN en-IE en-KE en-NZ en-NG en-PK en-PH en-SG en-ZA en-TZ
    en-GB en-US et-EE fil-PH fi-FI fr-BE fr-CA fr-FR fr-CH gl-ES ka-GE de-AT de-DE de-CH
    el-GR gu-IN iw-IL hi-IN hu-HU is-IS id-ID it-IT it-CH ja-JP jv-ID kn-IN kk-KZ km-KH
    ko-KR lo-LA lv-LV lt-LT mk-MK ms-MY ml-IN mr-IN mn-MN ne-NP nb-NO no-NO fa-IR pl-PL
    pt-BR pt-PT pa-guru-IN ro-RO ru-RU sr-RS si-LK sk-SK sl-SI es-AR es-BO es-CL es-CO
    es-CR es-DO es-EC es-SV es-GT es-HN es-MX es-NI es-PA es-PY es-PE es-PR es-ES es-US
    es-UY es-VE su-ID sw-KE sw-TZ sv-SE ta-IN ta-MY ta-SG ta-LK te-IN th-TH tr-TR uk-UA
    ur-IN ur-PK uz-UZ vi-VN zu-ZA"""
)
_EXPERIMENTAL = _tags(
    """da-DK de-DE en-AU en-GB en-IN en-US es-ES es-US fi-FI fr-CA fr-FR hi-IN ja-JP ko-KR
    mk-MK nl-NL no-NO pl-PL pt-BR pt-PT ro-RO ru-RU th-TH tr-TR uk-UA vi-VN"""
)
# The generic models whose languages the page lists ("Generic speech-to-text models").
MODEL_LANGUAGES: dict[str, frozenset[str]] = {
    "phone_call": _tags("en-US en-GB en-AU fr-FR fr-CA ja-JP ru-RU es-US es-ES pt-BR"),
    "experimental_conversations": _EXPERIMENTAL,
    "experimental_utterances": _EXPERIMENTAL,
}
GENERIC_MODELS = frozenset({"default", "numbers_and_commands", "phone_call", *MODEL_LANGUAGES})
GOOGLE_V2_MODELS = frozenset(
    {"googlev2_long", "googlev2_short", "googlev2_telephony", "googlev2_telephony_short"}
)
MAX_HINTS = 500
MAX_HINT_CHARACTERS = 100

# -- <Dial> ---------------------------------------------------------------------

DIAL_TIMEOUT = (5, 600)  # "the minimum allowed value is five seconds … maximum … 600"
DIAL_RECORD = frozenset(
    {
        "true",
        "false",
        "do-not-record",
        "record-from-answer",
        "record-from-ringing",
        "record-from-answer-dual",
        "record-from-ringing-dual",
    }
)
# A queue's name, as for a Queue's FriendlyName ("up to 64 characters"); queues.py
# keeps the same bound but imports the interpreter, so it is not imported here.
MAX_NAME = 64
DIAL_NOUNS = frozenset({"Number", "Queue", "Client", "Sip", "Conference", "Sim", "Application"})
_PHONE = re.compile(r"^\+?[0-9]{1,15}$")

KEYS = frozenset("0123456789#*")
BOOLEANS = frozenset({"true", "false"})
METHODS = frozenset({"GET", "POST"})


# -- the checks -------------------------------------------------------------------


class _Verb:
    """One element's attributes, and the problems found with them."""

    def __init__(self, element: ET.Element, name: str) -> None:
        self.element = element
        self.name = name  # as Twilio's messages name it: "Gather->Say"
        self.problems: list[Problem] = []

    def get(self, attribute: str) -> str | None:
        return self.element.get(attribute)

    def flag(
        self, code: int | None, attribute: str, value: str, reason: str, *, error: bool = False
    ) -> None:
        level: Level = "error" if error else "warning"
        self.problems.append(Problem(code, level, self.name, attribute, value, reason))

    def positive(self, attribute: str, code: int | None, *, also: Iterable[str] = ()) -> int | None:
        """A positive integer attribute (or one of `also`); its value, if a number."""
        value = self.get(attribute)
        if value is None or value in also:
            return None
        if value.isdigit() and int(value) > 0:
            return int(value)
        self.flag(code, attribute, value, f"{attribute} must be a positive integer")
        return None

    def at_least_zero(self, attribute: str, code: int) -> None:
        value = self.get(attribute)
        if value is not None and not value.isdigit():
            self.flag(code, attribute, value, f"{attribute} must be an integer of zero or more")

    def one_of(
        self,
        attribute: str,
        allowed: frozenset[str],
        code: int | None,
        *,
        error: bool = False,
        fold: Callable[[str], str] = str.lower,
    ) -> None:
        value = self.get(attribute)
        if value is not None and fold(value) not in allowed:
            choices = ", ".join(sorted(allowed))
            self.flag(code, attribute, value, f"{attribute} must be one of {choices}", error=error)

    def method(self, attribute: str, code: int, *, error: bool = False) -> None:
        self.one_of(attribute, METHODS, code, error=error, fold=str.upper)

    def keys(self, attribute: str, code: int, allowed: frozenset[str] = KEYS) -> None:
        value = self.get(attribute)
        if value is not None and not set(value) <= allowed:
            keys = "".join(sorted(allowed))
            self.flag(code, attribute, value, f"{attribute} may hold only {keys}")


def _say(verb: _Verb, inside_gather: bool) -> None:
    voice = verb.get("voice")
    language = verb.get("language")
    text = "".join(verb.element.itertext()).strip()
    verb.at_least_zero("loop", 13322 if inside_gather else 13510)
    kind = "basic"
    if voice is not None:
        known = say_languages(voice)
        if known is None:
            verb.flag(
                13321 if inside_gather else 13511,
                "voice",
                voice,
                "not a voice of Twilio's Text-to-Speech table",
            )
        else:
            kind, languages = known
            # Only an explicit pair is judged: without `language` the account's
            # language mapping chooses, which the emulator cannot see.
            if language is not None and language not in languages:
                verb.flag(
                    None,
                    "language",
                    language,
                    f"{voice} speaks {', '.join(sorted(languages))}, not {language}: Twilio "
                    "says such a pair 'may result in error and <Say> instruction failure' "
                    "and names no code",
                    error=True,
                )
    if not text:
        verb.flag(13520, "text", "", "the text of the Say verb was empty")
    elif len(text) > SAY_LIMITS[kind]:
        verb.flag(
            13521,
            "text",
            f"{len(text)} characters",
            f"a {kind} voice's <Say> can process no more than {SAY_LIMITS[kind]} characters",
        )


def _play(verb: _Verb) -> None:
    verb.at_least_zero("loop", 13410)
    verb.keys("digits", 13430, KEYS | {"w"})


def _pause(verb: _Verb) -> None:
    verb.positive("length", 13910)


def _gather(verb: _Verb) -> None:
    verb.method("method", 13312)
    verb.keys("finishOnKey", 13310)
    verb.positive("timeout", 13313)  # a positive integer; only speechTimeout takes "auto"
    verb.positive("numDigits", 13314)
    raw_input = verb.get("input")
    if raw_input is not None:
        inputs = raw_input.split()
        if not inputs or not set(inputs) <= {"dtmf", "speech"}:
            verb.flag(13326, "input", raw_input, "input must be dtmf, speech or dtmf speech")
    verb.positive("speechTimeout", 13327, also=("auto",))
    model = verb.get("speechModel")
    if model is not None and verb.get("speechTimeout") == "auto":
        verb.flag(
            13335,
            "speechTimeout",
            "auto",
            "with a speechModel, speechTimeout must be a positive integer, not auto",
        )
    hints = verb.get("hints")
    if hints is not None:
        entries = [entry.strip() for entry in hints.split(",")]
        if len(entries) > MAX_HINTS:
            verb.flag(13330, "hints", f"{len(entries)} entries", f"at most {MAX_HINTS} entries")
        long = [entry for entry in entries if len(entry) > MAX_HINT_CHARACTERS]
        if long:
            verb.flag(
                13330, "hints", long[0], f"each entry may be up to {MAX_HINT_CHARACTERS} characters"
            )
    if model is not None and not (
        model in GENERIC_MODELS or model in GOOGLE_V2_MODELS or model.startswith("deepgram_")
    ):
        verb.flag(13334, "speechModel", model, "not a speechModel the <Gather> page lists")
    language = verb.get("language")
    if language is not None:
        listed = MODEL_LANGUAGES.get(model or "")
        if listed is not None and language not in listed:
            verb.flag(13331, "language", language, f"{model} does not take {language}")
        elif (model is None or model == "default") and language not in GATHER_LANGUAGES:
            verb.flag(13512, "language", language, "not in the <Gather> page's language list")
    verb.one_of("actionOnEmptyResult", BOOLEANS, 13338, error=True)
    verb.one_of("profanityFilter", BOOLEANS, 13333)
    verb.one_of("enhanced", BOOLEANS, 13339)
    verb.method("partialResultCallbackMethod", 13329)
    for child in verb.element:
        if child.tag not in ("Say", "Play", "Pause"):
            verb.flag(13320, child.tag, "", "<Gather> nests only <Say>, <Play> and <Pause>")


def _dial(verb: _Verb) -> None:
    timeout = verb.positive("timeout", 13212)
    low, high = DIAL_TIMEOUT
    if timeout is not None and not low <= timeout <= high:
        verb.flag(
            None,
            "timeout",
            str(timeout),
            f"the <Dial> page allows {low} to {high} seconds and does not say what Twilio "
            "does outside them (the emulator rings for the nearest bound)",
        )
    verb.positive("timeLimit", 13216)
    verb.method("method", 13210)
    verb.one_of("record", DIAL_RECORD, 13217)
    verb.one_of("hangupOnStar", BOOLEANS, 13213)
    caller_id = verb.get("callerId")
    if caller_id is not None and not _PHONE.match(caller_id):
        verb.flag(13214, "callerId", caller_id, "callerId must be a phone number")
    for child in verb.element:
        if child.tag not in DIAL_NOUNS:
            verb.flag(13215, child.tag, "", "not a noun <Dial> takes")


def _number(verb: _Verb) -> None:
    verb.method("method", 13221)
    verb.keys("sendDigits", 13222, KEYS | {"w"})


def _queue(verb: _Verb) -> None:
    name = " ".join((verb.element.text or "").split())
    if not name:
        verb.flag(14212, "name", "", "queue name too short", error=True)
    elif len(name) > MAX_NAME:
        verb.flag(14213, "name", name, f"queue name longer than {MAX_NAME}", error=True)


def _record(verb: _Verb) -> None:
    verb.method("method", 13610)
    verb.positive("timeout", 13611)
    verb.positive("maxLength", 13612)
    verb.keys("finishOnKey", 13613)
    verb.one_of("transcribe", BOOLEANS, 13614)
    verb.one_of("playBeep", BOOLEANS, 13616)
    verb.one_of("trim", frozenset({"trim-silence", "do-not-trim"}), 13699)


def _redirect(verb: _Verb) -> None:
    verb.method("method", 13710)


def _enqueue(verb: _Verb) -> None:
    # The name (14204/14205) is enqueue.py's: it ends in QueueResult=error.
    verb.method("method", 14201, error=True)
    verb.method("waitUrlMethod", 14206, error=True)


def _reject(verb: _Verb) -> None:
    verb.one_of("reason", frozenset({"rejected", "busy"}), 13810)


_CHECKS: dict[str, Callable[[_Verb], None]] = {
    "Play": _play,
    "Pause": _pause,
    "Gather": _gather,
    "Dial": _dial,
    "Record": _record,
    "Redirect": _redirect,
    "Enqueue": _enqueue,
    "Reject": _reject,
}
_NOUNS: dict[str, Callable[[_Verb], None]] = {"Number": _number, "Queue": _queue}


def check_verb(element: ET.Element) -> list[Problem]:
    """Every problem with one verb's attribute values, its nested verbs and
    nouns included."""
    verb = _Verb(element, element.tag)
    if element.tag == "Say":
        _say(verb, inside_gather=False)
    elif element.tag in _CHECKS:
        _CHECKS[element.tag](verb)
    problems = verb.problems
    for child in element:
        nested = _Verb(child, f"{element.tag}->{child.tag}")
        if element.tag == "Gather" and child.tag == "Say":
            _say(nested, inside_gather=True)
        elif element.tag == "Gather" and child.tag in _CHECKS:
            _CHECKS[child.tag](nested)
        elif element.tag == "Dial" and child.tag in _NOUNS:
            _NOUNS[child.tag](nested)
        problems += nested.problems
    return problems


def check_document(root: ET.Element) -> list[Problem]:
    """Every problem in a `<Response>`, verb by verb."""
    return [problem for verb in root for problem in check_verb(verb)]


def refused(record: CallRecord, verb: ET.Element, url: str) -> bool:
    """Judge one verb before it runs: warnings are kept (`record.warnings`)
    and the verb goes on with its defaults; an error is kept among the call's
    errors, and the call ends (True), as for a document Twilio cannot run."""
    problems = check_verb(verb)
    for problem in problems:
        entry = {**problem.as_json(), "url": url}
        (record.errors if problem.level == "error" else record.warnings).append(entry)
    return any(problem.level == "error" for problem in problems)
