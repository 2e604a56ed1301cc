"""What does a text ask for? A crisis first (ivr.crisis: rules, then a learned
score); then a compliance word as the whole text (STOP, ALTO, HELP, AYUDA…)
or an opt-out said in a sentence ("please stop texting me", "ya no me
escriban": ivr.content.compliance); then keywords; then the menu — matched the
way people type: any case, accents or none, punctuation, surrounding words."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from ivr.content.compliance import ComplianceReader
from ivr.content.model import Content, Keyword, SmsFlow
from ivr.content.normalize import normalize
from ivr.crisis.features import asks
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
    # A crisis that also asked for no more messages ("stop texting me, I'm going
    # to kill myself"): the crisis reply, and the opt-out recorded.
    opts_out: bool = False
    sentence: bool = False  # an opt-out said in a sentence, not a compliance word

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
    """One content's compliance words and opt-out sentences, read once."""

    compliance: ComplianceReader


_compiled_flows: dict[int, tuple[SmsFlow, _Compiled]] = {}


def _compiled(flow: SmsFlow) -> _Compiled:
    # Keyed by identity (the flow holds dicts: not hashable); the flow is kept
    # beside its index so its id cannot be reused by another while cached.
    held = _compiled_flows.get(id(flow))
    if held is not None and held[0] is flow:
        return held[1]
    compiled = _Compiled(compliance=ComplianceReader(flow))
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
                            # A word of every language ("Klonopin") tells no language:
                            # the text's other words may (read_text), else the conversation's.
                            only = language if len(said_in) == 1 else None
                            best = (*rank, Reading(Intent.KEYWORD, keyword, only))
                        break
    return best[2] if best else None


_INTENTS = {"opt_out": Intent.OPT_OUT, "opt_in": Intent.OPT_IN, "help": Intent.HELP}


def read_text(text: str, content: Content, language_hint: str | None = None) -> Reading:
    """What TEXT asks for. A crisis always first: a text that reads as one gets
    the crisis reply whatever else it says, an opt-out included (then
    `opts_out` is set, so that the opt-out is recorded too).

    - A compliance word as the whole text (STOP, ALTO, START, HELP, AYUDA…) is
      read by the crisis rules alone — one word never makes a score — and is
      otherwise what it says.
    - An opt-out said in a sentence: the crisis rules read the whole text, and
      the learned score what the text says besides the opt-out (the score
      took "please don't text me anymore" for despair; it is not, and "stop
      texting me, I can't take this anymore" still is a crisis).
    - Then a crisis in any words, with the keyword it also names kept, so that
      the crisis reply can be followed by the answer asked for; then
      keywords; then the menu."""
    flow = content.sms
    compliance = _compiled(flow).compliance
    whole = compliance.whole(text)
    if whole is not None:
        crisis = content.crisis.read(text, language_hint, learned=False)
        if crisis.crisis:
            opts_out = whole.kind == "opt_out"
            return Reading(Intent.CRISIS, None, crisis.language, crisis, opts_out=opts_out)
        return Reading(_INTENTS[whole.kind], language=whole.language)
    sentence = compliance.sentence(text)
    if sentence is not None:
        crisis = content.crisis.read(text, language_hint, learned=False)
        if not crisis.crisis and sentence.remainder:
            besides = sentence.remainder + (" ?" if asks(text) else "")
            crisis = content.crisis.read(besides, language_hint or sentence.language)
        if crisis.crisis:
            language = crisis.language or sentence.language
            return Reading(Intent.CRISIS, None, language, crisis, opts_out=True)
        # "No texts, just call me": no more texts, and the call asked for.
        asked = _keyword_at(normalize(text).split(), flow, first_only=False)
        call = asked.keyword if asked is not None and asked.keyword is not None else None
        call = call if call is not None and call.action == "callback" else None
        return Reading(
            Intent.OPT_OUT, call, language=sentence.language, crisis=crisis, sentence=True
        )
    normalized = normalize(text)
    words = normalized.split()
    found = _keyword_at(words, flow, first_only=True) or _keyword_at(words, flow, first_only=False)
    # A text that is nothing but a keyword ("KLONOPIN", "ESPAÑOL") asks for it:
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
        # "¿Qué es el clonazepam?": the keyword is a word of both languages; the
        # words around it are Spanish, and so is the answer (the crisis reader
        # has read which language they are in: ivr.crisis.language).
        written_in = found.language or crisis.language
        return Reading(Intent.KEYWORD, found.keyword, written_in, crisis)
    return Reading(Intent.MENU, crisis=crisis)
