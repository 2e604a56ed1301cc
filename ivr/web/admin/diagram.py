"""The phone menu and the SMS keywords as SVG diagrams for the Flows page.

Both are drawn from the graphs `helpline flows graph` draws (see
`ivr.content.graph`), laid out here in Python, so the page needs no script.
The menu reads left to right, one layer per key press from the greeting
(`ivr.web.admin.layout`). Ways back (to the main menu, to other topics, to a
counselor from deep in the menu) are faint, their keys in a tooltip; a menu's
choice that repeats it is written in its box; the choices that work in every
menu are listed underneath, not drawn from every menu.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from ivr.content.graph import Link, MenuGraph, Step, menu_graph, text_routes
from ivr.content.model import Content
from ivr.web.admin.boxes import (
    EDGE,
    FAINT,
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
from ivr.web.admin.layout import layered
from ivr.web.admin.sms_diagram import texts_svg
from ivr.web.admin.svg import document, element, number, text_width

ENTRY = "\0call"  # the incoming call: a key no node id can be


def phone_diagram(content: Content) -> Markup:
    return menu_svg(menu_graph(content))


def texts_diagram(content: Content) -> Markup:
    return texts_svg(text_routes(content))


def content_diagram(content: Content) -> Markup:
    """Both pictures, the phone menu first, for the Content page."""
    return phone_diagram(content) + texts_diagram(content)


# The phone menu -------------------------------------------------------------


@dataclass(frozen=True)
class Edge:
    """The links from one step to another, drawn as one line."""

    source: str
    target: str
    labels: tuple[str, ...]
    fallback: bool  # every link of it is taken when the caller does not choose
    keys: frozenset[str]

    @property
    def label(self) -> str:
        return "; ".join(label for label in self.labels if label)


def _edges(links: Sequence[Link]) -> list[Edge]:
    """One edge per (source, target), in the order first linked: a menu's
    choice and its no-answer fallback to the same step share a line."""
    grouped: dict[tuple[str, str], list[Link]] = {}
    for link in links:
        grouped.setdefault((link.source, link.target), []).append(link)
    return [
        Edge(
            source,
            target,
            tuple(link.label for link in group),
            all(link.fallback for link in group),
            frozenset(key for link in group for key in link.keys),
        )
        for (source, target), group in grouped.items()
    ]


def _lines(step: Step, loop: Edge | None) -> tuple[tuple[str, str], ...]:
    kind = f"{step.kind}: {step.detail}" if step.detail else step.kind
    lines = [(step.id, "title"), (kind, "kind")]
    if loop is not None:
        lines.append(("↻ " + loop.label, "loop"))
    return tuple(lines)


def _columns(
    layers: Sequence[Sequence[str]],
    lines: dict[str, tuple[tuple[str, str], ...]],
    gaps: Sequence[float],
) -> dict[str, Box]:
    """Columns as wide as their widest box, centred on the tallest column."""
    heights = {key: 2 * 7 + LINE * len(lines[key]) for layer in layers for key in layer}

    def used(layer: Sequence[str]) -> float:
        return sum(heights[key] for key in layer) + ROW_GAP * (len(layer) - 1)

    tallest = max(used(layer) for layer in layers)
    boxes: dict[str, Box] = {}
    x = float(MARGIN)
    for layer, gap in zip(layers, gaps, strict=True):
        width = max(box_width(lines[key]) for key in layer)
        y = MARGIN + (tallest - used(layer)) / 2
        for key in layer:
            boxes[key] = Box(x, y, width, heights[key], lines[key])
            y += heights[key] + ROW_GAP
        x += width + gap
    return boxes


def menu_svg(graph: MenuGraph) -> Markup:
    steps = {step.id: step for step in graph.steps}
    edges = _edges(
        [Link(ENTRY, graph.start)]
        + [link for link in graph.links if link.source in steps and link.target in steps]
    )
    keys = [ENTRY, *steps]
    placed = layered(keys, [(e.source, e.target) for e in edges], ENTRY)
    layers: list[list[str]] = [[] for _ in range(max(p.layer for p in placed.values()) + 1)]
    for key in sorted(keys, key=lambda k: (placed[k].layer, placed[k].position)):
        layers[placed[key].layer].append(key)
    loops = {e.source: e for e in edges if e.source == e.target}
    lines: dict[str, tuple[tuple[str, str], ...]] = {ENTRY: (("incoming call", "title"),)}
    lines.update({s.id: _lines(s, loops.get(s.id)) for s in graph.steps})
    ahead = [e for e in edges if placed[e.target].layer > placed[e.source].layer]
    everywhere = [(link.target, frozenset(link.keys)) for link in graph.anywhere]
    back = [
        e
        for e in edges
        if e not in ahead
        and e.source != e.target
        and not any(e.target == target and e.keys & pressed for target, pressed in everywhere)
    ]
    gaps = [70.0] * len(layers)
    for edge in ahead:
        column = placed[edge.source].layer
        gaps[column] = max(gaps[column], text_width(edge.label, SMALL) + 40)
    boxes = _columns(layers, lines, gaps)
    fan_out = {key: sum(1 for e in ahead if e.source == key and e.label) for key in keys}
    fan_in = {key: sum(1 for e in ahead if e.target == key and e.label) for key in keys}
    body = [arrow_defs("menu")]
    body += [_back_edge(edge, boxes) for edge in back]
    body += [_forward_edge(edge, boxes) for edge in ahead]
    body += [_step_box(steps.get(key), boxes[key]) for key in keys]
    body += [
        _forward_label(
            edge,
            boxes,
            gaps[placed[edge.source].layer],
            near_target=fan_out[edge.source] > fan_in[edge.target],
        )
        for edge in ahead
        if edge.label
    ]
    right = max(frame.x + frame.width for frame in boxes.values()) + MARGIN
    bottom = max(frame.y + frame.height for frame in boxes.values()) + 28
    notes = [
        "From any menu: " + "; ".join(f"{link.label} → {link.target}" for link in graph.anywhere),
        "Dashed: when the caller does not choose. "
        "Faint: ways back or across (their keys in a tooltip).",
    ]
    for n, note in enumerate(notes):
        body.append(element("text", {"x": MARGIN, "y": bottom + n * 18, "fill": MUTED}, note))
    width = max(right, max(text_width(note, FONT) for note in notes) + 2 * MARGIN)
    height = bottom + len(notes) * 18
    return document(width, height, "The phone menu", _menu_description(graph), *body)


def _menu_description(graph: MenuGraph) -> str:
    return f"{len(graph.steps)} steps from {graph.start}: " + "; ".join(
        f"{link.source} {link.label or 'then'} → {link.target}"
        for link in graph.links
        if link.source != link.target
    )


def _curve(x1: float, y1: float, x2: float, y2: float) -> tuple[float, ...]:
    bend = (x2 - x1) / 2
    return (x1, y1, x1 + bend, y1, x2 - bend, y2, x2, y2)


def _at(curve: tuple[float, ...], t: float) -> tuple[float, float]:
    x1, y1, c1x, c1y, c2x, c2y, x2, y2 = curve
    u = 1 - t
    return (
        u**3 * x1 + 3 * u * u * t * c1x + 3 * u * t * t * c2x + t**3 * x2,
        u**3 * y1 + 3 * u * u * t * c1y + 3 * u * t * t * c2y + t**3 * y2,
    )


def _path(curve: tuple[float, ...]) -> str:
    x1, y1, c1x, c1y, c2x, c2y, x2, y2 = (number(v) for v in curve)
    return f"M{x1},{y1} C{c1x},{c1y} {c2x},{c2y} {x2},{y2}"


def _forward_curve(edge: Edge, boxes: dict[str, Box]) -> tuple[float, ...]:
    source, target = boxes[edge.source], boxes[edge.target]
    return _curve(source.x + source.width, source.middle, target.x, target.middle)


def _tooltip(edge: Edge) -> str:
    source = "incoming call" if edge.source == ENTRY else edge.source
    return f"{source} → {edge.target}" + (f": {edge.label}" if edge.label else "")


def _forward_edge(edge: Edge, boxes: dict[str, Box]) -> Markup:
    return element(
        "path",
        {
            "d": _path(_forward_curve(edge, boxes)),
            "fill": "none",
            "stroke": EDGE,
            "stroke-width": 1.3,
            "stroke-dasharray": "5 4" if edge.fallback else None,
            "marker-end": "url(#menu-arrow)",
            "class": "edge",
        },
        element("title", None, _tooltip(edge)),
    )


def _forward_label(edge: Edge, boxes: dict[str, Box], gap: float, *, near_target: bool) -> Markup:
    """The label sits just above the line, in the gap after the source's column
    (for an edge that skips columns that is still clear of boxes): against the
    gap's right side when the source fans out to many steps, where their lines
    are apart, else against its left side, where lines coming in are apart."""
    curve = _forward_curve(edge, boxes)
    start = boxes[edge.source].x + boxes[edge.source].width
    x = start + gap - 10 if near_target else start + 10
    low, high = 0.0, 1.0
    for _ in range(30):  # x grows along the curve: bisect for the t at `x`
        middle = (low + high) / 2
        low, high = (middle, high) if _at(curve, middle)[0] < x else (low, middle)
    return element(
        "text",
        {
            "x": x,
            "y": _at(curve, low)[1] - 4,
            "text-anchor": "end" if near_target else "start",
            "font-size": SMALL,
            "fill": INK,
            "stroke": "#ffffff",
            "stroke-width": 4,
            "paint-order": "stroke",
            "class": "edge-label",
        },
        edge.label,
    )


def _back_edge(edge: Edge, boxes: dict[str, Box]) -> Markup:
    """From the source's left side, round to the target's top or bottom."""
    source, target = boxes[edge.source], boxes[edge.target]
    x1, y1 = source.x, source.middle
    x2 = target.x + target.width / 2
    below = target.middle > source.middle
    y2 = target.y if below else target.y + target.height
    reach = 40.0
    curve = (x1, y1, x1 - reach, y1, x2, y2 + (-reach if below else reach), x2, y2)
    return element(
        "path",
        {
            "d": _path(curve),
            "fill": "none",
            "stroke": FAINT,
            "stroke-opacity": 0.6,
            "stroke-dasharray": "5 4" if edge.fallback else None,
            "marker-end": "url(#menu-faint)",
            "class": "edge edge-back",
        },
        element("title", None, _tooltip(edge)),
    )


def _step_box(step: Step | None, frame: Box) -> Markup:
    if step is None:
        return box(frame, "entry", "incoming call", None)
    return box(frame, step.kind, f"{step.id} ({frame.lines[1][0]})", step.id)
