"""What the learned stage sees of a text: the same at training and at run time.

Character n-grams of each word (2 to 5 letters, the word marked at both
ends) catch what people do to words: misspellings ("suacide"), inflections
("matarme", "matarse"), run-together slang ("kms", "unalive"). Whole words
and word pairs catch what letters cannot ("end it", "no despierta"), and the
question mark what a question is ("overdose symptoms?").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import pairwise

CHAR_SIZES = range(2, 6)


QUESTION = "?"  # the text asks something: "overdose symptoms?" is not an overdose


def asks(text: str) -> bool:
    """Whether the raw text has a question mark (crisis_text drops them)."""
    return "?" in text or "¿" in text


def features(words: str, question: bool = False, markers: Sequence[str] = ()) -> Counter[str]:
    """Feature counts of WORDS (already `crisis_text`), whether the text asks,
    and the rules' MARKERS."""
    counts: Counter[str] = Counter()
    if question:
        counts[QUESTION] = 1
    for marker in markers:
        counts[f"m {marker}"] = 1
    tokens = words.split()
    for word in tokens:
        marked = f" {word} "
        for size in CHAR_SIZES:
            if len(marked) < size:
                break
            for start in range(len(marked) - size + 1):
                counts["c" + marked[start : start + size]] += 1
    for word in tokens:
        counts[f"w {word}"] += 1
    for first, second in pairwise(tokens):
        counts[f"w {first} {second}"] += 1
    return counts
