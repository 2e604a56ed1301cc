"""What did the caller choose? A key, or words matched the way people speak:
without regard to case, accents or punctuation, anywhere in the sentence."""

from __future__ import annotations

from collections.abc import Sequence

from ivr.content.model import Choice
from ivr.content.normalize import normalize

# Speech recognisers often hear a spoken key as a word ("two", "dos").
DIGIT_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "zero": "0",
        "oh": "0",
        "one": "1",
        "two": "2",
        "three": "3",
        "four": "4",
        "five": "5",
        "six": "6",
        "seven": "7",
        "eight": "8",
        "nine": "9",
        "star": "*",
        "pound": "#",
    },
    "es": {
        "cero": "0",
        "uno": "1",
        "una": "1",
        "dos": "2",
        "tres": "3",
        "cuatro": "4",
        "cinco": "5",
        "seis": "6",
        "siete": "7",
        "ocho": "8",
        "nueve": "9",
        "asterisco": "*",
        "estrella": "*",
        "numeral": "#",
        "almohadilla": "#",
    },
}


def spoken_key(speech: str, language: str) -> str | None:
    """A reply that is only a key ("2", "two", "dos.") means that key."""
    said = normalize(speech)
    if len(said) == 1 and said in "0123456789*#":
        return said
    return DIGIT_WORDS.get(language, {}).get(said)


def choose_by_key(key: str, choices: Sequence[Choice]) -> Choice | None:
    return next((c for c in choices if key in c.keys), None)


def choose_by_words(speech: str, language: str, choices: Sequence[Choice]) -> Choice | None:
    """The choice whose phrase appears in the speech; the longest phrase wins, so
    "main menu" beats "menu" and "talk to a counselor" beats "talk"."""
    best = _best_phrase(speech, language, choices)
    return best[1] if best else None


def words_beyond_choice(speech: str, language: str, choices: Sequence[Choice]) -> int:
    """How many words the speech says besides the longest choice phrase in it
    (all of them when it holds none): "someone" is a menu answer, "someone took
    all her pills" is more than one."""
    said = normalize(speech).split()
    best = _best_phrase(speech, language, choices)
    return len(said) - (len(best[2].split()) if best else 0)


def _best_phrase(
    speech: str, language: str, choices: Sequence[Choice]
) -> tuple[int, Choice, str] | None:
    said = f" {normalize(speech)} "
    best: tuple[int, Choice, str] | None = None
    for choice in choices:
        for phrase in choice.words.get(language, ()):
            wanted = normalize(phrase)
            if wanted and f" {wanted} " in said and (best is None or len(wanted) > best[0]):
                best = (len(wanted), choice, wanted)
    return best
