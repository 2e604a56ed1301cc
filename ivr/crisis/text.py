"""Text as the crisis reader sees it: one form for every way of typing it.

Case, accents and punctuation go; apostrophes join their word ("can't" ->
"cant"); a letter held down ("pleeeease") counts twice at most; the emoji
people use for a crisis become words, so that "💊💊 all of them" can be read
by the same rules and model as "pills, all of them".
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


def fold(text: str) -> str:
    """Case, accents and apostrophes dropped, nothing else: how a rule's words
    are written down to meet a text ("ojalá", "haven't" -> "ojala", "havent")."""
    decomposed = unicodedata.normalize("NFKD", _APOSTROPHES.sub("", text.casefold()))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def crisis_text(text: str) -> str:
    """Lower case, no accents ("ñ" is "n": people type both), no punctuation,
    emoji as words."""
    for emoji, word in EMOJI_WORDS.items():
        if emoji in text:
            text = text.replace(emoji, f" {word} ")
    plain = fold(text)
    plain = _HELD.sub(r"\1\1", plain)
    return " ".join(_NOT_WORD.sub(" ", plain).split())
