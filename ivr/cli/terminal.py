"""People's words printed in a terminal: a texter's message or a counselor's
note may hold control characters (an escape sequence that would move the
cursor or retitle the window); they are shown, not obeyed."""

from __future__ import annotations

_VISIBLE = {code: f"\\x{code:02x}" for code in (*range(32), *range(127, 160))}
_VISIBLE[ord("\n")] = "\n    "  # the words' own lines, indented under their label


def visible(words: str) -> str:
    return words.translate(_VISIBLE)
