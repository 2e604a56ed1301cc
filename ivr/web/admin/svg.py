"""A few lines of SVG building shared by the charts and the menu diagram.

Every attribute value and every text goes through `markupsafe.escape` here, in
one place, so a counselor's name or a menu label can never become markup.
"""

from __future__ import annotations

from markupsafe import Markup, escape

Attribute = str | int | float | None
Child = str | Markup

# Average advance of a character of the system sans-serif, as a share of the
# font size: close enough to size boxes and columns without measuring text.
CHARACTER_WIDTH = 0.6


def number(value: float) -> str:
    """A coordinate, short: 12, 12.5 (never 12.500000001)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def element(tag: str, attributes: dict[str, Attribute] | None = None, *children: Child) -> Markup:
    """`<tag a="v">children</tag>`; None attributes are left out, plain-str
    children are escaped, Markup children are kept as they are."""
    parts = [tag]
    for name, value in (attributes or {}).items():
        if value is None:
            continue
        shown = number(value) if isinstance(value, float) else str(value)
        parts.append(f'{name.replace("_", "-")}="{escape(shown)}"')
    opening = " ".join(parts)
    if not children:
        return Markup(f"<{opening}/>")  # noqa: S704 - names are ours; values escaped above
    inner = Markup("").join(escape(child) for child in children)
    return Markup(f"<{opening}>{inner}</{tag}>")  # noqa: S704 - inner is escaped


def text_width(text: str, size: float) -> float:
    return len(text) * size * CHARACTER_WIDTH


def shorten(text: str, size: float, room: float) -> str:
    """The text, cut with an ellipsis to fit `room` pixels at `size`."""
    fits = int(room // (size * CHARACTER_WIDTH))
    if len(text) <= fits:
        return text
    return text[: max(fits - 1, 1)] + "…"


def document(width: float, height: float, label: str, description: str, *body: Markup) -> Markup:
    """A standalone, accessible `<svg>`: an image named by `label` to screen readers."""
    return element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {number(width)} {number(height)}",
            "width": number(width),
            "height": number(height),
            "role": "img",
            "aria-label": label,
            "font-family": "system-ui, sans-serif",
            "font-size": 12,
        },
        element("title", None, label),
        element("desc", None, description),
        *body,
    )
