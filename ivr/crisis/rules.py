"""The first stage: crisis rules written as content (flows/crisis/rules.yaml).

A rule is a phrase of tokens matched in order against the words of a text
(as `ivr.crisis.text.crisis_text` gives them), each token one word:

- `word`              that word;
- `kill*`             any word that begins so (kill, kills, killed, killing);
- `matar(me|se|te)`   a word with alternatives inside it (matarme, matarse, matarte);
- `voy|vas|va`        any of these words;
- `pills?`            `?` makes the letter or group before it optional (pill, pills);
- `<self>`            any phrase of the language's slot `self` (myself, himself…);
- `~`                 up to three words of anything (`~5`: up to five).

A rule's match is not decisive when a **guard** of content stands with it:
a negation of the rule's language just before it, in the same sentence ("i'm
not gonna hurt myself", "no me quiero matar"; not "no. he's gonna kill me",
nor "no i want to die" by Spanish "no") or words that put the crisis at a
distance anywhere in the text ("years ago", "hace tres años", "how do i know
if someone"). A guarded match is handed to the learned stage, told that a
guarded rule read the text; it is a crisis if the score says so, and near (the
988 line) at the least.

Slots are how a rule covers every pronoun and verb form at once: "<want>
kill <self>" reads "im gonna kill myself", "he's going to kill himself",
"she will kill herself". Idioms are cut out of a text before either stage
reads it ("me muero de risa", "killing it at work"), so that a rule need not
list its exceptions, and the learned stage never counts them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from ivr.crisis.text import BREAK, crisis_text, fold, words_of

_WORD_TOKEN = re.compile(r"^[a-z0-9_()|*?]+$")
_SLOT_TOKEN = re.compile(r"^<([a-z_]+)>$")
_GAP_TOKEN = re.compile(r"^~([0-9]{0,2})$")
_WORD = "[a-z0-9_]"
# Before each word of a phrase: a space, or a BREAK where the writer put
# punctuation (crisis_text(…, breaks=True)). A rule reads across a break ("i took
# them all. 30 pills"); a `before` guard (Guards.guard) and an idiom
# (CrisisRules.without_idioms) stop at one.
_SEPARATOR = f"[ {re.escape(BREAK)}]"
_NEXT = f"(?={_SEPARATOR})"
MAX_GAP = 12
IDIOM = "idiom_"  # what an idiom becomes: "me mata el calor" -> "idiom_"


class RuleError(ValueError):
    """A rule or slot that cannot be used, and why (for `flows check`)."""


@dataclass(frozen=True)
class Rule:
    category: str
    language: str
    pattern: str  # as written in content: the "why" of a decision, never the text's words
    regex: re.Pattern[str]


def _word_regex(written: str) -> str:
    token = fold(written)
    if not _WORD_TOKEN.match(token):
        raise RuleError(f"'{token}': a word may hold only a-z, 0-9, _, ( ) | * ?")
    if token.count("(") != token.count(")"):
        raise RuleError(f"'{token}': unbalanced parentheses")
    body = token.replace("(", "(?:").replace("*", f"{_WORD}*")
    try:
        re.compile(body)
    except re.error as error:
        raise RuleError(f"'{token}': {error}") from error
    if re.fullmatch(body, ""):
        raise RuleError(f"'{token}' matches an empty word")
    return f"(?:{body})"


def _split(text: str, separator: str) -> list[str]:
    """TEXT split at SEPARATOR (None: whitespace) outside parentheses."""
    parts: list[str] = []
    depth, current = 0, ""
    for char in text:
        depth += (char == "(") - (char == ")")
        if depth < 0:
            raise RuleError(f"'{text}': a ')' without its '('")
        if depth == 0 and (char.isspace() if separator == " " else char == separator):
            parts.append(current)
            current = ""
        else:
            current += char
    if depth != 0:
        raise RuleError(f"'{text}': unbalanced parentheses")
    parts.append(current)
    return [part for part in parts if part] if separator == " " else parts


def _group(token: str) -> tuple[str, bool] | None:
    """(inner, optional) when TOKEN is one parenthesised group of words: "(a|b c)"
    or "(a|b c)?"; None for a word, even one that begins with a group."""
    optional = token.endswith(")?")
    body = token[:-1] if optional else token
    if not (body.startswith("(") and body.endswith(")")):
        return None
    depth = 0
    for index, char in enumerate(body):
        depth += (char == "(") - (char == ")")
        if depth == 0 and index < len(body) - 1:
            return None  # "(5|6)(0|1)": a word made of groups
    return body[1:-1], optional


def phrase_regex(pattern: str, slots: Mapping[str, str]) -> str:
    """The regex of a phrase: each word preceded by one separator (the text is
    read as " word word "), so that every token matches whole words only."""
    tokens = _split(pattern, " ")
    if not tokens:
        raise RuleError("an empty phrase")
    if _GAP_TOKEN.match(tokens[0]) or _GAP_TOKEN.match(tokens[-1]):
        raise RuleError(f"'{pattern}': a gap (~) must stand between words")
    parts: list[str] = []
    for token in tokens:
        slot = _SLOT_TOKEN.match(token)
        gap = _GAP_TOKEN.match(token)
        group = _group(token)
        if slot is not None:
            if slot.group(1) not in slots:
                raise RuleError(f"'{pattern}': no slot named <{slot.group(1)}>")
            parts.append(slots[slot.group(1)])
        elif gap is not None:
            most = int(gap.group(1) or 3)
            if not 1 <= most <= MAX_GAP:
                raise RuleError(f"'{pattern}': a gap is 1 to {MAX_GAP} words")
            parts.append(f"(?:{_SEPARATOR}{_WORD}+){{0,{most}}}")
        elif group is not None:
            inner, optional = group
            choices = _split(inner, "|")
            if any(not choice.strip() for choice in choices):
                raise RuleError(f"'{token}': an empty alternative")
            alternatives = "|".join(phrase_regex(choice, slots) for choice in choices)
            parts.append(f"(?:{alternatives})" + ("?" if optional else ""))
        else:
            parts.append(f"{_SEPARATOR}{_word_regex(token)}")
    return "".join(parts)


def slot_regex(phrases: list[str], slots: Mapping[str, str]) -> str:
    """A slot's phrases as one alternative (a slot may use slots named before it)."""
    if not phrases:
        raise RuleError("a slot with no phrases")
    return "(?:" + "|".join(f"(?:{phrase_regex(p, slots)})" for p in phrases) + ")"


def compile_rule(category: str, language: str, pattern: str, slots: Mapping[str, str]) -> Rule:
    regex = re.compile(phrase_regex(pattern, slots) + _NEXT)
    if regex.search(" "):
        raise RuleError(f"'{pattern}' matches any text")
    return Rule(category, language, pattern, regex)


@dataclass(frozen=True)
class RuleMatch:
    category: str
    language: str
    pattern: str


def slips(said: str, wanted: str) -> bool:
    """WANTED typed with a slip of the thumb: one letter wrong, missing, extra or
    swapped in a word of 5 letters or more, two from 10 ("sucidal", "sobredosiss");
    a shorter word must be exact ("die" is not "did")."""
    if said == wanted:
        return True
    if wanted.startswith("emoji_"):
        return False  # an emoji is never a slip of another ("emoji_sob", "emoji_sos")
    limit = 2 if len(wanted) >= 10 else 1 if len(wanted) >= 5 else 0
    if limit == 0 or abs(len(said) - len(wanted)) > limit:
        return False
    # Each edit takes away at most one letter that one word has and the other
    # lacks: a cheap refusal before the table (most word pairs differ in many).
    if len(set(said).difference(wanted)) > limit or len(set(wanted).difference(said)) > limit:
        return False
    previous2: list[int] | None = None
    previous = list(range(len(wanted) + 1))
    for i, ca in enumerate(said, 1):
        current = [i] + [0] * len(wanted)
        for j, cb in enumerate(wanted, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if (
                previous2 is not None
                and i > 1
                and j > 1
                and ca == wanted[j - 2]
                and said[i - 2] == cb
            ):
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return False
        previous2, previous = previous, current
    return previous[-1] <= limit


@dataclass(frozen=True)
class ShortWord:
    """A crisis said in one to three words ("suicidal", "me estoy cortando"), with slips."""

    category: str
    language: str
    words: tuple[str, ...]


SHORT_TEXT_WORDS = 3  # at most this many words: a short text (see CrisisRules.short)
PHRASE_SLIP_LETTERS = 6  # in a short word of several words, the shortest that may slip


@dataclass(frozen=True)
class Guards:
    """Content's guards. A `before` guard is a negation of one language's
    grammar: it guards that language's rules only (Spanish "no" said nothing of
    "no i want to die"). Words at a distance guard every rule, all languages'
    together: a text may tell its crisis in one language and its past in another."""

    # per language, searched in what precedes a match in its sentence
    before: Mapping[str, re.Pattern[str]] = field(default_factory=dict)
    anywhere: re.Pattern[str] | None = None  # searched in the whole text

    def at_a_distance(self, text: str) -> bool:
        """Whether TEXT (" w w ") holds an `anywhere` guard: once per text."""
        return self.anywhere is not None and self.anywhere.search(text) is not None

    def guard(self, text: str, start: int, distance: bool, language: str) -> str | None:
        """Which guard stands with a match of a LANGUAGE rule that starts at
        START of TEXT (" w w ", the separator before its first word): BEFORE,
        DISTANCE (DISTANCE: `at_a_distance(text)`), or None. A negation guards
        only in the match's own sentence: "no. he's gonna kill me" is a "no"
        to something else, and so is "no, me voy a matar"."""
        before = self.before.get(language)
        if before is not None and text[start] != BREAK:
            sentence = text[text.rfind(BREAK, 0, start) + 1 : start]
            if before.search(f" {sentence} "):
                return BEFORE
        return DISTANCE if distance else None


BEFORE = "before"  # a negation just before the match
DISTANCE = "distance"  # the text puts the crisis in the past, in a story, or asks in general


def guards_of(
    phrases: Mapping[str, tuple[list[str], list[str]]], slots: Mapping[str, Mapping[str, str]]
) -> Guards:
    """PHRASES: language -> (before, anywhere), each language's with its slots.
    A before phrase must end right where a match begins: "no puedo más me voy
    a matar" is not guarded by its "no"."""
    before = {
        lang: re.compile(slot_regex(b, slots[lang]) + " $") for lang, (b, _) in phrases.items() if b
    }
    anywhere = [slot_regex(a, slots[lang]) for lang, (_, a) in phrases.items() if a]
    return Guards(
        before,
        re.compile("(?:" + "|".join(anywhere) + ")" + _NEXT) if anywhere else None,
    )


@dataclass(frozen=True)
class RuleReading:
    """What the rules make of a text's words."""

    match: RuleMatch | None  # a rule read it and no guard stands: a crisis at once
    guarded: RuleMatch | None  # a rule read it, but a guard stands: the score decides
    guard: str | None  # the guard that stood: BEFORE or DISTANCE

    @property
    def markers(self) -> tuple[str, ...]:
        """What the learned stage is told of the rules' reading (features)."""
        if self.guarded is None or self.guard is None:
            return ()
        return (f"rule_{self.guard}", f"rule_{self.guarded.category}")


NO_RULE = RuleReading(None, None, None)


@dataclass(frozen=True)
class CrisisRules:
    rules: tuple[Rule, ...]  # in content's order: the first that matches names the category
    idioms: Mapping[str, re.Pattern[str]]  # per language: spans cut before the rules read
    # Read in a short text only, where the learned stage is not asked: a word
    # or three give a score nothing to stand on ("no", "again" scored as crises).
    short: tuple[ShortWord, ...] = ()
    guards: Guards = Guards()

    def short_match(self, words: str) -> RuleReading:
        """What content's short words make of a short text's WORDS (at most
        SHORT_TEXT_WORDS: one of that many words is then the whole text): the
        first unguarded, else the first guarded by a negation of its language
        just before it ("no me corté" is near, not a crisis). In an entry of
        several words only a word of PHRASE_SLIP_LETTERS or more may slip: "me
        corte" read "me costó", "me porté" with one letter's slip."""
        return _first_unguarded(self._short_matches(words))

    def with_short_words(self, words: str, reading: RuleReading) -> RuleReading:
        """READING (the rules' of WORDS) with content's short words too, for a
        short text: a rule's match first, then a short word's, then whichever
        guarded match there is (the rule's first)."""
        if reading.match is not None or len(words.split()) > SHORT_TEXT_WORDS:
            return reading
        said = self.short_match(words)
        return reading if said.match is None and reading.guarded is not None else said

    def _short_matches(self, words: str) -> Iterator[tuple[RuleMatch, str | None]]:
        said = words.split()
        text = f" {words} "
        starts = [0]  # where each word's separator stands in TEXT
        for word in said:
            starts.append(starts[-1] + len(word) + 1)
        for entry in self.short:
            size = len(entry.words)
            for start in range(len(said) - size + 1):
                window = said[start : start + size]
                if all(
                    slips(s, w) if size == 1 or len(w) >= PHRASE_SLIP_LETTERS else s == w
                    for s, w in zip(window, entry.words, strict=True)
                ):
                    match = RuleMatch(entry.category, entry.language, " ".join(entry.words))
                    yield match, self.guards.guard(text, starts[start], False, entry.language)

    def without_idioms(self, words: str) -> str:
        """WORDS with each of content's idioms ("me muero de risa") replaced by
        one word, IDIOM: what both stages read. No rule names it; the learned
        stage learns what it means (a text joking, not a crisis). The breaks of marked WORDS
        (crisis_text(…, breaks=True)) stay where they were."""
        return BREAK.join(self._cut_idioms(sentence) for sentence in words.split(BREAK))

    def _cut_idioms(self, sentence: str) -> str:
        """An idiom never runs across a break: "dice que me va a matar. el
        trabajo lo tiene loco" is a threat, and then a reason."""
        text = f" {sentence} "
        for idiom in self.idioms.values():
            text = idiom.sub(f" {IDIOM} ", text)
        return " ".join(text.split())

    def read_text(self, text: str) -> tuple[str, RuleReading]:
        """TEXT as written: the words both stages read (idioms cut), and what
        the rules make of it, knowing where its sentences break."""
        marked = self.without_idioms(crisis_text(text, breaks=True))
        return words_of(marked), self.read(marked)

    def matches(self, words: str) -> Iterator[tuple[RuleMatch, str | None]]:
        """Every match of a rule in WORDS (crisis_text, idioms cut; breaks marked
        or not), in content's order, each with the guard that stands with it
        (None: none)."""
        text = f" {words} "
        distance: bool | None = None  # searched for at the first match only
        for rule in self.rules:
            for found in rule.regex.finditer(text):
                if distance is None:
                    distance = self.guards.at_a_distance(text)
                match = RuleMatch(rule.category, rule.language, rule.pattern)
                yield match, self.guards.guard(text, found.start(), distance, rule.language)

    def read(self, words: str) -> RuleReading:
        """The first unguarded match, else the first guarded one."""
        return _first_unguarded(self.matches(words))


def _first_unguarded(matches: Iterator[tuple[RuleMatch, str | None]]) -> RuleReading:
    """Of MATCHES (each with the guard that stands with it), the first no guard
    stands with, else the first guarded one; NO_RULE when there are none."""
    guarded: tuple[RuleMatch, str] | None = None
    for match, guard in matches:
        if guard is None:
            return RuleReading(match, None, None)
        guarded = guarded or (match, guard)
    return NO_RULE if guarded is None else RuleReading(None, *guarded)


def idiom_regex(phrases: list[str], slots: Mapping[str, str]) -> re.Pattern[str]:
    return re.compile(slot_regex(phrases, slots) + _NEXT)
