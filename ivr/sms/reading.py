"""What does a text ask for? A compliance word as the whole text, then a crisis
(ivr.crisis: rules, then a learned score), then keywords, then the menu —
matched the way people type: any case, accents or none, punctuation,
surrounding words."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from ivr.content.model import Content, Keyword, SmsFlow
from ivr.content.normalize import normalize
from ivr.crisis.reader import NOT_A_CRISIS, CrisisReading


class Intent(Enum):
    CRISIS = "crisis"
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    KEYWORD = "keyword"
    MENU = "menu"


@dataclass(frozen=True)
class Reading:
    intent: Intent
    keyword: Keyword | None = None
    language: str | None = None  # the language the text was recognised in, if any
    crisis: CrisisReading = NOT_A_CRISIS  # how the crisis reader read it (near, or not)

    @property
    def near(self) -> bool:
        """Close to a crisis, not one: the answer adds a line about 988."""
        return self.crisis.near


@lru_cache(maxsize=8192)
def _phrase_words(phrase: str) -> list[str]:
    """A content phrase as the words a text is compared with. Content is fixed
    while the line runs, so each phrase is normalised once, not per text (the
    benchmark's profile found a third of a text's time here). Callers must not
    change the list they get."""
    return normalize(phrase).split()


@dataclass(frozen=True)
class _Compiled:
    """One content's compliance words, normalised once."""

    compliance: tuple[tuple[Intent, frozenset[str]], ...]


_compiled_flows: dict[int, tuple[SmsFlow, _Compiled]] = {}


def _compiled(flow: SmsFlow) -> _Compiled:
    # Keyed by identity (the flow holds dicts: not hashable); the flow is kept
    # beside its index so its id cannot be reused by another while cached.
    held = _compiled_flows.get(id(flow))
    if held is not None and held[0] is flow:
        return held[1]
    compiled = _Compiled(
        compliance=tuple(
            (intent, frozenset(normalize(w).upper() for w in words))
            for intent, words in (
                (Intent.OPT_OUT, flow.opt_out),
                (Intent.OPT_IN, flow.opt_in),
                (Intent.HELP, flow.help),
            )
        ),
    )
    if len(_compiled_flows) > 16:  # a process reads one content; tests load a few
        _compiled_flows.clear()
    _compiled_flows[id(flow)] = (flow, compiled)
    return compiled


def _languages_of(keyword: Keyword, wanted: list[str]) -> set[str]:
    return {
        language
        for language, phrases in keyword.words.items()
        if any(_phrase_words(p) == wanted for p in phrases)
    }


def _keyword_at(words: list[str], flow: SmsFlow, *, first_only: bool) -> Reading | None:
    best: tuple[int, int, Reading] | None = None  # (position, -length) ranks a match
    for keyword in flow.keywords:
        for language, phrases in keyword.words.items():
            for phrase in phrases:
                wanted = _phrase_words(phrase)
                if not wanted:
                    continue
                starts = [0] if first_only else range(len(words) - len(wanted) + 1)
                for start in starts:
                    if words[start : start + len(wanted)] == wanted:
                        rank = (start, -len(wanted))
                        if best is None or rank < best[:2]:
                            said_in = _languages_of(keyword, wanted)
                            # A word of every language ("Klonopin") keeps the conversation's.
                            only = language if len(said_in) == 1 else None
                            best = (*rank, Reading(Intent.KEYWORD, keyword, only))
                        break
    return best[2] if best else None


def read_text(text: str, content: Content, language_hint: str | None = None) -> Reading:
    """What TEXT asks for. A compliance word as the whole text first (STOP is
    honoured however the rest would read); then a crisis, by content's crisis
    reader (rules, then a learned score), whatever else the text holds, with
    the keyword it also names kept, so that the crisis reply can be followed by
    the answer asked for; then keywords; then the menu."""
    normalized = normalize(text)
    whole = normalized.upper()
    flow = content.sms
    for intent, compliance in _compiled(flow).compliance:
        if whole in compliance:
            return Reading(intent)
    words = normalized.split()
    found = _keyword_at(words, flow, first_only=True) or _keyword_at(words, flow, first_only=False)
    # A text that is nothing but a keyword ("KLONOPIN", "AYUDA") asks for it:
    # only a rule could make it a crisis, never a score on one word.
    only_a_keyword = (
        found is not None
        and found.keyword is not None
        and any(
            _phrase_words(phrase) == words
            for phrases in found.keyword.words.values()
            for phrase in phrases
        )
    )
    crisis = content.crisis.read(text, language_hint, learned=not only_a_keyword)
    if crisis.crisis:
        keyword = found.keyword if found is not None else None
        return Reading(Intent.CRISIS, keyword, crisis.language, crisis)
    if found is not None:
        return Reading(Intent.KEYWORD, found.keyword, found.language, crisis)
    return Reading(Intent.MENU, crisis=crisis)
