"""What a text to the line can say, as an SVG diagram: each way the line reads
a text (crisis words, compliance words, keywords, anything else), in the order
it reads them, from `ivr.content.graph.text_routes`."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from ivr.content.graph import TextRoute
from ivr.web.admin.boxes import (
    EDGE,
    FONT,
    INK,
    LINE,
    MARGIN,
    MUTED,
    ROW_GAP,
    SMALL,
    Box,
    arrow_defs,
    box,
    box_width,
)
from ivr.web.admin.svg import document, element, number, shorten, text_width

_DOES = {
    "crisis": "reply {reply} at once, alert on call",
    "opt out": "opt out, reply {reply}",
    "opt in": "opt back in, reply {reply}",
    "callback": "ask for a call back, reply {reply}",
    "person": "offer a conversation to the counselors on call, reply {reply}",
    "language": "speak {language}, reply {reply}",
}


def _route_lines(route: TextRoute) -> tuple[tuple[str, str], ...]:
    does = _DOES.get(route.action, "reply {reply}")
    return (
        (route.name, "title"),
        (does.format(reply=route.reply, language=route.language), "kind"),
    )


def _words(route: TextRoute, room: float) -> str:
    if not route.words:
        return "anything else"
    shown = ", ".join(route.words[:3])
    if len(route.words) > 3:
        shown += f" … (+{len(route.words) - 3})"
    return shorten(shown, SMALL, room)


def texts_svg(routes: Sequence[TextRoute]) -> Markup:
    """A text arrives on the left; what it can say fans out to the right, in
    the order the line reads it: the first that matches answers."""
    entry_lines = (("a text arrives", "title"),)
    route_lines = [_route_lines(route) for route in routes]
    each = 2 * 7 + LINE * 2
    labels = [_words(route, 260.0) for route in routes]
    left = MARGIN + box_width(entry_lines)
    right = left + max((text_width(label, SMALL) for label in labels), default=0) + 70
    width_each = max((box_width(lines) for lines in route_lines), default=90)
    total = max(len(routes), 1) * (each + ROW_GAP) - ROW_GAP
    entry = Box(
        MARGIN, MARGIN + (total - 2 * 7 - LINE) / 2, left - MARGIN, 2 * 7 + LINE, entry_lines
    )
    body = [arrow_defs("texts")]
    for n, (route, label, lines) in enumerate(zip(routes, labels, route_lines, strict=True)):
        frame = Box(right, MARGIN + n * (each + ROW_GAP), width_each, each, lines)
        words = ", ".join(route.words) or "anything else"
        body.append(
            element(
                "path",
                {
                    "d": f"M{number(left)},{number(entry.middle)} "
                    f"H{number(left + 20)} V{number(frame.middle)} H{number(frame.x)}",
                    "fill": "none",
                    "stroke": EDGE,
                    "stroke-width": 1.2,
                    "marker-end": "url(#texts-arrow)",
                    "class": "edge",
                },
                element("title", None, f"{route.name}: {words}"),
            )
        )
        body.append(
            element(
                "text",
                {
                    "x": frame.x - 8,
                    "y": frame.middle - 4,
                    "text-anchor": "end",
                    "font-size": SMALL,
                    "fill": INK,
                    "class": "edge-label",
                },
                element("title", None, words),
                label,
            )
        )
        body.append(box(frame, route.action, f"{route.name}: {words}", None))
    body.append(box(entry, "entry", "a text arrives", None))
    note = "Read top to bottom: the first that matches answers."
    bottom = MARGIN + total + 24
    body.append(element("text", {"x": MARGIN, "y": bottom, "fill": MUTED}, note))
    description = "; ".join(
        f"{n}. {route.name}: {', '.join(route.words) or 'anything else'}"
        for n, route in enumerate(routes, start=1)
    )
    width = max(right + width_each, text_width(note, FONT) + MARGIN) + MARGIN
    return document(width, bottom + MARGIN, "What a text can say", description, *body)
