"""STOP, START and HELP as people send them, and opt-outs said in a sentence.

Since April 11, 2025 an opt-out made "in any reasonable manner" must be
honoured (47 CFR 64.1200(a)(10)): not only Twilio's eight words as the whole
message, but "please stop texting me", "take me off your list", "ALTO", "ya no
me escriban". Both kinds are content (`compliance` in flows/sms.yaml); this
module reads a text against them, the same way for the running line and for
`flows check` (which runs content's own examples through it).

How a text is compared: lower case, no accents, no punctuation, apostrophes
joined ("don't" is "dont"), a held letter twice at most, emoji left out; a
slip of the thumb in a longer word ("txting", "unsubscibe", "stpo") still
counts, but never a different ending ("escribirle" is not "escribirme",
"cancer" is not "cancel"). Sentences are matched clause by clause
("Stop. Text me the taper info" asks for nothing to stop), and a match is void
when words right before it negate it ("please don't stop texting me") or make
it about someone else ("my ex won't stop texting me").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ivr.content.model import OptOutSentences, SmsFlow, Token
from ivr.crisis.text import crisis_text

KINDS = ("opt_out", "opt_in", "help")  # the whole-message lists, in SmsFlow's names
WHOLE_WORDS = 12  # longer is a sentence, never a compliance word with courtesy around it
OTHERS_WINDOW = 3  # words before a match in which "my ex", "he", "ella" make it someone else's
# Where one clause ends and the next begins. Not "-": "opt-out" is two words of one.
_CLAUSE_END = re.compile(r"[.!?;,:\n\r¡¿…]+")
_HELD = re.compile(r"(.)\1+")


def words_of(text: str) -> list[str]:
    """TEXT as compared with content's words (see the module's docstring)."""
    return [w for w in crisis_text(text).split() if not w.startswith("emoji_")]


def phrase_of(text: str) -> tuple[str, ...]:
    return tuple(words_of(text))


def _squeezed(word: str) -> str:
    return _HELD.sub(r"\1", word)


def _swapped(said: str, wanted: str) -> bool:
    """Two neighbouring letters typed the wrong way round ("stpo")."""
    if len(said) != len(wanted):
        return False
    diffs = [i for i, (a, b) in enumerate(zip(said, wanted, strict=True)) if a != b]
    return (
        len(diffs) == 2
        and diffs[1] == diffs[0] + 1
        and said[diffs[0]] == wanted[diffs[1]]
        and said[diffs[1]] == wanted[diffs[0]]
    )


def _one_slip(said: str, wanted: str) -> bool:
    """One letter left out, added, swapped with its neighbour, or mistyped —
    but not mistyped in the last two letters, where Spanish and English change
    a word's meaning (escribirme/escribirle, cancel/cancer)."""
    if said == wanted or abs(len(said) - len(wanted)) > 1:
        return False
    if len(said) == len(wanted):
        diffs = [i for i, (a, b) in enumerate(zip(said, wanted, strict=True)) if a != b]
        if len(diffs) == 1:
            return diffs[0] < len(wanted) - 2
        return _swapped(said, wanted)
    shorter, longer = sorted((said, wanted), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


def same_word(said: str, wanted: str) -> bool:
    """Whether a word of a text is content's WANTED word, slips allowed: none
    under four letters; a swap of neighbours in four or five ("stpo", "hepl");
    from six letters, one slip. The first letter must be right."""
    if said == wanted:
        return True
    if len(wanted) < 4 or said[:1] != wanted[:1]:
        return False
    if _squeezed(said) == _squeezed(wanted):  # "stoop", "mesages"
        return True
    if len(wanted) < 6:
        return _swapped(said, wanted)
    return _one_slip(said, wanted)


def _same_phrase(said: Sequence[str], wanted: Sequence[str], *, slips: bool) -> bool:
    if len(said) != len(wanted):
        return False
    if not slips:
        return tuple(said) == tuple(wanted)
    return all(same_word(s, w) for s, w in zip(said, wanted, strict=True))


def _ends_with(words: Sequence[str], phrase: Sequence[str]) -> bool:
    return 0 < len(phrase) <= len(words) and tuple(words[-len(phrase) :]) == tuple(phrase)


def _unrepeated(words: list[str]) -> list[str]:
    """An opt-out said over and over is said once: "stop stop stop" is "stop"."""
    for size in range(1, len(words) // 2 + 1):
        if len(words) % size == 0 and words == words[:size] * (len(words) // size):
            return words[:size]
    return words


@dataclass(frozen=True)
class WholeMatch:
    kind: str  # "opt_out", "opt_in" or "help"
    language: str | None  # the language of the words; None for Twilio's (every language's)


@dataclass(frozen=True)
class SentenceMatch:
    language: str
    pattern: str  # as content writes it
    remainder: str  # the text without the words that asked to opt out (for the crisis reader)


class ComplianceReader:
    """One content's compliance words and opt-out sentences, ready to read texts."""

    def __init__(self, flow: SmsFlow) -> None:
        entries: list[tuple[str, str | None, tuple[str, ...]]] = []
        for kind in KINDS:
            entries += [(kind, None, phrase_of(w)) for w in getattr(flow, kind)]
            for language, lists in flow.by_language.items():
                entries += [(kind, language, phrase_of(w)) for w in lists.get(kind, ())]
        self._entries = tuple((k, lang, p) for k, lang, p in entries if p)
        courtesy = [
            (language, phrase_of(w))
            for language, lists in flow.by_language.items()
            for w in lists.get("courtesy", ())
        ]
        self._courtesy = tuple((lang, p) for lang, p in courtesy if p)
        # Each pattern with the words a match of it can begin with: at a word
        # of a text, only the patterns that can begin there are tried.
        self._patterns = tuple(
            (
                language,
                rules,
                pattern.source,
                _compiled(pattern.tokens),
                _first_words(pattern.tokens),
            )
            for language, rules in flow.sentences.items()
            for pattern in rules.patterns
        )
        vocabulary: dict[str, set[str]] = {}
        for rules in flow.sentences.values():
            for pattern in rules.patterns:
                for alternatives, _ in pattern.tokens:
                    for phrase in alternatives:
                        for word in phrase:
                            vocabulary.setdefault(word[:1], set()).add(word)
        self._vocabulary = {letter: tuple(sorted(w)) for letter, w in vocabulary.items()}
        self._known: dict[str, frozenset[str]] = {}

    # -- the whole message ---------------------------------------------------

    def whole(self, text: str) -> WholeMatch | None:
        """TEXT is one of the compliance words, all of it. An opt-out word may
        also stand with courtesy around it, or be repeated ("stop please",
        "por favor ALTO", "STOP STOP"); START and HELP are taken only alone. A
        question is a question ("para?", "baja?"): only Twilio's words, and
        help in any language, count in one, alone."""
        words = words_of(text)
        if not words or len(words) > WHOLE_WORDS:
            return None
        # Asked as a question ("para?", "no more?", "quit now?"), only Twilio's
        # own words keep their meaning (as they always have, punctuation aside),
        # and a language's word for help ("¿ayuda?").
        question = "?" in text or "¿" in text
        found = self._whole(words, KINDS, twilio_only=question)
        if found is not None or question:
            return found
        bare, said_in = self._without_courtesy(words)
        bare = _unrepeated(bare)
        if bare == words:
            return None
        found = self._whole(bare, ("opt_out",))
        if found is None:
            return None
        return WholeMatch(found.kind, found.language or said_in)

    def _whole(
        self, words: list[str], kinds: Sequence[str], *, twilio_only: bool = False
    ) -> WholeMatch | None:
        for slips in (False, True):  # an exact word of one list before a slip towards another
            for kind, language, phrase in self._entries:
                if twilio_only and language is not None and kind != "help":
                    continue  # "¿ayuda?" still asks for help
                if kind in kinds and _same_phrase(words, phrase, slips=slips):
                    return WholeMatch(kind, language)
        return None

    def _without_courtesy(self, words: list[str]) -> tuple[list[str], str | None]:
        said_in: str | None = None
        changed = True
        while changed:
            changed = False
            for language, phrase in self._courtesy:
                size = len(phrase)
                if len(words) > size and tuple(words[:size]) == phrase:
                    words, said_in, changed = words[size:], language, True
                elif len(words) > size and tuple(words[-size:]) == phrase:
                    words, said_in, changed = words[:-size], language, True
        return words, said_in

    # -- a sentence ----------------------------------------------------------

    def sentence(self, text: str) -> SentenceMatch | None:
        """The first opt-out sentence in TEXT, in whichever language, and the
        text without every such sentence (what else it says, for the crisis
        reader); None when it asks for no such thing."""
        if not self._patterns:
            return None
        first: tuple[str, str] | None = None
        kept: list[str] = []
        for clause in _CLAUSE_END.split(text):
            tokens = crisis_text(clause).split()
            index = [i for i, w in enumerate(tokens) if not w.startswith("emoji_")]
            words = [tokens[i] for i in index]
            known = [self._known_as(w) for w in words]
            removed: set[int] = set()
            at = 0
            while at < len(words):
                found = self._match_at(words, known, at)
                if found is None:
                    at += 1
                    continue
                language, pattern, end = found
                first = first or (language, pattern)
                removed.update(index[at:end])
                at = end
            kept += [t for i, t in enumerate(tokens) if i not in removed]
        if first is None:
            return None
        return SentenceMatch(first[0], first[1], " ".join(kept))

    def _known_as(self, word: str) -> frozenset[str]:
        """The words of content's sentences that WORD is (itself, or with a slip)."""
        found = self._known.get(word)
        if found is None:
            found = frozenset(w for w in self._vocabulary.get(word[:1], ()) if same_word(word, w))
            if len(self._known) > 50_000:  # texts bring new words without end
                self._known.clear()
            self._known[word] = found
        return found

    def _match_at(
        self, words: Sequence[str], known: Sequence[frozenset[str]], at: int
    ) -> tuple[str, str, int] | None:
        if not known[at]:
            return None
        for language, rules, source, tokens, firsts in self._patterns:
            if known[at].isdisjoint(firsts):
                continue
            end = max(_ends(tokens, known, at), default=at)
            if end > at and not _void(rules, words, at):
                return language, source, end
        return None


# A token with the first words of its alternatives: a word that is none of
# them rules the token out at once.
_Step = tuple[tuple[tuple[str, ...], ...], bool, frozenset[str]]


def _first_words(tokens: Sequence[Token]) -> frozenset[str]:
    """The words a match of TOKENS can begin with."""
    firsts: set[str] = set()
    for alternatives, optional in tokens:
        firsts.update(phrase[0] for phrase in alternatives)
        if not optional:
            break
    return frozenset(firsts)


def _compiled(tokens: Sequence[Token]) -> tuple[_Step, ...]:
    return tuple(
        (alternatives, optional, frozenset(phrase[0] for phrase in alternatives))
        for alternatives, optional in tokens
    )


def _phrase_at(known: Sequence[frozenset[str]], at: int, phrase: Sequence[str]) -> int | None:
    end = at + len(phrase)
    if end > len(known):
        return None
    if all(wanted in said for said, wanted in zip(known[at:end], phrase, strict=True)):
        return end
    return None


def _ends(steps: Sequence[_Step], known: Sequence[frozenset[str]], at: int) -> Iterator[int]:
    """Every place a match of STEPS that starts at AT can end."""
    if not steps:
        yield at
        return
    (alternatives, optional, firsts), rest = steps[0], steps[1:]
    if at < len(known) and not known[at].isdisjoint(firsts):
        for phrase in alternatives:
            end = _phrase_at(known, at, phrase)
            if end is not None:
                yield from _ends(rest, known, end)
    if optional:
        yield from _ends(rest, known, at)


def _void(rules: OptOutSentences, words: Sequence[str], at: int) -> bool:
    before = words[:at]
    if any(_ends_with(before, p) for p in rules.negated_by) and not any(
        _ends_with(before, p) for p in rules.except_after
    ):
        return True
    start = max(0, at - OTHERS_WINDOW)
    return any(
        tuple(words[i : i + len(p)]) == p
        for p in rules.about_others
        for i in range(start, at - len(p) + 1)
    )
