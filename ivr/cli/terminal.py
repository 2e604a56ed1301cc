"""What the desk's commands print: people's words (a texter's message or a
counselor's note may hold control characters, an escape sequence that would
move the cursor or retitle the window: they are shown, not obeyed), and
moments."""

from __future__ import annotations

from datetime import UTC, datetime

_VISIBLE = {code: f"\\x{code:02x}" for code in (*range(32), *range(127, 160))}
_VISIBLE[ord("\n")] = "\n    "  # the words' own lines, indented under their label


def visible(words: str) -> str:
    return words.translate(_VISIBLE)


def when(moment: float | None) -> str:
    """A moment in UTC to the minute, or "-" for none."""
    if moment is None:
        return "-"
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M")
