"""Boxes and arrows: what the phone menu and the texts diagrams are drawn with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from ivr.web.admin.svg import element, shorten, text_width

FONT = 12
SMALL = 11
PAD = 10
LINE = 15
ROW_GAP = 14
MARGIN = 12
INK = "#1f2933"
MUTED = "#5f6b7a"
EDGE = "#3d4b5c"
FAINT = "#9aa5b1"
FILLS = {
    "menu": ("#e8f0fe", "#1f6feb"),
    "counselor": ("#e6f4ea", "#1e8e3e"),
    "backup line": ("#e6f4ea", "#1e8e3e"),
    "voicemail": ("#fef7e0", "#b06000"),
    "hang up": ("#f1f3f4", "#5f6368"),
    # What a text can do: the crisis reply stands out; compliance words stay grey.
    "crisis": ("#fce8e6", "#c5221f"),
    "callback": ("#e6f4ea", "#1e8e3e"),
    "reply": ("#e8f0fe", "#1f6feb"),
    "opt out": ("#f1f3f4", "#5f6368"),
    "opt in": ("#f1f3f4", "#5f6368"),
    "help": ("#f1f3f4", "#5f6368"),
}
PLAIN = ("#ffffff", "#5f6b7a")
ROUNDED = ("counselor", "backup line", "voicemail", "entry", "callback", "crisis")


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float
    lines: tuple[tuple[str, str], ...]  # (text, style): "title", "kind", "loop"

    @property
    def middle(self) -> float:
        return self.y + self.height / 2


def box_width(lines: Sequence[tuple[str, str]]) -> float:
    widest = max(text_width(text, FONT if style == "title" else SMALL) for text, style in lines)
    return max(widest + 2 * PAD, 90)


def arrow_defs(prefix: str) -> Markup:
    def arrow(name: str, colour: str) -> Markup:
        return element(
            "marker",
            {
                "id": f"{prefix}-{name}",
                "viewBox": "0 0 10 10",
                "refX": 9,
                "refY": 5,
                "markerWidth": 7,
                "markerHeight": 7,
                "orient": "auto-start-reverse",
            },
            element("path", {"d": "M0,0 L10,5 L0,10 z", "fill": colour}),
        )

    return element("defs", None, arrow("arrow", EDGE), arrow("faint", FAINT))


def box(frame: Box, kind: str, title: str, node: str | None) -> Markup:
    """A box drawn by its kind (menu, counselor, crisis, …), its lines centred
    in it, `title` as its tooltip and `node` as its `data-node`."""
    fill, stroke = FILLS.get(kind, PLAIN)
    rounded = frame.height / 2 if kind in ROUNDED else 6
    shape = element(
        "rect",
        {
            "x": frame.x,
            "y": frame.y,
            "width": frame.width,
            "height": frame.height,
            "rx": min(rounded, 18),
            "fill": fill,
            "stroke": stroke,
            "stroke-width": 2 if kind == "menu" else 1.3,
        },
    )
    texts = []
    for n, (text, style) in enumerate(frame.lines):
        size = FONT if style == "title" else SMALL
        texts.append(
            element(
                "text",
                {
                    "x": frame.x + frame.width / 2,
                    "y": frame.y + 7 + LINE * n + 11,
                    "text-anchor": "middle",
                    "font-size": size,
                    "font-weight": "bold" if style == "title" else None,
                    "font-style": "italic" if style == "kind" else None,
                    "fill": INK if style == "title" else MUTED,
                },
                shorten(text, size, frame.width - PAD),
            )
        )
    return element(
        "g",
        {"class": f"node node-{kind.replace(' ', '-')}", "data-node": node},
        element("title", None, title),
        shape,
        *texts,
    )
