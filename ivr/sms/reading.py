"""What does a text ask for? Crisis first, then compliance words, then
keywords, then the menu — matched the way people type: any case, accents or
none, punctuation, surrounding words, and (for crisis words) a slip of a
letter or two."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from ivr.content.model import Keyword, SmsFlow
from ivr.content.normalize import normalize


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


def _edits_within(a: str, b: str, limit: int) -> bool:
    """Damerau–Levenshtein distance of at most `limit`, stopping early."""
    if abs(len(a) - len(b)) > limit:
        return False
    # Each edit takes away at most one letter that one word has and the other
    # lacks: a cheap refusal before the table (most word pairs differ in many).
    if len(set(a).difference(b)) > limit or len(set(b).difference(a)) > limit:
        return False
    previous2: list[int] | None = None
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if previous2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return False
        previous2, previous = previous, current
    return previous[-1] <= limit


def _word_matches(said: str, wanted: str) -> bool:
    if said == wanted:
        return True
    # A slip of the thumb in a long word still counts; short words must be exact
    # ("die" is not "did").
    limit = 2 if len(wanted) >= 10 else 1 if len(wanted) >= 5 else 0
    return limit > 0 and _edits_within(said, wanted, limit)


@lru_cache(maxsize=8192)
def _phrase_words(phrase: str, *, drop_apostrophes: bool = False) -> list[str]:
    """A content phrase as the words a text is compared with. Content is fixed
    while the line runs, so each phrase is normalised once, not per text (the
    benchmark's profile found a third of a text's time here). Callers must not
    change the list they get."""
    return normalize(phrase.replace("'", "") if drop_apostrophes else phrase).split()


def _contains_phrase(words: Sequence[str], phrase: Sequence[str], fuzzy: bool) -> bool:
    if not phrase:
        return False
    for start in range(len(words) - len(phrase) + 1):
        window = words[start : start + len(phrase)]
        if all(
            (_word_matches(s, w) if fuzzy else s == w) for s, w in zip(window, phrase, strict=True)
        ):
            return True
    return False


# A few of the commonest words of each language: enough to tell which language a
# short text is in when a misspelt crisis word looks like both ("suicido").
COMMON_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        {
            "i",
            "im",
            "my",
            "me",
            "the",
            "a",
            "to",
            "and",
            "is",
            "of",
            "it",
            "in",
            "have",
            "want",
            "am",
            "think",
            "you",
            "he",
            "she",
        }
    ),
    "es": frozenset(
        {
            "yo",
            "me",
            "mi",
            "el",
            "la",
            "de",
            "que",
            "en",
            "y",
            "es",
            "un",
            "una",
            "por",
            "con",
            "para",
            "tengo",
            "quiero",
            "estoy",
            "pienso",
            "creo",
            "no",
            "se",
            "lo",
        }
    ),
}


def _likely_language(words: list[str], candidates: list[str]) -> str:
    def score(language: str) -> int:
        return sum(1 for w in words if w in COMMON_WORDS.get(language, frozenset()))

    return max(candidates, key=score)  # ties: the first candidate, in content's order


@dataclass(frozen=True)
class _CrisisPhrase:
    words: tuple[str, ...]
    every_word: frozenset[str]
    # Words too short to allow a slip ("die" is not "did"): even the fuzzy pass
    # needs them typed as they are.
    short_words: frozenset[str]


@dataclass(frozen=True)
class _Compiled:
    """One content's SMS words, normalised and indexed once: a text is then read
    with set lookups, and the letter-by-letter comparison runs only for the
    phrases whose words the text could hold (the profile found a quarter of a
    text's time reading it, most of it comparing every phrase)."""

    crisis: tuple[tuple[str, tuple[_CrisisPhrase, ...]], ...]  # per language, content's order
    compliance: tuple[tuple[Intent, frozenset[str]], ...]


def _crisis_phrase(phrase: str) -> _CrisisPhrase:
    words = tuple(_phrase_words(phrase, drop_apostrophes=True))
    short = frozenset(w for w in words if len(w) < 5)  # _word_matches' limit 0
    return _CrisisPhrase(words, frozenset(words), short)


_compiled_flows: dict[int, tuple[SmsFlow, _Compiled]] = {}


def _compiled(flow: SmsFlow) -> _Compiled:
    # Keyed by identity (the flow holds dicts: not hashable); the flow is kept
    # beside its index so its id cannot be reused by another while cached.
    held = _compiled_flows.get(id(flow))
    if held is not None and held[0] is flow:
        return held[1]
    compiled = _Compiled(
        crisis=tuple(
            (language, tuple(_crisis_phrase(p) for p in phrases))
            for language, phrases in flow.crisis_words.items()
        ),
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


def _holds(words: list[str], present: frozenset[str], phrase: _CrisisPhrase, fuzzy: bool) -> bool:
    # A set test first refuses nearly every phrase: the exact pass needs all its
    # words in the text, the fuzzy pass at least its short ones.
    if not (phrase.short_words if fuzzy else phrase.every_word) <= present:
        return False
    return _contains_phrase(words, phrase.words, fuzzy)


def reads_as_crisis(text: str, flow: SmsFlow) -> str | None:
    """The language whose crisis words the text contains, if any: exact words
    first, then words with a slip of the thumb."""
    words = normalize(text.replace("'", "")).split()
    present = frozenset(words)
    crisis = _compiled(flow).crisis
    for fuzzy in (False, True):
        found = [
            language
            for language, phrases in crisis
            if any(_holds(words, present, phrase, fuzzy) for phrase in phrases)
        ]
        if found:
            return found[0] if len(found) == 1 else _likely_language(words, found)
    return None


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


def read_text(text: str, flow: SmsFlow) -> Reading:
    crisis_language = reads_as_crisis(text, flow)
    if crisis_language is not None:
        return Reading(Intent.CRISIS, language=crisis_language)
    normalized = normalize(text)
    whole = normalized.upper()
    for intent, compliance in _compiled(flow).compliance:
        if whole in compliance:
            return Reading(intent)
    words = normalized.split()
    found = _keyword_at(words, flow, first_only=True) or _keyword_at(words, flow, first_only=False)
    return found or Reading(Intent.MENU)
