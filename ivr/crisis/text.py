"""Text as the crisis reader sees it: one form for every way of typing it.

Case, accents and punctuation go; apostrophes join their word ("can't" ->
"cant"); a letter held down ("pleeeease") counts twice at most; the emoji
people use for a crisis become words, so that "💊💊 all of them" can be read
by the same rules and model as "pills, all of them".

The rules also need to know where the writer broke off: "no. he's gonna kill
me" is not "no he's gonna kill me". `crisis_text(text, breaks=True)` keeps
those places as BREAK between two words, for the rules alone (`words_of` gives
the words as the learned stage reads them).
"""

from __future__ import annotations

import re
import unicodedata

# Emoji that carry a crisis meaning, as a word of no language: rules name them
# ("emoji_pills"), and the model learns them like any word.
EMOJI_WORDS: dict[str, str] = {
    "💊": "emoji_pills",
    "🔪": "emoji_knife",
    "🗡": "emoji_knife",
    "🩸": "emoji_blood",
    "⚰": "emoji_coffin",
    "🪦": "emoji_grave",
    "💀": "emoji_skull",
    "☠": "emoji_skull",
    "🔫": "emoji_gun",
    "🪢": "emoji_rope",
    "😭": "emoji_sob",
    "😢": "emoji_sob",
    "😔": "emoji_sad",
    "💔": "emoji_broken",
    "🙏": "emoji_please",
    "🆘": "emoji_sos",
    "🚑": "emoji_ambulance",
    "😂": "emoji_laugh",
    "🤣": "emoji_laugh",
}
_APOSTROPHES = re.compile(r"['’ʼ`´]")
_NOT_WORD = re.compile(r"[^a-z0-9_]+")
_HELD = re.compile(r"([a-z])\1{2,}")
BREAK = "."  # between two words where the writer ended a sentence, a clause or a line
# What ends a sentence or a clause, or says "here someone else speaks": a run
# of what is not a word breaks the text when it holds one of these, or a dash
# standing apart from a word ("no - i want to die", not "self-harm").
_BREAKING = re.compile(r"[.,;:!?¡¿…\n\r—–\"“”«»()\[\]]|\s-|-\s")


def fold(text: str) -> str:
    """Case, accents and apostrophes dropped, nothing else: how a rule's words
    are written down to meet a text ("ojalá", "haven't" -> "ojala", "havent")."""
    decomposed = unicodedata.normalize("NFKD", _APOSTROPHES.sub("", text.casefold()))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def crisis_text(text: str, *, breaks: bool = False) -> str:
    """Lower case, no accents ("ñ" is "n": people type both), no punctuation,
    emoji as words. BREAKS: words joined by BREAK where punctuation or a new
    line broke the text, by a space elsewhere."""
    for emoji, word in EMOJI_WORDS.items():
        if emoji in text:
            text = text.replace(emoji, f" {word} ")
    plain = fold(text)
    plain = _HELD.sub(r"\1\1", plain)
    if not breaks:
        return " ".join(_NOT_WORD.sub(" ", plain).split())
    # A run of what is not a word is one separator: there are never two in a row.
    marked = _NOT_WORD.sub(lambda run: BREAK if _BREAKING.search(run[0]) else " ", plain)
    return marked.strip(f" {BREAK}")


def words_of(marked: str) -> str:
    """The words of a text that `crisis_text(…, breaks=True)` marked, as the
    learned stage reads them: what `crisis_text(…)` gives."""
    return marked.replace(BREAK, " ")
